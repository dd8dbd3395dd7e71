"""Moving averages seeded exactly like TA-Lib, so that our indicators and TA-Lib agree to 1e-9.

TA-Lib starts an EMA or a Wilder average with the simple mean of the first ``n`` values and recurses from
there; polars' ``ewm_mean`` would start from the first value. The recursion runs in a small numba loop: the
same arithmetic as ``ewm_mean(adjust=False)`` after a seed, measured 4x faster than expressing the seed in polars.
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl


@numba.njit(cache=True, nogil=True)
def _seeded_recursion(x: np.ndarray, alpha: float, seed_from: int, seed_at: int, seed_divisor: float) -> np.ndarray:
    out = np.full(x.shape[0], np.nan)
    if seed_at >= x.shape[0]:
        return out
    m = 0.0
    for i in range(seed_from, seed_at + 1):
        m += x[i]
    m /= seed_divisor
    out[seed_at] = m
    for i in range(seed_at + 1, x.shape[0]):
        v = x[i]
        if not np.isnan(v):  # a gap in the input leaves the average where it was (as TA-Lib's ADX does)
            m += alpha * (v - m)
        out[i] = m
    return out


def seeded_ewm(x: pl.Expr, alpha: float, seed_from: int, seed_at: int, seed_divisor: float) -> pl.Expr:
    """``m_t = m_{t-1} + alpha (x_t - m_{t-1})`` from row ``seed_at``, seeded with sum(x[seed_from..seed_at]) / divisor."""

    def run(s: pl.Series) -> pl.Series:
        values = s.cast(pl.Float64).to_numpy()
        return pl.Series(s.name, _seeded_recursion(values, alpha, seed_from, seed_at, seed_divisor), nan_to_null=True)

    return x.map_batches(run, return_dtype=pl.Float64)


def ema(x: pl.Expr, n: int, offset: int = 0, seed_at: int | None = None) -> pl.Expr:
    """TA-Lib EMA: seed = SMA of ``n`` values ending at ``seed_at`` (default: the first ``n`` non-null values).

    ``offset`` is the index of ``x``'s first non-null value. MACD seeds its fast EMA late (at the slow EMA's
    first bar), hence ``seed_at``.
    """
    at = offset + n - 1 if seed_at is None else seed_at
    return seeded_ewm(x, 2.0 / (n + 1), at - n + 1, at, n)


def wilder(x: pl.Expr, n: int, offset: int = 0) -> pl.Expr:
    """Wilder's smoothing (RSI, ATR, ADX): alpha = 1/n, seeded with the SMA of the first ``n`` values."""
    at = offset + n - 1
    return seeded_ewm(x, 1.0 / n, at - n + 1, at, n)
