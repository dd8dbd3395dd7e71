"""Moving averages seeded exactly like TA-Lib, restarted every day from a fixed span of bars, so that our indicators
agree with TA-Lib to 1e-9 and a row's value has the same bits in any frame that holds its span.

TA-Lib starts an EMA or a Wilder average with the simple mean of the first ``n`` values and recurses from there
(polars' ``ewm_mean`` would start from the first value). Recursing from the first bar of a frame, though, makes
every value depend on where the frame starts — in its last bits long after the start's influence has decayed — and
a ranged run must give each day the bytes it gets computed alone (``features.windows``). So the recursion for each
UTC day's bars restarts ``RESTART_BARS`` bars before the day's first bar, seeded the TA-Lib way from the values
there; a frame too short for that (its first days) recurses from its own TA-Lib seed, as before. After 600 bars the
start's weight is below 1e-15 for the slowest decay here (Wilder's 13/14, nested twice in ADX), so the restart
changes nothing TA-Lib would notice, and a day costs 600 extra steps, not the whole history. The loop runs in
numba: the same arithmetic as ``ewm_mean(adjust=False)`` after a seed.
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl

#: bars of warm-up before each day's first bar: the memory every recursive indicator keeps
RESTART_BARS = 600


@numba.njit(cache=True, nogil=True)
def _seeded_recursion(
    x: np.ndarray, day: np.ndarray, alpha: float, seed_from: int, seed_at: int, seed_divisor: float
) -> np.ndarray:
    out = np.full(x.shape[0], np.nan)
    span = seed_at - seed_from  # the seed is the sum of span + 1 values ending at the seed row
    first = 0
    while first < x.shape[0]:
        end = first
        while end < x.shape[0] and day[end] == day[first]:
            end += 1
        seed = first - RESTART_BARS
        if seed <= seed_at:  # not enough bars before this day: the frame's own seed
            seed, lo = seed_at, seed_from
        else:
            lo = seed - span
        if seed < end:
            m = 0.0
            for i in range(lo, seed + 1):
                m += x[i]
            m /= seed_divisor
            if seed >= first:
                out[seed] = m
            for i in range(seed + 1, end):
                v = x[i]
                if not np.isnan(v):  # a gap in the input leaves the average where it was (as TA-Lib's ADX does)
                    m += alpha * (v - m)
                if i >= first:
                    out[i] = m
        first = end
    return out


def seeded_ewm(x: pl.Expr, alpha: float, seed_from: int, seed_at: int, seed_divisor: float) -> pl.Expr:
    """``m_t = m_{t-1} + alpha (x_t - m_{t-1})``, seeded with sum(x[seed_from..seed_at]) / divisor at row ``seed_at``
    of the frame, and for each later day with the same-shaped sum ``RESTART_BARS`` bars before the day."""

    def run(s: pl.Series) -> pl.Series:
        values = s.struct.field("x").cast(pl.Float64).to_numpy()
        day = s.struct.field("timestamp").dt.epoch("d").to_numpy()
        out = _seeded_recursion(values, day, alpha, seed_from, seed_at, seed_divisor)
        return pl.Series(s.name, out, nan_to_null=True)

    return pl.struct(x.alias("x"), pl.col("timestamp")).map_batches(run, return_dtype=pl.Float64)


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
