"""Engines that follow a move: trend, breakout, volatility expansion and leader (relative strength)."""

from __future__ import annotations

import polars as pl

from huracan_core.trading.engines.base import (
    Engine,
    EngineConfig,
    centred,
    scale_free,
    signed_like,
    unit,
)

TREND_CONFIG = EngineConfig(
    weights={"trend_strength": 0.25, "ema_slope": 0.20, "momentum_slope": 0.20, "htf_bias": 0.20, "adx": 0.15},
    affinity={"TREND": 1.0},
    default_affinity=0.3,
)
BREAKOUT_CONFIG = EngineConfig(
    weights={"ignition": 0.35, "breakout_quality": 0.30, "thrust": 0.20, "nr7_density": 0.15},
    affinity={"TREND": 0.8, "RANGE": 0.5, "PANIC": 0.2, "UNKNOWN": 0.5},
)
VOLATILITY_CONFIG = EngineConfig(
    weights={"volatility_ratio": 0.4, "compression": 0.3, "bb_width_pct": 0.3},
    affinity={"TREND": 0.7, "RANGE": 0.5, "PANIC": 0.3, "UNKNOWN": 0.5},
)
LEADER_CONFIG = EngineConfig(
    weights={"rs_rank": 0.6, "ret_20": 0.4},
    affinity={"TREND": 1.0, "RANGE": 0.4, "PANIC": 0.2, "UNKNOWN": 0.5},
)


def _trend_signals() -> dict[str, pl.Expr]:
    """Slopes and HTF bias carry the sign; trend strength and ADX only say how much to believe it."""
    core = scale_free("ema_slope") + scale_free("momentum_slope") + pl.col("htf_bias").clip(-1.0, 1.0)
    return {
        "trend_strength": signed_like(scale_free("trend_strength").abs(), core),
        "ema_slope": scale_free("ema_slope"),
        "momentum_slope": scale_free("momentum_slope"),
        "htf_bias": pl.col("htf_bias").clip(-1.0, 1.0),
        "adx": signed_like(unit("adx", 100.0), core),
    }


def _breakout_signals() -> dict[str, pl.Expr]:
    """Breakout features measure quality, not side: the side is the last five bars' move."""
    side = pl.col("ret_5")
    return {
        "ignition": signed_like(scale_free("ignition").abs(), side),
        "breakout_quality": signed_like(scale_free("breakout_quality").abs(), side),
        "thrust": signed_like(scale_free("thrust").abs(), side),
        "nr7_density": signed_like(pl.col("nr7_density").clip(0.0, 1.0), side),
    }


def _volatility_signals() -> dict[str, pl.Expr]:
    """Range expanding out of a squeeze (compression on the previous bar), in the direction of the bar."""
    side = pl.col("ret_1")
    return {
        "volatility_ratio": signed_like(unit((pl.col("volatility_ratio") - 1.0).clip(lower_bound=0.0), 1.0), side),
        "compression": signed_like(scale_free(pl.col("compression").shift(1)).abs(), side),
        "bb_width_pct": signed_like(scale_free(pl.col("bb_width_pct").diff()).clip(lower_bound=0.0), side),
    }


def _leader_signals() -> dict[str, pl.Expr]:
    """Leaders keep leading: top of the universe's relative-strength ranking, confirmed by its own move."""
    return {"rs_rank": centred("rs_rank", 0.0, 1.0), "ret_20": scale_free("ret_20")}


TREND = Engine(
    "trend", _trend_signals, TREND_CONFIG, ("trend_strength", "ema_slope", "momentum_slope", "htf_bias", "adx")
)
BREAKOUT = Engine(
    "breakout", _breakout_signals, BREAKOUT_CONFIG, ("ignition", "breakout_quality", "thrust", "nr7_density", "ret_5")
)
VOLATILITY_EXPANSION = Engine(
    "volatility_expansion",
    _volatility_signals,
    VOLATILITY_CONFIG,
    ("volatility_ratio", "compression", "bb_width_pct", "ret_1"),
)
LEADER = Engine("leader", _leader_signals, LEADER_CONFIG, ("rs_rank", "ret_20"))
