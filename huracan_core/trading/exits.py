"""Exit rules of the shadow trader, shared with consensus (the take-profit sets the expected edge).

Defaults: stop loss by regime (TREND 50, RANGE 100, PANIC 150 bps; UNKNOWN 75 — between trend and range,
because an unclassified market is neither clean nor mean-reverting); take profit by confidence band
(< 0.65 → 15 bps, 0.65–0.80 → 20 bps, ≥ 0.80 → 30 bps); trailing stop once the best excursion exceeds
``trail_start_bps`` (15): the stop moves to entry + ``trail_keep`` × (peak gain − 15 bps), i.e. it keeps half of
the gain beyond 15 bps, and only ever tightens; max hold by regime (TREND 240, RANGE 120, PANIC 30,
UNKNOWN 120 minutes), converted to bars of the timeframe (at least one bar).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from huracan_core.timeframes import timeframe_seconds


@dataclass(frozen=True)
class ExitConfig:
    stop_bps: Mapping[str, float] = field(
        default_factory=lambda: {"TREND": 50.0, "RANGE": 100.0, "PANIC": 150.0, "UNKNOWN": 75.0}
    )
    take_profit_bands: tuple[tuple[float, float], ...] = ((0.0, 15.0), (0.65, 20.0), (0.80, 30.0))
    trail_start_bps: float = 15.0
    trail_keep: float = 0.5
    max_hold_minutes: Mapping[str, float] = field(
        default_factory=lambda: {"TREND": 240.0, "RANGE": 120.0, "PANIC": 30.0, "UNKNOWN": 120.0}
    )
    notional: float = 1000.0
    reduced_size: float = 0.5


def take_profit_expr(config: ExitConfig, confidence: pl.Expr) -> pl.Expr:
    """Take profit (bps) of the highest confidence band the value reaches."""
    bands = sorted(config.take_profit_bands)
    expr = pl.lit(bands[0][1])
    for low, bps in bands[1:]:
        expr = pl.when(confidence >= low).then(pl.lit(bps)).otherwise(expr)
    return expr.cast(pl.Float64)


def stop_expr(config: ExitConfig, regime: pl.Expr) -> pl.Expr:
    return regime.replace_strict(
        dict(config.stop_bps), default=config.stop_bps["UNKNOWN"], return_dtype=pl.Float64
    ).fill_null(config.stop_bps["UNKNOWN"])


def max_hold_bars_expr(config: ExitConfig, regime: pl.Expr, timeframe: str) -> pl.Expr:
    minutes = regime.replace_strict(
        dict(config.max_hold_minutes), default=config.max_hold_minutes["UNKNOWN"], return_dtype=pl.Float64
    ).fill_null(config.max_hold_minutes["UNKNOWN"])
    return (minutes * 60 / timeframe_seconds(timeframe)).floor().clip(lower_bound=1).cast(pl.Int64)
