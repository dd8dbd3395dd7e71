"""Volume: participation relative to its own recent norm, and the classic accumulation lines.

OBV and PVT are cumulative: their level depends on where the sum starts, so it starts at a declared place — 00:00 UTC
``CUMULATIVE_DAYS`` days before the bar's day — and any frame holding that week gives the same level. Compare their
changes, not their levels across coins or weeks.
"""

from __future__ import annotations

import polars as pl

from huracan_core.features.feature import VOLUME_UNITS, Feature, safe_div
from huracan_core.features.rolling import days_cum_sum, rolling_mean, rolling_std, rolling_sum

CLOSE, VOLUME = pl.col("close"), pl.col("volume")
VOL_SMA = pl.col("volume_sma_20")
#: whole days before the bar's day that OBV and PVT sum over
CUMULATIVE_DAYS = 7


def volume_sma(n: int) -> pl.Expr:
    """Mean volume over ``n`` bars: the norm the ratios below compare against."""
    return rolling_mean(VOLUME, n)


def volume_ratio() -> pl.Expr:
    """Volume over its 20-bar mean; a window with no volume at all counts as normal (1)."""
    return safe_div(VOLUME, VOL_SMA, otherwise=1.0)


def volume_std(n: int) -> pl.Expr:
    """Sample std of volume over ``n`` bars."""
    return rolling_std(VOLUME, n)


def volume_zscore(n: int) -> pl.Expr:
    """Volume jump in standard deviations; a window of identical volumes has no jump (0)."""
    std = pl.col(f"_volume_std_{n}")
    return pl.when(std > 1e-9 * VOL_SMA).then((VOLUME - VOL_SMA) / std).when(std.is_not_null()).then(0.0)


def obv_flow() -> pl.Expr:
    """A bar's on-balance volume term: its volume signed by the close's direction (null on the first bar)."""
    return CLOSE.diff().sign() * VOLUME


def obv() -> pl.Expr:
    """On-balance volume as TA-Lib sums it (the first bar counts up), over ``CUMULATIVE_DAYS`` whole days."""
    return days_cum_sum(pl.col("_obv_flow").fill_null(VOLUME), CUMULATIVE_DAYS)


def obv_slope(n: int) -> pl.Expr:
    """OBV's change over ``n`` bars in units of mean volume — the flow of those bars, summed directly, so that the
    cumulative line's midnight step never enters it."""
    return safe_div(rolling_sum(pl.col("_obv_flow"), n), n * VOL_SMA, otherwise=0.0)


def money_flow_volume() -> pl.Expr:
    """Volume signed by where close sits in the bar's range; zero-range bars carry no flow."""
    high, low = pl.col("high"), pl.col("low")
    return safe_div((CLOSE - low) - (high - CLOSE), high - low, otherwise=0.0) * VOLUME


def window_sum(source: str, n: int) -> pl.Expr:
    """Sum over ``n`` bars (CMF's numerator and denominator)."""
    return rolling_sum(pl.col(source), n)


def cmf(n: int) -> pl.Expr:
    """Chaikin money flow in [-1, 1]; zero-volume windows are 0."""
    return safe_div(pl.col(f"_mfv_sum_{n}"), pl.col(f"_volume_sum_{n}"), otherwise=0.0)


def price_volume_trend() -> pl.Expr:
    """Price-volume trend: cumulative volume weighted by return (path-dependent like OBV)."""
    return days_cum_sum(pl.col("ret_1").fill_null(0.0) * VOLUME, CUMULATIVE_DAYS)


def features() -> list[Feature]:
    return [
        Feature("volume_sma_20", volume_sma, 19, "volume", {"n": 20}, VOLUME_UNITS),
        Feature("volume_ratio", volume_ratio, 19, "volume"),
        Feature("_volume_std_20", volume_std, 19, "volume", {"n": 20}),
        Feature("volume_zscore", volume_zscore, 19, "volume", {"n": 20}),
        Feature("_obv_flow", obv_flow, 0, "volume"),
        Feature("obv", obv, 0, "volume", units=VOLUME_UNITS, days=CUMULATIVE_DAYS),
        Feature("obv_slope", obv_slope, 20, "volume", {"n": 20}),
        Feature("_mfv", money_flow_volume, 0, "volume"),
        Feature("_mfv_sum_20", window_sum, 19, "volume", {"source": "_mfv", "n": 20}),
        Feature("_volume_sum_20", window_sum, 19, "volume", {"source": "volume", "n": 20}),
        Feature("cmf", cmf, 19, "volume", {"n": 20}),
        Feature("pvt", price_volume_trend, 0, "volume", units=VOLUME_UNITS, days=CUMULATIVE_DAYS),
    ]
