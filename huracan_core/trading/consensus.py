"""Consensus: from many engines' votes to one decision per bar, and whether it is worth paying the costs.

* Direction: sign of the weighted vote Σ meta_weight × affinity × confidence × direction over active engines.
* Agreement: the share of active engines (direction ≠ 0) voting that direction — unanimous (1.0), strong
  (≥ 0.75), moderate (≥ 0.60), weak (≥ 0.50), divided (< 0.50; possible because the weighted vote can side
  with fewer engines); it adds +0.10 / +0.05 / 0 / −0.05 / −0.15 to the confidence.
* Confidence: Σ w × affinity × confidence / Σ w over the agreeing engines (w = meta weight), so an engine out
  of its regime discounts the level, plus the agreement adjustment, clipped to [0, 1].
* Expected edge (bps) = confidence × take profit of its confidence band: confidence is read as the chance of
  reaching the take profit, other outcomes counted as flat. It is a prior, not a calibrated forecast.
* Recommendation: SKIP when there is no direction, the agreement is divided, in PANIC any active engine
  disagrees, the confidence is under the regime's threshold, or the edge does not beat the round-trip cost
  plus ``safety_margin_bps``; otherwise REDUCE_SIZE for weak agreement and TAKE for the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from huracan_core.trading.costs import CostModel, bar_costs
from huracan_core.trading.engines import (
    DEFAULT_ENGINES,
    Engine,
    engine_names,
    run_engines,
)
from huracan_core.trading.exits import ExitConfig, take_profit_expr
from huracan_core.trading.meta import MetaConfig, meta_weights

AGREEMENT_LEVELS = ("unanimous", "strong", "moderate", "weak", "divided", "none")
#: one decision per bar (``combine``); the signals asset stores these after the engines' own columns
DECISION_COLUMNS = (
    "timestamp",
    "regime",
    "direction",
    "confidence",
    "agreement",
    "recommendation",
    "engines_agreeing",
    "expected_edge_bps",
    "cost_bps",
)


@dataclass(frozen=True)
class ConsensusConfig:
    thresholds: Mapping[str, float] = field(
        default_factory=lambda: {"TREND": 0.50, "RANGE": 0.55, "PANIC": 0.65, "UNKNOWN": 0.60}
    )
    agreement_bonus: Mapping[str, float] = field(
        default_factory=lambda: {"unanimous": 0.10, "strong": 0.05, "moderate": 0.0, "weak": -0.05, "divided": -0.15}
    )
    safety_margin_bps: float = 3.0
    meta: MetaConfig = MetaConfig()
    exits: ExitConfig = ExitConfig()


def combine(
    frame: pl.DataFrame,
    signals: pl.DataFrame,
    cost_bps: pl.Series,
    config: ConsensusConfig = ConsensusConfig(),
    starts: np.ndarray | None = None,
) -> pl.DataFrame:
    """One decision per bar from ``signals`` (``run_engines`` output on ``frame``) and the bar's round-trip
    cost: timestamp, regime, direction, confidence, agreement, recommendation, engines_agreeing,
    expected_edge_bps, cost_bps. ``starts``: where the meta combiner starts afresh (``meta_weights``)."""
    names = engine_names(signals)
    if not names:
        raise ValueError("no engine could run on this frame: its feature columns are missing")
    regime = (
        frame["regime"].fill_null("UNKNOWN")
        if "regime" in frame.columns
        else pl.repeat("UNKNOWN", frame.height, eager=True)
    )
    direction = signals.select([pl.col(f"{n}_direction") for n in names]).to_numpy().astype(np.int8)
    confidence = signals.select([pl.col(f"{n}_confidence") for n in names]).to_numpy().astype(np.float64)
    affinity = signals.select([pl.col(f"{n}_affinity") for n in names]).to_numpy().astype(np.float64)
    weights = meta_weights(
        direction, frame["open"].to_numpy(), frame["close"].to_numpy(), cost_bps.to_numpy(), config.meta, starts
    )

    vote = (weights * affinity * confidence * direction).sum(axis=1)
    majority = np.sign(vote).astype(np.int8)
    active = direction != 0
    agrees = active & (direction == majority[:, None]) & (majority[:, None] != 0)
    n_active = active.sum(axis=1)
    share = np.divide(agrees.sum(axis=1), n_active, out=np.zeros(len(vote)), where=n_active > 0)
    agree_w = np.where(agrees, weights, 0.0)
    sum_w = agree_w.sum(axis=1)
    base = np.divide((agree_w * affinity * confidence).sum(axis=1), sum_w, out=np.zeros(len(vote)), where=sum_w > 0)

    reached = [majority == 0, share >= 1.0, share >= 0.75, share >= 0.60, share >= 0.50]
    levels = ["none", "unanimous", "strong", "moderate", "weak"]  # the first reached, else "divided"
    level = np.select(reached, levels, default="divided")
    bonus = np.select(
        reached,
        [config.agreement_bonus.get(name, 0.0) for name in levels],
        default=config.agreement_bonus.get("divided", 0.0),
    ).astype(np.float64)
    final_conf = np.where(majority == 0, 0.0, np.clip(base + bonus, 0.0, 1.0))
    agreeing = pl.DataFrame({n: agrees[:, i] for i, n in enumerate(names)}).select(
        pl.concat_str([pl.when(pl.col(n)).then(pl.lit(n)) for n in names], separator=",", ignore_nulls=True).alias(
            "engines_agreeing"
        )
    )

    decisions = pl.DataFrame(
        {
            "timestamp": frame["timestamp"],
            "regime": regime,
            "direction": pl.Series(majority, dtype=pl.Int8),
            "confidence": final_conf,
            "agreement": pl.Series(level, dtype=pl.String),
            "unanimous_active": (share >= 1.0),
            "engines_agreeing": agreeing["engines_agreeing"],
            "cost_bps": cost_bps.fill_null(0.0).cast(pl.Float64),
        }
    ).with_columns(
        expected_edge_bps=pl.col("confidence") * take_profit_expr(config.exits, pl.col("confidence")),
        threshold=pl.col("regime").replace_strict(
            dict(config.thresholds), default=config.thresholds["UNKNOWN"], return_dtype=pl.Float64
        ),
    )
    skip = (
        (pl.col("direction") == 0)
        | (pl.col("agreement") == "divided")
        | ((pl.col("regime") == "PANIC") & ~pl.col("unanimous_active"))
        | (pl.col("confidence") < pl.col("threshold"))
        | (pl.col("expected_edge_bps") <= pl.col("cost_bps") + config.safety_margin_bps)
    )
    recommendation = (
        pl.when(skip)
        .then(pl.lit("SKIP"))
        .when(pl.col("agreement") == "weak")
        .then(pl.lit("REDUCE_SIZE"))
        .otherwise(pl.lit("TAKE"))
    )
    return decisions.with_columns(recommendation=recommendation).select(DECISION_COLUMNS)


def decide(
    frame: pl.DataFrame,
    symbol: str,
    exchange: str = "binance",
    engines: tuple[Engine, ...] = DEFAULT_ENGINES,
    *,
    costs: CostModel,
    config: ConsensusConfig = ConsensusConfig(),
) -> pl.DataFrame:
    """Engines → costs → consensus for one coin's frame (candles joined with features and regime)."""
    return vote(frame, symbol, exchange, engines, costs=costs, config=config).select(DECISION_COLUMNS)


def vote(
    frame: pl.DataFrame,
    symbol: str,
    exchange: str = "binance",
    engines: tuple[Engine, ...] = DEFAULT_ENGINES,
    *,
    costs: CostModel,
    config: ConsensusConfig = ConsensusConfig(),
    segment: str | None = None,
) -> pl.DataFrame:
    """Every engine's vote (``{engine}_direction|confidence|reason|affinity``) and the consensus decision per bar.

    ``segment``: a column splitting the frame into windows (in order, each contiguous) whose votes are each what
    the window alone would give: the engines' trailing windows and the meta combiner restart at every segment."""
    votes = run_engines(frame, engines, segment)
    cost = bar_costs(frame, costs, exchange, symbol, config.exits.notional)["cost_bps"]
    starts = None if segment is None else frame[segment].is_first_distinct().to_numpy()
    return combine(frame, votes, cost, config, starts).hstack(votes.drop("timestamp"))
