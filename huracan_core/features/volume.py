"""Volume: participation relative to its own recent norm, and the classic accumulation lines."""

from __future__ import annotations

import polars as pl

from huracan_core.features.feature import Feature, safe_div

CLOSE, VOLUME = pl.col("close"), pl.col("volume")
VOL_SMA = pl.col("volume_sma_20")


def volume_sma(n: int) -> pl.Expr:
    """Mean volume over ``n`` bars: the norm the ratios below compare against."""
    return VOLUME.rolling_mean(n)


def volume_ratio() -> pl.Expr:
    """Volume over its 20-bar mean; a window with no volume at all counts as normal (1)."""
    return safe_div(VOLUME, VOL_SMA, otherwise=1.0)


def volume_zscore(n: int) -> pl.Expr:
    """Volume jump in standard deviations; a window of identical volumes has no jump (0)."""
    std = VOLUME.rolling_std(n)
    return pl.when(std > 1e-9 * VOL_SMA).then((VOLUME - VOL_SMA) / std).when(std.is_not_null()).then(0.0)


def obv() -> pl.Expr:
    """On-balance volume as TA-Lib: starts at the first bar's volume, cumulative, so only its changes compare."""
    direction = CLOSE.diff().sign().fill_null(1.0)
    return (direction * VOLUME).cum_sum()


def obv_slope(n: int) -> pl.Expr:
    """OBV change over ``n`` bars in units of mean volume: the finite-memory, comparable form of OBV."""
    return safe_div(pl.col("obv") - pl.col("obv").shift(n), n * VOL_SMA, otherwise=0.0)


def cmf(n: int) -> pl.Expr:
    """Chaikin money flow in [-1, 1]; zero-range bars carry no flow, zero-volume windows are 0."""
    high, low = pl.col("high"), pl.col("low")
    multiplier = safe_div((CLOSE - low) - (high - CLOSE), high - low, otherwise=0.0)
    return safe_div((multiplier * VOLUME).rolling_sum(n), VOLUME.rolling_sum(n), otherwise=0.0)


def price_volume_trend() -> pl.Expr:
    """Price-volume trend: cumulative volume weighted by return (path-dependent like OBV)."""
    return (pl.col("ret_1").fill_null(0.0) * VOLUME).cum_sum()


def features() -> list[Feature]:
    return [
        Feature("volume_sma_20", volume_sma, 19, "volume", {"n": 20}),
        Feature("volume_ratio", volume_ratio, 19, "volume"),
        Feature("volume_zscore", volume_zscore, 19, "volume", {"n": 20}),
        Feature("obv", obv, 0, "volume"),
        Feature("obv_slope", obv_slope, 20, "volume", {"n": 20}),
        Feature("cmf", cmf, 19, "volume", {"n": 20}),
        Feature("pvt", price_volume_trend, 0, "volume"),
    ]
