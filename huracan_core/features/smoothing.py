"""Moving averages seeded exactly like TA-Lib, so that our indicators and TA-Lib agree to 1e-9.

TA-Lib starts an EMA or a Wilder average with the simple mean of the first ``n`` values and recurses from
there; polars' ``ewm_mean`` would start from the first value. ``seeded_ewm`` nulls the bars before the seed,
puts the seed in place and lets ``ewm_mean(adjust=False)`` do the recursion.
"""

from __future__ import annotations

import polars as pl


def seeded_ewm(x: pl.Expr, alpha: float, seed_at: int, seed: pl.Expr) -> pl.Expr:
    """Recursive mean ``m_t = m_{t-1} + alpha (x_t - m_{t-1})`` starting at row ``seed_at`` with value ``seed``."""
    i = pl.int_range(pl.len())
    started = pl.when(i < seed_at).then(None).when(i == seed_at).then(seed).otherwise(x)
    return started.ewm_mean(alpha=alpha, adjust=False, min_samples=1)


def ema(x: pl.Expr, n: int, offset: int = 0, seed_at: int | None = None) -> pl.Expr:
    """TA-Lib EMA: seed = SMA of ``n`` values ending at ``seed_at`` (default: the first ``n`` non-null values).

    ``offset`` is the index of ``x``'s first non-null value. MACD seeds its fast EMA late (at the slow EMA's
    first bar), hence ``seed_at``.
    """
    at = offset + n - 1 if seed_at is None else seed_at
    return seeded_ewm(x, 2.0 / (n + 1), at, x.slice(at - n + 1, n).mean())


def wilder(x: pl.Expr, n: int, offset: int = 0) -> pl.Expr:
    """Wilder's smoothing (RSI, ATR, ADX): alpha = 1/n, seeded with the SMA of the first ``n`` values."""
    at = offset + n - 1
    return seeded_ewm(x, 1.0 / n, at, x.slice(at - n + 1, n).mean())


def sma(x: pl.Expr, n: int) -> pl.Expr:
    return x.rolling_mean(n)
