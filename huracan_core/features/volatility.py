"""Volatility: realised vol, ATR and Bollinger bands, plus the relative measures the PANIC score reads.

Ratios called ``*_pct`` are fractions (0.01 = 1 %), not percent.
"""

from __future__ import annotations

import polars as pl

from huracan_core.features.feature import PRICE_UNITS, Feature, safe_div
from huracan_core.features.rolling import rolling_std
from huracan_core.features.smoothing import wilder

CLOSE = pl.col("close")
BB_STD = pl.col("_bb_std")


def realised_vol(n: int) -> pl.Expr:
    """Standard deviation of 1-bar log returns over ``n`` bars (per bar, not annualised)."""
    return rolling_std(pl.col("log_ret_1"), n)


def atr(n: int) -> pl.Expr:
    """Average true range, Wilder-smoothed and seeded like TA-Lib."""
    return wilder(pl.col("_tr"), n, offset=1)


def atr_pct() -> pl.Expr:
    """ATR as a fraction of close: comparable across price levels."""
    return pl.col("atr_14") / CLOSE


def bb_std(n: int) -> pl.Expr:
    """Population std of close, as TA-Lib's BBANDS uses."""
    return rolling_std(CLOSE, n, ddof=0)


def bb_band(side: int, k: float) -> pl.Expr:
    """Bollinger band: SMA20 ± k population standard deviations."""
    return pl.col("sma_20") + side * k * BB_STD


def bb_width_pct() -> pl.Expr:
    """Band width over the middle band, as a fraction: small means compressed."""
    return (pl.col("bb_upper") - pl.col("bb_lower")) / pl.col("sma_20")


def bb_position() -> pl.Expr:
    """Where close sits between the bands (0 = lower, 1 = upper); flat windows sit in the middle."""
    width = pl.col("bb_upper") - pl.col("bb_lower")
    return pl.when(width > 1e-10 * CLOSE).then((CLOSE - pl.col("bb_lower")) / width).when(width.is_not_null()).then(0.5)


def volatility_ratio(short: int, long: int) -> pl.Expr:
    """Short over long realised vol: above 1 means volatility is expanding; a dead market counts as 1."""
    return safe_div(pl.col(f"volatility_{short}"), pl.col(f"volatility_{long}"), otherwise=1.0, tiny=1e-12)


def volatility_percentile(n: int) -> pl.Expr:
    """Rank of the current 20-bar vol among the last ``n`` values, in [0, 1]: 1 = most volatile of the window."""
    return (pl.col("volatility_20").rolling_rank(n) - 1.0) / (n - 1)


def features() -> list[Feature]:
    return [
        Feature("volatility_5", realised_vol, 5, "volatility", {"n": 5}),
        Feature("volatility_20", realised_vol, 20, "volatility", {"n": 20}),
        Feature("atr_14", atr, 14, "volatility", {"n": 14}, PRICE_UNITS, recursive=True),
        Feature("atr_pct", atr_pct, 14, "volatility"),
        Feature("_bb_std", bb_std, 19, "volatility", {"n": 20}),
        Feature("bb_upper", bb_band, 19, "volatility", {"side": 1, "k": 2.0}, PRICE_UNITS),
        Feature("bb_lower", bb_band, 19, "volatility", {"side": -1, "k": 2.0}, PRICE_UNITS),
        Feature("bb_width_pct", bb_width_pct, 19, "volatility"),
        Feature("bb_position", bb_position, 19, "volatility"),
        Feature("volatility_ratio", volatility_ratio, 20, "volatility", {"short": 5, "long": 20}),
        Feature("volatility_percentile", volatility_percentile, 20 + 479, "volatility", {"n": 480}),
    ]
