"""Rolling statistics computed afresh for every row, so a row's value has the same bits in any frame holding its window.

polars' rolling sums, means and moments update a running total as the window slides: the last bits of a row's
value then depend on where the frame started (measured: 2e-13 apart between a frame and its tail). A ranged run
computes many days in one pass and must give each day the bytes it gets computed alone (``features.windows``), so
each window here is summed from its oldest value to its newest, every row, in small numba loops (a window of
``n`` costs ``n`` additions a row: 200 for the longest, SMA 200). Moments are two-pass (mean first), which is also
the numerically careful way. A null anywhere in a window makes the row null, as polars' default ``min_samples``.
Rolling minimum, maximum and rank need no such care: they compare values and never accumulate rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
import polars as pl


@numba.njit(cache=True, nogil=True)
def _moments(x: np.ndarray, n: int, kind: int, ddof: int) -> np.ndarray:
    """kind: 0 sum, 1 mean, 2 variance, 3 skewness (biased), 4 excess kurtosis (biased)."""
    out = np.full(x.shape[0], np.nan)
    for t in range(n - 1, x.shape[0]):
        s = 0.0
        for j in range(t - n + 1, t + 1):
            s += x[j]
        if kind == 0:
            out[t] = s
            continue
        mean = s / n
        if kind == 1:
            out[t] = mean
            continue
        m2 = 0.0
        m3 = 0.0
        m4 = 0.0
        for j in range(t - n + 1, t + 1):
            d = x[j] - mean
            m2 += d * d
            m3 += d * d * d
            m4 += d * d * d * d
        if kind == 2:
            out[t] = m2 / (n - ddof)
        elif m2 > 0.0:  # a flat window has no shape: NaN, as polars
            m2 /= n
            out[t] = m3 / n / m2**1.5 if kind == 3 else m4 / n / (m2 * m2) - 3.0
    return out


@numba.njit(cache=True, nogil=True)
def _co_moments(x: np.ndarray, y: np.ndarray, n: int, correlation: bool) -> np.ndarray:
    """Sample covariance (ddof 1) or Pearson correlation of each row's last ``n`` pairs."""
    out = np.full(x.shape[0], np.nan)
    for t in range(n - 1, x.shape[0]):
        sx = 0.0
        sy = 0.0
        for j in range(t - n + 1, t + 1):
            sx += x[j]
            sy += y[j]
        mx, my = sx / n, sy / n
        sxy = 0.0
        sxx = 0.0
        syy = 0.0
        for j in range(t - n + 1, t + 1):
            dx, dy = x[j] - mx, y[j] - my
            sxy += dx * dy
            sxx += dx * dx
            syy += dy * dy
        if not correlation:
            out[t] = sxy / (n - 1)
        elif sxx > 0.0 and syy > 0.0:
            out[t] = sxy / np.sqrt(sxx * syy)
    return out


def _one(kernel: Callable[[np.ndarray], np.ndarray]) -> Callable[[pl.Series], pl.Series]:
    def run(s: pl.Series) -> pl.Series:
        return pl.Series(s.name, kernel(s.cast(pl.Float64).to_numpy()), nan_to_null=True)

    return run


def rolling_sum(x: pl.Expr, n: int) -> pl.Expr:
    return x.map_batches(_one(lambda v: _moments(v, n, 0, 0)), return_dtype=pl.Float64)


def rolling_mean(x: pl.Expr, n: int) -> pl.Expr:
    return x.map_batches(_one(lambda v: _moments(v, n, 1, 0)), return_dtype=pl.Float64)


def rolling_var(x: pl.Expr, n: int, ddof: int = 1) -> pl.Expr:
    return x.map_batches(_one(lambda v: _moments(v, n, 2, ddof)), return_dtype=pl.Float64)


def rolling_std(x: pl.Expr, n: int, ddof: int = 1) -> pl.Expr:
    return x.map_batches(_one(lambda v: np.sqrt(_moments(v, n, 2, ddof))), return_dtype=pl.Float64)


def rolling_skew(x: pl.Expr, n: int) -> pl.Expr:
    return x.map_batches(_one(lambda v: _moments(v, n, 3, 0)), return_dtype=pl.Float64)


def rolling_kurtosis(x: pl.Expr, n: int) -> pl.Expr:
    """Excess (Fisher) kurtosis, biased: what polars' ``rolling_kurtosis`` gives by default."""
    return x.map_batches(_one(lambda v: _moments(v, n, 4, 0)), return_dtype=pl.Float64)


def _pair(x: pl.Expr, y: pl.Expr, n: int, correlation: bool) -> pl.Expr:
    def run(s: pl.Series) -> pl.Series:
        a, b = (s.struct.field(f).cast(pl.Float64).to_numpy() for f in ("x", "y"))
        return pl.Series(s.name, _co_moments(a, b, n, correlation), nan_to_null=True)

    return pl.struct(x.alias("x"), y.alias("y")).map_batches(run, return_dtype=pl.Float64)


def rolling_cov(x: pl.Expr, y: pl.Expr, n: int) -> pl.Expr:
    return _pair(x, y, n, correlation=False)


def rolling_corr(x: pl.Expr, y: pl.Expr, n: int) -> pl.Expr:
    return _pair(x, y, n, correlation=True)


@numba.njit(cache=True, nogil=True)
def _days_cum_sum(x: np.ndarray, day: np.ndarray, days: int) -> np.ndarray:
    """For each row: the sum of the rows from 00:00 UTC ``days`` days before its own day up to it, oldest first."""
    out = np.full(x.shape[0], np.nan)
    first = 0  # first row of the current day
    start = 0  # first row of the window's first day
    while first < x.shape[0]:
        while day[start] < day[first] - days:
            start += 1
        s = 0.0
        for j in range(start, first):
            s += x[j]
        t = first
        while t < x.shape[0] and day[t] == day[first]:
            s += x[t]
            out[t] = s
            t += 1
        first = t
    return out


def days_cum_sum(x: pl.Expr, days: int) -> pl.Expr:
    """A cumulative line (OBV, PVT) over a sliding window of whole UTC days: a row's level is the sum from 00:00 UTC
    ``days`` days before its day, so it is the same in any frame that holds that window. Within a day its changes
    are the bar's own terms, as the classic unbounded line's; at midnight the window drops its oldest day."""

    def run(s: pl.Series) -> pl.Series:
        values = s.struct.field("x").cast(pl.Float64).to_numpy()
        day = s.struct.field("timestamp").dt.epoch("d").to_numpy()
        return pl.Series(s.name, _days_cum_sum(values, day, days), nan_to_null=True)

    return pl.struct(x.alias("x"), pl.col("timestamp")).map_batches(run, return_dtype=pl.Float64)
