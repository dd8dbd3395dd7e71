"""Patterns: event-like scores (ignition, breakout, thrust) and the shape of the return distribution.

Every score is in ATR or volatility units so one threshold works across symbols and timeframes.
"""

from __future__ import annotations

import polars as pl

from huracan_core.features.feature import Feature, safe_div
from huracan_core.features.rolling import rolling_kurtosis, rolling_skew

CLOSE, OPEN = pl.col("close"), pl.col("open")
ATR = pl.col("atr_14")


def ignition(cap: float) -> pl.Expr:
    """Signed body in ATRs times volume ratio (capped): a big bar on big volume starts a move."""
    body = safe_div(CLOSE - OPEN, ATR, otherwise=0.0)
    return body * pl.col("volume_ratio").clip(upper_bound=cap) / cap


def breakout_quality(n: int, cap: float) -> pl.Expr:
    """Close beyond the prior ``n``-bar high (+) or low (−) in ATRs, weighted by volume; 0 inside the range."""
    prior_high, prior_low = pl.col(f"_high_{n}").shift(1), pl.col(f"_low_{n}").shift(1)
    weight = pl.col("volume_ratio").clip(upper_bound=cap) / cap
    up = safe_div(CLOSE - prior_high, ATR, otherwise=0.0) * weight
    down = safe_div(CLOSE - prior_low, ATR, otherwise=0.0) * weight
    return (
        pl.when(prior_high < CLOSE).then(up).when(prior_low > CLOSE).then(down).when(prior_high.is_not_null()).then(0.0)
    )


def thrust(n: int) -> pl.Expr:
    """``n``-bar log return in units of its expected size (vol20·√n): a z-score of the recent push."""
    return safe_div(pl.col(f"log_ret_{n}"), pl.col("volatility_20") * n**0.5, otherwise=0.0, tiny=1e-12)


def pullback_depth(n: int) -> pl.Expr:
    """Distance of close below the ``n``-bar high in ATRs: how deep the current retracement is."""
    return safe_div(pl.col(f"_high_{n}") - CLOSE, ATR, otherwise=0.0)


def mean_revert_bias(cap: float) -> pl.Expr:
    """Minus the Bollinger z-score, clipped: positive when price is stretched below its mean."""
    std = pl.col("_bb_std")
    z = pl.when(std > 1e-10 * CLOSE).then((CLOSE - pl.col("sma_20")) / std).when(std.is_not_null()).then(0.0)
    return -z.clip(-cap, cap)


def return_kurtosis(n: int) -> pl.Expr:
    """Excess kurtosis of 1-bar log returns over ``n`` bars: fat tails show up before and during panics."""
    return rolling_kurtosis(pl.col("log_ret_1"), n)


def return_skewness(n: int) -> pl.Expr:
    """Skewness of 1-bar log returns over ``n`` bars: crashes are left-skewed."""
    return rolling_skew(pl.col("log_ret_1"), n)


def features() -> list[Feature]:
    return [
        Feature("ignition", ignition, 19, "patterns", {"cap": 5.0}),
        Feature("breakout_quality", breakout_quality, 20, "patterns", {"n": 20, "cap": 3.0}),
        Feature("thrust", thrust, 20, "patterns", {"n": 5}),
        Feature("pullback_depth", pullback_depth, 19, "patterns", {"n": 20}),
        Feature("mean_revert_bias", mean_revert_bias, 19, "patterns", {"cap": 3.0}),
        Feature("kurtosis", return_kurtosis, 50, "patterns", {"n": 50}),
        Feature("skewness", return_skewness, 50, "patterns", {"n": 50}),
    ]
