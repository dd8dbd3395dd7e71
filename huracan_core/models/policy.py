"""Who decides a bar's trade: a coin model's predicted after-cost edge, or the rules-only consensus.

Both produce the shadow trader's decision columns on the same bars (``inputs.model_bars``), so a model's
out-of-sample folds, its rules-only baseline and the live day are traded by one code path. A model trade keeps the
consensus confidence for the take-profit band: the labels it learned from were priced with the same exits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import polars as pl

from huracan_core.models.artifacts import read_model_folder
from huracan_core.models.inputs import matrix, with_embedding
from huracan_core.storage.store import ArtifactStore

if TYPE_CHECKING:
    import lightgbm

    from huracan_core.models.encoder import FittedEncoder


#: the model's trading rules: ``absolute`` trades a side whose predicted edge beats the safety margin;
#: ``calibrated`` trades a side whose predicted edge beats its threshold chosen on a held-out slice of the training
#: window (``calibration.py``), and never a side the slice disabled
DECISION_POLICIES = ("absolute", "calibrated")


@dataclass(frozen=True)
class DecisionRule:
    """When a model trades: a threshold on the predicted after-cost edge per side (None: the side never trades).

    ``absolute`` is the rule with both thresholds at the margin. Where both sides clear their thresholds, the one
    that clears it by more is taken (the long on a tie), so under ``absolute`` the larger edge wins."""

    policy: str
    margin_bps: float
    long_threshold_bps: float | None
    short_threshold_bps: float | None

    def __post_init__(self) -> None:
        if self.policy not in DECISION_POLICIES:
            raise ValueError(f"decision policy {self.policy!r} is not one of {', '.join(DECISION_POLICIES)}")

    @classmethod
    def absolute(cls, margin_bps: float) -> DecisionRule:
        return cls("absolute", margin_bps, margin_bps, margin_bps)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DecisionRule:
        """From a model folder's ``config.json``: its ``decision``; a folder written before decisions were
        recorded traded by the absolute rule under its ``safety_margin_bps``."""
        decision = config.get("decision")
        if decision is None:
            return cls.absolute(float(config["safety_margin_bps"]))
        return cls(
            str(decision["policy"]),
            float(decision["margin_bps"]),
            _threshold(decision["long_threshold_bps"]),
            _threshold(decision["short_threshold_bps"]),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "margin_bps": self.margin_bps,
            "long_threshold_bps": self.long_threshold_bps,
            "short_threshold_bps": self.short_threshold_bps,
        }

    def describe(self) -> str:
        """``calibrated: long > 4.2 bps, short disabled``."""

        def side(name: str, threshold: float | None) -> str:
            return f"{name} disabled" if threshold is None else f"{name} > {threshold:.1f} bps"

        return f"{self.policy}: {side('long', self.long_threshold_bps)}, {side('short', self.short_threshold_bps)}"

    def decide(self, bars: pl.DataFrame, long_edge: np.ndarray, short_edge: np.ndarray, version: str) -> pl.DataFrame:
        return model_decisions(bars, long_edge, short_edge, self, version)


def _threshold(value: object) -> float | None:
    return None if value is None else float(cast(float, value))


def model_decisions(
    bars: pl.DataFrame, long_edge: np.ndarray, short_edge: np.ndarray, rule: DecisionRule, version: str
) -> pl.DataFrame:
    """Long when the predicted after-cost edge of a long clears the rule's long threshold by at least what the
    short clears its own by; short likewise, strictly. A disabled side never trades."""
    long_edge, short_edge = np.asarray(long_edge, np.float64), np.asarray(short_edge, np.float64)
    long_over = long_edge - (np.inf if rule.long_threshold_bps is None else rule.long_threshold_bps)
    short_over = short_edge - (np.inf if rule.short_threshold_bps is None else rule.short_threshold_bps)
    go_long = (long_over > 0) & (long_over >= short_over)
    go_short = (short_over > 0) & (short_over > long_over)
    direction = np.where(go_long, 1, np.where(go_short, -1, 0)).astype(np.int8)
    edge = np.where(go_short, short_edge, np.where(go_long, long_edge, np.maximum(long_edge, short_edge)))
    return bars.select(
        "timestamp",
        pl.Series("direction", direction, dtype=pl.Int8),
        pl.col("consensus_confidence").fill_null(0.0).alias("confidence"),
        pl.when(pl.Series(direction) != 0).then(pl.lit("TAKE")).otherwise(pl.lit("SKIP")).alias("recommendation"),
        pl.col("engines_agreeing"),
        pl.Series("expected_edge_bps", edge, dtype=pl.Float64),
        pl.lit("model").alias("policy"),
        pl.lit(version).alias("model_version"),
    )


def rules_decisions(bars: pl.DataFrame) -> pl.DataFrame:
    """The consensus' own decisions (the fallback policy and the baseline every model is compared with)."""
    return bars.select(
        "timestamp",
        pl.col("consensus_direction").alias("direction"),
        pl.col("consensus_confidence").alias("confidence"),
        pl.col("consensus_recommendation").alias("recommendation"),
        "engines_agreeing",
        pl.col("consensus_expected_edge_bps").alias("expected_edge_bps"),
        pl.lit("rules").alias("policy"),
        pl.lit("").alias("model_version"),
    )


@dataclass(frozen=True)
class CoinModel:
    """A trained model as loaded from its verified folder: what it needs to decide on new bars."""

    folder: str
    #: where its training data ends: it may trade only bars at or after this moment
    cutoff: datetime
    booster: lightgbm.Booster
    columns: tuple[str, ...]
    encoder: FittedEncoder | None
    #: the rule it trades by, with the thresholds chosen in training (``config.json``'s ``decision``)
    rule: DecisionRule

    @property
    def margin_bps(self) -> float:
        return self.rule.margin_bps

    def predict(self, bars: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Predicted after-cost edge (bps) of a long and of a short entered after each bar."""
        frame = with_embedding(bars, self.encoder)
        # a dense matrix in, no contributions asked: one array each (the stubs also allow sparse results)
        return (
            cast(np.ndarray, self.booster.predict(matrix(frame, self.columns, side=1))),
            cast(np.ndarray, self.booster.predict(matrix(frame, self.columns, side=-1))),
        )

    def decisions(self, bars: pl.DataFrame) -> pl.DataFrame:
        long_edge, short_edge = self.predict(bars)
        return self.rule.decide(bars, long_edge, short_edge, self.folder)


def load_coin_model(store: ArtifactStore, folder: str) -> CoinModel:
    """Every file verified against ``sha256.txt`` before anything is parsed (``CorruptModelError`` otherwise)."""
    import lightgbm

    from huracan_core.models.encoder import FittedEncoder

    files = read_model_folder(store, folder)
    spec = json.loads(files["features.json"])
    config = json.loads(files["config.json"])
    encoder = FittedEncoder.from_bytes(files["encoder.pt"]) if "encoder.pt" in files else None
    return CoinModel(
        folder=folder,
        cutoff=datetime.fromisoformat(config["cutoff"]),
        booster=lightgbm.Booster(model_str=files["model.bin"].decode()),
        columns=tuple(spec["columns"]),
        encoder=encoder,
        rule=DecisionRule.from_config(config),
    )
