"""Who decides a bar's trade: a coin model's predicted after-cost edge, or the rules-only consensus.

Both produce the shadow trader's decision columns on the same bars (``inputs.model_bars``), so a model's
out-of-sample folds, its rules-only baseline and the live day are traded by one code path. A model trade keeps the
consensus confidence for the take-profit band: the labels it learned from were priced with the same exits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

import numpy as np
import polars as pl

from huracan_core.models.artifacts import read_model_folder
from huracan_core.models.inputs import matrix, with_embedding
from huracan_core.storage.store import ArtifactStore

if TYPE_CHECKING:
    import lightgbm

    from huracan_core.models.encoder import FittedEncoder


def model_decisions(
    bars: pl.DataFrame, long_edge: np.ndarray, short_edge: np.ndarray, margin_bps: float, version: str
) -> pl.DataFrame:
    """Long when the predicted after-cost edge of a long beats the margin and the short's; short likewise."""
    long_edge, short_edge = np.asarray(long_edge, np.float64), np.asarray(short_edge, np.float64)
    go_long = (long_edge > margin_bps) & (long_edge >= short_edge)
    go_short = (short_edge > margin_bps) & (short_edge > long_edge)
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
    margin_bps: float

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
        return model_decisions(bars, long_edge, short_edge, self.margin_bps, self.folder)


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
        margin_bps=float(config["safety_margin_bps"]),
    )
