"""Engines read from the tape candles can support: order-flow proxy, volume anomaly, BTC decoupling."""

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
from huracan_core.trading.engines.reversion import close_position

DECOUPLING_WINDOW = 50

TAPE_CONFIG = EngineConfig(
    weights={"uptick_ratio": 0.35, "cmf": 0.35, "close_position": 0.30},
    affinity={"TREND": 0.7, "RANGE": 0.6, "PANIC": 0.4, "UNKNOWN": 0.5},
    activation=0.25,
)
ANOMALY_CONFIG = EngineConfig(
    weights={"volume_zscore": 0.7, "volume_ratio": 0.3},
    affinity={"TREND": 0.7, "RANGE": 0.4, "PANIC": 0.5, "UNKNOWN": 0.5},
    activation=0.2,
)
CORRELATION_CONFIG = EngineConfig(
    weights={"corr_drop": 0.6, "beta_shift": 0.4},
    affinity={"TREND": 0.6, "RANGE": 0.4, "PANIC": 0.2, "UNKNOWN": 0.4},
    activation=0.2,
)


def _tape_signals() -> dict[str, pl.Expr]:
    """Candle-based order-flow proxy: who was lifting offers (upticks, money flow, close near the high)."""
    return {
        "uptick_ratio": centred("uptick_ratio", 0.0, 1.0),
        "cmf": pl.col("cmf").clip(-1.0, 1.0),
        "close_position": close_position(),
    }


def _anomaly_signals() -> dict[str, pl.Expr]:
    """A volume spike (z > 2) marks informed flow; follow the bar it printed on."""
    side = pl.col("ret_1")
    return {
        "volume_zscore": signed_like(unit((pl.col("volume_zscore") - 2.0).clip(lower_bound=0.0), 3.0), side),
        "volume_ratio": signed_like(unit((pl.col("volume_ratio") - 1.0).clip(lower_bound=0.0), 4.0), side),
    }


def _correlation_signals() -> dict[str, pl.Expr]:
    """The coin decouples from BTC (correlation or beta leaves its trailing norm): its own move is news."""
    side = pl.col("ret_5")
    corr_drop = (pl.col("corr_btc").rolling_mean(DECOUPLING_WINDOW) - pl.col("corr_btc")).clip(lower_bound=0.0)
    beta_shift = pl.col("beta_btc") - pl.col("beta_btc").rolling_mean(DECOUPLING_WINDOW)
    return {
        "corr_drop": signed_like(unit(corr_drop, 0.5), side),
        "beta_shift": signed_like(scale_free(beta_shift).abs(), side),
    }


TAPE = Engine("tape", _tape_signals, TAPE_CONFIG, ("uptick_ratio", "cmf", "high", "low", "close"))
ANOMALY = Engine("anomaly", _anomaly_signals, ANOMALY_CONFIG, ("volume_zscore", "volume_ratio", "ret_1"))
CORRELATION = Engine("correlation", _correlation_signals, CORRELATION_CONFIG, ("corr_btc", "beta_btc", "ret_5"))
