"""Purged walk-forward splits: every test window is scored by a model trained only on what came before it.

A label looks forward (its window runs from the signal bar to the exit bar), so a training row just before a
test window can carry the test window's prices in its label. Such rows are *purged*: a training row is dropped
when its label interval ``[t, label_end]`` meets ``[test_start − embargo, test_end + embargo)``. The embargo
before the test is there because features with trailing windows straddle the boundary and serially correlated
returns leak through them; the embargo after the test covers layouts whose training rows follow a test window.
Rows whose label is not known yet (null ``label_end``) are never trained on — they may still be tested.

Test windows start at ``span_start + train_days`` and then every ``step_days``; a last window that would run
past ``span_end`` is dropped rather than shortened, so every fold is scored on the same length of time and the
folds' metrics are comparable. Folds are laid on the calendar, not on the rows: a fold over a data gap may
have few or no rows, and the caller decides what that means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_US = 1000


@dataclass(frozen=True)
class WalkForwardConfig:
    """Window lengths in whole days; the defaults fit 15m bars (60 days ≈ 5.8k training bars)."""

    train_days: int = 60
    test_days: int = 15
    step_days: int = 15
    embargo_bars: int = 8
    expanding: bool = False

    def __post_init__(self) -> None:
        for name in ("train_days", "test_days", "step_days"):
            if getattr(self, name) <= 0:
                raise ValueError(f"walk-forward {name} must be positive, got {getattr(self, name)}")
        if self.embargo_bars < 0:
            raise ValueError(f"walk-forward embargo_bars must be >= 0, got {self.embargo_bars}")


@dataclass(frozen=True)
class Fold:
    """One split; ``train`` and ``test`` are ascending int64 row positions into the arrays given.

    ``train_start`` is where training candidates begin (the span start when expanding); the test window is
    ``[test_start, test_end)``. ``purged`` counts the candidates dropped because their label met the embargoed
    test window or was not known, so ``len(train) + purged`` is the number of candidate rows.
    """

    index: int
    train: np.ndarray
    test: np.ndarray
    train_start: datetime
    test_start: datetime
    test_end: datetime
    purged: int


def purged_walk_forward(
    times: pl.Series | np.ndarray,
    label_ends: pl.Series | np.ndarray,
    span_start: datetime,
    span_end: datetime,
    bar: timedelta,
    config: WalkForwardConfig = WalkForwardConfig(),
) -> list[Fold]:
    """Folds over ``[span_start, span_end)`` for rows at ``times`` (ascending) whose labels end at ``label_ends``."""
    if bar <= timedelta(0):
        raise ValueError(f"bar must be a positive duration, got {bar}")
    t, t_known = _epoch_ns(times, "times")
    end, end_known = _epoch_ns(label_ends, "label_ends")
    if t.shape != end.shape:
        raise ValueError(f"times has {t.size} rows but label_ends has {end.size}")
    if not t_known.all():
        raise ValueError(f"times has {int((~t_known).sum())} null timestamps")
    if t.size and np.any(np.diff(t) < 0):
        raise ValueError("times must be sorted ascending")
    if np.any(end_known & (end < t)):
        raise ValueError(f"{int((end_known & (end < t)).sum())} label_ends fall before their row's time")

    span_start, span_end = _utc(span_start, "span_start"), _utc(span_end, "span_end")
    train_len, test_len = timedelta(days=config.train_days), timedelta(days=config.test_days)
    step, embargo = timedelta(days=config.step_days), bar * config.embargo_bars
    first_test = span_start + train_len
    room = span_end - first_test - test_len
    if room < timedelta(0):
        one_fold = config.train_days + config.test_days
        given = (span_end - span_start) / timedelta(days=1)
        raise ValueError(
            f"walk-forward span {span_start:%Y-%m-%d %H:%M}..{span_end:%Y-%m-%d %H:%M} is {given:g} days; "
            f"one fold needs {one_fold} (train_days {config.train_days} + test_days {config.test_days})"
        )
    count = room // step + 1

    folds = []
    for k in range(count):
        test_start = first_test + k * step
        test_end = test_start + test_len
        train_start = span_start if config.expanding else test_start - train_len
        lo, mid, hi = np.searchsorted(t, [_ns(train_start), _ns(test_start), _ns(test_end)], side="left")
        cand = slice(lo, mid)
        meets_test = _overlaps(t[cand], end[cand], _ns(test_start - embargo), _ns(test_end + embargo))
        keep = end_known[cand] & ~meets_test
        folds.append(
            Fold(
                index=k,
                train=np.arange(lo, mid, dtype=np.int64)[keep],
                test=np.arange(mid, hi, dtype=np.int64),
                train_start=train_start,
                test_start=test_start,
                test_end=test_end,
                purged=int(mid - lo - keep.sum()),
            )
        )
    return folds


@dataclass(frozen=True)
class InnerSplit:
    """A fold's training rows split for calibration: the booster fits ``fit``, and its decision thresholds are
    chosen on ``calibration`` (``[start, test_start)``, the last part of the training window). ``purged`` counts
    the rows before the slice dropped because their label met the slice widened by the embargo."""

    fit: np.ndarray
    calibration: np.ndarray
    start: datetime
    purged: int


def calibration_split(
    fold: Fold,
    times: pl.Series | np.ndarray,
    label_ends: pl.Series | np.ndarray,
    bar: timedelta,
    fraction: float,
    embargo_bars: int,
) -> InnerSplit:
    """The last ``fraction`` of the fold's training window (in time) is its calibration slice; a training row
    before it whose label interval meets the slice, widened by ``embargo_bars`` bars before it, is purged from the
    fit rows exactly as a training row is purged against a test window, so no label the booster fits on shares a
    price with the slice. The slice's own rows are the fold's training rows, already purged against the test."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"calibration fraction must lie in (0, 1), got {fraction}")
    t, _ = _epoch_ns(times, "times")
    end, _ = _epoch_ns(label_ends, "label_ends")
    start = fold.test_start - (fold.test_start - fold.train_start) * fraction
    rows = fold.train
    before = t[rows] < _ns(start)
    meets = _overlaps(t[rows], end[rows], _ns(start - bar * embargo_bars), _ns(fold.test_start))
    fit = rows[before & ~meets]
    return InnerSplit(fit=fit, calibration=rows[~before], start=start, purged=int((before & meets).sum()))


def _overlaps(start: np.ndarray, end: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Closed ``[start, end]`` meets half-open ``[lo, hi)``: the label's exit bar counts as inside it."""
    return (start < hi) & (end >= lo)


def _epoch_ns(values: pl.Series | np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Nanoseconds since the epoch (UTC) and a known-mask; null/NaT positions hold 0 and are masked out."""
    if isinstance(values, pl.Series):
        if not isinstance(values.dtype, pl.Datetime):
            raise ValueError(f"{what} must be a Datetime series, got {values.dtype}")
        known = values.is_not_null().to_numpy()
        return values.dt.epoch("ns").fill_null(0).to_numpy().astype(np.int64), known
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.datetime64):
        raise ValueError(f"{what} must be datetime64 values, got {array.dtype}")
    known = ~np.isnat(array)
    return np.where(known, array.astype("datetime64[ns]").view(np.int64), 0), known


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {moment}")
    return moment.astimezone(UTC)


def _ns(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * _NS_PER_US
