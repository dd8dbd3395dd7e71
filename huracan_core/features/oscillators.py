"""Oscillators: RSI, MACD and stochastics, matched to TA-Lib's definitions and seeding."""

from __future__ import annotations

import polars as pl

from huracan_core.features.feature import PRICE_UNITS, Feature, safe_div
from huracan_core.features.rolling import rolling_mean
from huracan_core.features.smoothing import ema, wilder

CLOSE = pl.col("close")


def gain_loss(sign: int) -> pl.Expr:
    """Up move (sign=1) or down move (sign=-1) of close, zero otherwise: RSI's two inputs."""
    return (sign * CLOSE.diff()).clip(lower_bound=0.0)


def wilder_mean(source: str, n: int) -> pl.Expr:
    """Wilder average of a 1-bar series (first value at bar 1)."""
    return wilder(pl.col(source), n, offset=1)


def rsi() -> pl.Expr:
    """RSI in 0..100; no movement at all over the window is neutral (50; TA-Lib writes 0)."""
    gain, loss = pl.col("_avg_gain"), pl.col("_avg_loss")
    return 100.0 * safe_div(gain, gain + loss, otherwise=0.5)


def macd_fast(fast: int, slow: int) -> pl.Expr:
    """MACD's fast EMA, seeded where the slow one starts, as TA-Lib does (differs from a standalone EMA)."""
    return ema(CLOSE, fast, seed_at=slow - 1)


def macd() -> pl.Expr:
    """MACD line: fast minus slow EMA."""
    return pl.col("_macd_fast") - pl.col("ema_26")


def macd_signal(n: int, offset: int) -> pl.Expr:
    """Signal line: EMA of the MACD line seeded with the mean of its first ``n`` values."""
    return ema(pl.col("macd"), n, offset=offset)


def macd_hist() -> pl.Expr:
    """MACD histogram: momentum of momentum."""
    return pl.col("macd") - pl.col("macd_signal")


def rolling_extreme(source: str, n: int) -> pl.Expr:
    """Lowest low or highest high of ``n`` bars: the stochastic's range."""
    x = pl.col(source)
    return x.rolling_min(n) if source == "low" else x.rolling_max(n)


def fast_k(n: int) -> pl.Expr:
    """Raw stochastic %K; a flat window sits at 50 (TA-Lib writes 0)."""
    lo, hi = pl.col(f"_low_{n}"), pl.col(f"_high_{n}")
    return 100.0 * safe_div(CLOSE - lo, hi - lo, otherwise=0.5)


def smoothed(source: str, n: int) -> pl.Expr:
    """SMA smoothing for slow %K and %D (TA-Lib's default MA type)."""
    return rolling_mean(pl.col(source), n)


def features() -> list[Feature]:
    return [
        Feature("_gain", gain_loss, 1, "oscillators", {"sign": 1}),
        Feature("_loss", gain_loss, 1, "oscillators", {"sign": -1}),
        Feature("_avg_gain", wilder_mean, 14, "oscillators", {"source": "_gain", "n": 14}, recursive=True),
        Feature("_avg_loss", wilder_mean, 14, "oscillators", {"source": "_loss", "n": 14}, recursive=True),
        Feature("rsi_14", rsi, 14, "oscillators"),
        Feature("_macd_fast", macd_fast, 25, "oscillators", {"fast": 12, "slow": 26}, recursive=True),
        Feature("macd", macd, 25, "oscillators", units=PRICE_UNITS),
        Feature("macd_signal", macd_signal, 33, "oscillators", {"n": 9, "offset": 25}, PRICE_UNITS, recursive=True),
        Feature("macd_hist", macd_hist, 33, "oscillators", units=PRICE_UNITS),
        Feature("_low_14", rolling_extreme, 13, "oscillators", {"source": "low", "n": 14}),
        Feature("_high_14", rolling_extreme, 13, "oscillators", {"source": "high", "n": 14}),
        Feature("_fast_k", fast_k, 13, "oscillators", {"n": 14}),
        Feature("stoch_k", smoothed, 15, "oscillators", {"source": "_fast_k", "n": 3}),
        Feature("stoch_d", smoothed, 17, "oscillators", {"source": "stoch_k", "n": 3}),
    ]
