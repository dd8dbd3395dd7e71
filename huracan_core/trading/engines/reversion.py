"""Engines that fade a move: range, momentum reversal, divergence, support/resistance and liquidity sweep."""

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

LEVEL_WINDOW = 50
SWEEP_WINDOW = 20
DIVERGENCE_LAG = 14

RANGE_CONFIG = EngineConfig(
    weights={"bb_position": 0.30, "rsi_14": 0.25, "mean_revert_bias": 0.20, "price_position": 0.15, "stoch_k": 0.10},
    affinity={"RANGE": 1.0, "TREND": 0.3, "PANIC": 0.2, "UNKNOWN": 0.5},
)
REVERSAL_CONFIG = EngineConfig(
    weights={"ret_5": 0.4, "rsi_14": 0.2, "stoch_k": 0.2, "stoch_turn": 0.2},
    affinity={"RANGE": 0.8, "PANIC": 0.5, "TREND": 0.2, "UNKNOWN": 0.5},
    activation=0.3,
)
DIVERGENCE_CONFIG = EngineConfig(
    weights={"rsi_divergence": 0.6, "obv_divergence": 0.4},
    affinity={"RANGE": 0.8, "TREND": 0.4, "PANIC": 0.3, "UNKNOWN": 0.5},
    activation=0.2,
)
LEVELS_CONFIG = EngineConfig(
    weights={"level_proximity": 0.7, "price_position": 0.3},
    affinity={"RANGE": 1.0, "TREND": 0.4, "PANIC": 0.2, "UNKNOWN": 0.6},
    activation=0.25,
)
SWEEP_CONFIG = EngineConfig(
    weights={"sweep": 0.7, "close_position": 0.3},
    affinity={"RANGE": 0.9, "TREND": 0.5, "PANIC": 0.6, "UNKNOWN": 0.6},
    activation=0.2,
)


def close_position() -> pl.Expr:
    """Where the bar closed inside its range, −1 at the low and +1 at the high (0 for a flat bar)."""
    span = pl.col("high") - pl.col("low")
    return pl.when(span > 0).then(centred((pl.col("close") - pl.col("low")) / span, 0.0, 1.0)).otherwise(0.0)


def _range_signals() -> dict[str, pl.Expr]:
    return {
        "bb_position": -centred("bb_position", 0.0, 1.0),
        "rsi_14": -centred("rsi_14", 0.0, 100.0),
        "mean_revert_bias": scale_free("mean_revert_bias"),
        "price_position": -centred("price_position", 0.0, 1.0),
        "stoch_k": -centred("stoch_k", 0.0, 100.0),
    }


def _reversal_signals() -> dict[str, pl.Expr]:
    """Fade a stretched five-bar move once the stochastic turns."""
    return {
        "ret_5": -scale_free("ret_5"),
        "rsi_14": -centred("rsi_14", 0.0, 100.0),
        "stoch_k": -centred("stoch_k", 0.0, 100.0),
        "stoch_turn": centred(pl.col("stoch_k") - pl.col("stoch_d"), -20.0, 20.0),
    }


def _divergence_signals() -> dict[str, pl.Expr]:
    """Price making progress that RSI or OBV does not confirm: the oscillator's change minus the price's."""
    price = scale_free(pl.col("close").pct_change(DIVERGENCE_LAG))
    rsi = centred(pl.col("rsi_14").diff(DIVERGENCE_LAG), -30.0, 30.0)
    obv = scale_free(pl.col("obv").diff(DIVERGENCE_LAG))
    return {"rsi_divergence": (rsi - price) / 2, "obv_divergence": (obv - price) / 2}


def _levels_signals() -> dict[str, pl.Expr]:
    """Buy within an ATR of the trailing support, sell within an ATR of the trailing resistance."""
    support = pl.col("low").shift(1).rolling_min(LEVEL_WINDOW)
    resistance = pl.col("high").shift(1).rolling_max(LEVEL_WINDOW)
    atr = pl.col("atr_14")
    near_support = (1.0 - (pl.col("close") - support) / atr).clip(0.0, 1.0)
    near_resistance = (1.0 - (resistance - pl.col("close")) / atr).clip(0.0, 1.0)
    return {
        "level_proximity": near_support - near_resistance,
        "price_position": -centred("price_position", 0.0, 1.0),
    }


def _sweep_signals() -> dict[str, pl.Expr]:
    """A wick through the trailing high/low that closes back inside: stops were run, price returns."""
    prior_high = pl.col("high").shift(1).rolling_max(SWEEP_WINDOW)
    prior_low = pl.col("low").shift(1).rolling_min(SWEEP_WINDOW)
    atr = pl.col("atr_14")
    swept_high = (
        pl.when((pl.col("high") > prior_high) & (pl.col("close") < prior_high))
        .then(unit((pl.col("high") - prior_high) / atr, 1.0))
        .otherwise(0.0)
    )
    swept_low = (
        pl.when((pl.col("low") < prior_low) & (pl.col("close") > prior_low))
        .then(unit((prior_low - pl.col("low")) / atr, 1.0))
        .otherwise(0.0)
    )
    sweep = swept_low - swept_high
    return {"sweep": sweep, "close_position": signed_like(close_position() * sweep.sign(), sweep)}


RANGE = Engine(
    "range", _range_signals, RANGE_CONFIG, ("bb_position", "rsi_14", "mean_revert_bias", "price_position", "stoch_k")
)
MOMENTUM_REVERSAL = Engine(
    "momentum_reversal", _reversal_signals, REVERSAL_CONFIG, ("ret_5", "rsi_14", "stoch_k", "stoch_d")
)
DIVERGENCE = Engine("divergence", _divergence_signals, DIVERGENCE_CONFIG, ("close", "rsi_14", "obv"))
SUPPORT_RESISTANCE = Engine(
    "support_resistance", _levels_signals, LEVELS_CONFIG, ("high", "low", "close", "atr_14", "price_position")
)
SWEEP = Engine("sweep", _sweep_signals, SWEEP_CONFIG, ("high", "low", "close", "atr_14"))
