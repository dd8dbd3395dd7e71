"""Microstructure proxies from OHLCV alone: cost of trading, tick direction, and how coiled the range is."""

from __future__ import annotations

import math

import polars as pl

from huracan_core.features.feature import Feature, safe_div
from huracan_core.features.rolling import rolling_mean

CLOSE, HIGH, LOW = pl.col("close"), pl.col("high"), pl.col("low")
_CS_K = 3.0 - 2.0 * math.sqrt(2.0)


def uptick_ratio(n: int) -> pl.Expr:
    """Share of the last ``n`` bars that closed above the previous close: buying pressure by count."""
    up = CLOSE.shift(1) < CLOSE
    return rolling_mean(up.cast(pl.Float64), n)


def corwin_schultz_bps(n: int) -> pl.Expr:
    """Corwin–Schultz (2012) high-low spread estimate in bps, negatives floored at 0, averaged over ``n`` bars."""
    hl = (HIGH / LOW).log() ** 2
    beta = hl + hl.shift(1)
    gamma = (pl.max_horizontal(HIGH, HIGH.shift(1)) / pl.min_horizontal(LOW, LOW.shift(1))).log() ** 2
    alpha = ((2.0 * beta).sqrt() - beta.sqrt()) / _CS_K - (gamma / _CS_K).sqrt()
    spread = (2.0 * (alpha.exp() - 1.0) / (1.0 + alpha.exp())).clip(lower_bound=0.0)
    return rolling_mean(pl.when(LOW.shift(1).is_not_null()).then(spread), n) * 1e4


def range_extreme(source: str, n: int) -> pl.Expr:
    """Lowest low or highest high of ``n`` bars, shared by range position, pullback and breakout."""
    x = pl.col(source)
    return x.rolling_min(n) if source == "low" else x.rolling_max(n)


def price_position(n: int) -> pl.Expr:
    """Close within the ``n``-bar high-low range (0 = at the low); a flat range is the middle."""
    lo, hi = pl.col(f"_low_{n}"), pl.col(f"_high_{n}")
    return safe_div(CLOSE - lo, hi - lo, otherwise=0.5)


def compression(n: int) -> pl.Expr:
    """1 minus the rank of today's Bollinger width among the last ``n``: 1 = the tightest bands of the window."""
    return 1.0 - (pl.col("bb_width_pct").rolling_rank(n) - 1.0) / (n - 1)


def nr7_density(n: int) -> pl.Expr:
    """Share of the last ``n`` bars that were NR7 (narrowest range of 7): clustering of quiet bars."""
    rng = HIGH - LOW
    nr7 = (rng <= rng.rolling_min(7)).cast(pl.Float64)
    return rolling_mean(nr7, n)


def trades_mean(n: int) -> pl.Expr:
    """Mean trade count over ``n`` bars."""
    return rolling_mean(pl.col("trades").cast(pl.Float64), n)


def trade_intensity(n: int) -> pl.Expr:
    """Trade count over its ``n``-bar mean (null where the source has no trade counts)."""
    return safe_div(pl.col("trades").cast(pl.Float64), pl.col(f"_trades_mean_{n}"), otherwise=1.0)


def features() -> list[Feature]:
    return [
        Feature("uptick_ratio", uptick_ratio, 20, "microstructure", {"n": 20}),
        Feature("spread_bps", corwin_schultz_bps, 20, "microstructure", {"n": 20}),
        Feature("_low_20", range_extreme, 19, "microstructure", {"source": "low", "n": 20}),
        Feature("_high_20", range_extreme, 19, "microstructure", {"source": "high", "n": 20}),
        Feature("price_position", price_position, 19, "microstructure", {"n": 20}),
        Feature("compression", compression, 19 + 95, "microstructure", {"n": 96}),
        Feature("nr7_density", nr7_density, 6 + 19, "microstructure", {"n": 20}),
        Feature("_trades_mean_20", trades_mean, 19, "microstructure", {"n": 20}),
        Feature("trade_intensity", trade_intensity, 19, "microstructure", {"n": 20}),
    ]
