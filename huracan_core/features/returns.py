"""Returns: the raw material of every other family and the simplest momentum signals."""

from __future__ import annotations

import polars as pl

from huracan_core.features.feature import Feature

CLOSE = pl.col("close")


def pct_return(n: int) -> pl.Expr:
    """Simple return over ``n`` bars: what a position held that long would have earned."""
    return CLOSE / CLOSE.shift(n) - 1.0


def log_return(n: int) -> pl.Expr:
    """Log return over ``n`` bars: additive across bars, so volatilities and correlations use it."""
    return (CLOSE / CLOSE.shift(n)).log()


def close_open_ratio() -> pl.Expr:
    """Body of the candle as a ratio: who won inside the bar."""
    return CLOSE / pl.col("open")


def high_low_ratio() -> pl.Expr:
    """Range of the candle as a ratio: a scale-free intrabar volatility."""
    return pl.col("high") / pl.col("low")


def features() -> list[Feature]:
    out: list[Feature] = []
    for n in (1, 5, 20):
        out.append(Feature(f"ret_{n}", pct_return, n, "returns", {"n": n}))
        out.append(Feature(f"log_ret_{n}", log_return, n, "returns", {"n": n}))
    out.append(Feature("close_open_ratio", close_open_ratio, 0, "returns"))
    out.append(Feature("high_low_ratio", high_low_ratio, 0, "returns"))
    return out
