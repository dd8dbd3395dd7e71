"""Purged walk-forward: no training label may reach into an embargoed test window, for any data or config."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from huracan_core.models.walk_forward import WalkForwardConfig, calibration_split, purged_walk_forward

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _np(moment: datetime) -> np.datetime64:
    return np.datetime64(moment.replace(tzinfo=None), "ns")


def _random_case(seed: int) -> dict:
    """Bars with gaps and rows outside the span, labels of random length (some unknown), a random config."""
    rng = np.random.default_rng(seed)
    bar = timedelta(minutes=int(rng.choice([5, 15, 60, 240])))
    config = WalkForwardConfig(
        train_days=int(rng.integers(1, 15)),
        test_days=int(rng.integers(1, 8)),
        step_days=int(rng.integers(1, 10)),
        embargo_bars=int(rng.integers(0, 30)),
        expanding=bool(rng.integers(0, 2)),
    )
    span_start = T0 + timedelta(minutes=int(rng.integers(0, 10_000)))
    span_end = span_start + timedelta(
        days=config.train_days + config.test_days + int(rng.integers(0, 30)), minutes=int(rng.integers(0, 1440))
    )
    first = span_start - timedelta(days=int(rng.integers(0, 3)), minutes=int(rng.integers(0, 600)))
    n = (span_end - first + timedelta(days=2)) // bar
    times = _np(first) + np.arange(n) * np.timedelta64(bar)
    times = times[rng.random(n) > 0.1]  # gaps
    ends = times + rng.integers(0, 60, times.size) * np.timedelta64(bar)
    ends[rng.random(times.size) < 0.05] = np.datetime64("NaT")
    return {"times": times, "ends": ends, "span_start": span_start, "span_end": span_end, "bar": bar, "config": config}


def _as_polars(values: np.ndarray, unit: str) -> pl.Series:
    return pl.Series(values).cast(pl.Datetime(unit)).dt.replace_time_zone("UTC")


@pytest.mark.parametrize("seed", range(200))
def test_purged_walk_forward_invariants_hold_for_random_configs(seed: int) -> None:
    case = _random_case(seed)
    times, ends, config = case["times"], case["ends"], case["config"]
    span_start, span_end, bar = case["span_start"], case["span_end"], case["bar"]
    if seed % 2:  # half the cases through polars, in a random time unit
        unit = ("ms", "us", "ns")[seed % 3]
        given = _as_polars(times, unit), _as_polars(ends, unit)
    else:
        given = times, ends
    folds = purged_walk_forward(*given, span_start, span_end, bar, config)

    train_len, test_len = timedelta(days=config.train_days), timedelta(days=config.test_days)
    step, embargo = timedelta(days=config.step_days), np.timedelta64(bar * config.embargo_bars)
    assert len(folds) == (span_end - span_start - train_len - test_len) // step + 1
    assert folds[0].test_start == span_start + train_len
    assert folds[-1].test_end <= span_end < folds[-1].test_start + step + test_len  # only a partial one dropped
    known = ~np.isnat(ends)
    for k, fold in enumerate(folds):
        assert fold.index == k
        assert fold.test_start == span_start + train_len + k * step
        assert fold.test_end - fold.test_start == test_len
        assert fold.train_start == (span_start if config.expanding else fold.test_start - train_len)
        ts, te, tr0 = _np(fold.test_start), _np(fold.test_end), _np(fold.train_start)
        for rows in (fold.train, fold.test):
            assert rows.dtype == np.int64 and np.all(np.diff(rows) > 0)
        np.testing.assert_array_equal(fold.test, np.flatnonzero((times >= ts) & (times < te)))
        assert not np.intersect1d(fold.train, fold.test).size
        t, e = times[fold.train], ends[fold.train]
        assert np.all(t < ts) and np.all(t >= tr0)
        assert known[fold.train].all()
        assert not np.any((t < te + embargo) & (e >= ts - embargo))
        # nothing dropped that was safe to keep: the training set is every safe candidate
        candidate = (times >= tr0) & (times < ts)
        with np.errstate(invalid="ignore"):
            meets = (times < te + embargo) & (ends >= ts - embargo)
        np.testing.assert_array_equal(fold.train, np.flatnonzero(candidate & known & ~meets))
        assert fold.train.size + fold.purged == candidate.sum()
    for a, b in itertools.pairwise(folds):
        assert a.test_start < b.test_start
        if config.step_days >= config.test_days:
            assert a.test_end <= b.test_start and not np.intersect1d(a.test, b.test).size


@pytest.mark.parametrize("seed", range(100))
def test_the_calibration_slice_is_purged_like_a_test_window_for_random_configs(seed: int) -> None:
    """The fit rows' labels end before the slice less the embargo; the slice is every training row from its start,
    so none of it meets the test window (already purged); nothing safe to fit on is dropped."""
    case = _random_case(seed)
    times, ends, config, bar = case["times"], case["ends"], case["config"], case["bar"]
    fraction = float(np.random.default_rng(seed).uniform(0.05, 0.5))
    embargo = np.timedelta64(bar * config.embargo_bars)
    for fold in purged_walk_forward(times, ends, case["span_start"], case["span_end"], bar, config):
        inner = calibration_split(fold, times, ends, bar, fraction, config.embargo_bars)
        start = _np(inner.start)
        assert inner.start == fold.test_start - (fold.test_start - fold.train_start) * fraction
        assert not np.intersect1d(inner.fit, inner.calibration).size
        assert not np.intersect1d(inner.calibration, fold.test).size
        np.testing.assert_array_equal(inner.calibration, fold.train[times[fold.train] >= start])
        assert np.all(ends[inner.fit] < start - embargo) and np.all(times[inner.calibration] < _np(fold.test_start))
        before = fold.train[times[fold.train] < start]
        np.testing.assert_array_equal(inner.fit, before[ends[before] < start - embargo])
        assert inner.fit.size + inner.purged + inner.calibration.size == fold.train.size
    with pytest.raises(ValueError, match="calibration fraction must lie in"):
        calibration_split(fold, times, ends, bar, 1.0, config.embargo_bars)


def _bars(days: int, bar: timedelta = timedelta(minutes=15)) -> np.ndarray:
    return _np(T0) + np.arange(days * (timedelta(days=1) // bar)) * np.timedelta64(bar)


def _one_fold(times: np.ndarray, ends: np.ndarray, embargo_bars: int = 4):
    config = WalkForwardConfig(train_days=2, test_days=1, step_days=1, embargo_bars=embargo_bars)
    (fold,) = purged_walk_forward(times, ends, T0, T0 + timedelta(days=3), timedelta(minutes=15), config)
    return fold


def test_a_label_that_spills_into_the_test_window_is_purged() -> None:
    times = _bars(3)
    ends = times.copy()  # instant labels: only the embargo purges
    spill = int(np.searchsorted(times, _np(T0 + timedelta(days=2))) - 30)
    ends[spill] = _np(T0 + timedelta(days=2, minutes=30))
    fold = _one_fold(times, ends)
    assert spill not in fold.train
    # the spilling row plus the 4 embargo bars right before the test
    assert fold.purged == 5
    assert fold.train.size == 2 * 96 - 5 and fold.test.size == 96


def test_embargo_boundary_is_one_bar() -> None:
    times = _bars(3)
    ends = times.copy()
    test_start, bar = T0 + timedelta(days=2), timedelta(minutes=15)
    kept, purged = (int(np.searchsorted(times, _np(test_start - k * bar))) for k in (20, 21))
    ends[kept] = _np(test_start - 4 * bar - bar)  # exit bar just clear of the 4-bar embargo
    ends[purged] = _np(test_start - 4 * bar)  # exit bar is the first embargoed bar
    fold = _one_fold(times, ends)
    assert kept in fold.train
    assert purged not in fold.train


def test_unknown_label_ends_never_train_but_may_test() -> None:
    times = _bars(3)
    ends = times.copy()
    unknown_train, unknown_test = 10, 2 * 96 + 10
    ends[[unknown_train, unknown_test]] = np.datetime64("NaT")
    fold = _one_fold(times, ends, embargo_bars=0)
    assert unknown_train not in fold.train and fold.purged == 1
    assert unknown_test in fold.test


def test_polars_and_numpy_inputs_give_the_same_folds() -> None:
    case = _random_case(7)
    args = case["span_start"], case["span_end"], case["bar"], case["config"]
    from_numpy = purged_walk_forward(case["times"], case["ends"], *args)
    from_polars = purged_walk_forward(_as_polars(case["times"], "ms"), _as_polars(case["ends"], "us"), *args)
    assert len(from_numpy) == len(from_polars)
    for a, b in zip(from_numpy, from_polars, strict=True):
        np.testing.assert_array_equal(a.train, b.train)
        np.testing.assert_array_equal(a.test, b.test)
        assert (a.purged, a.test_start) == (b.purged, b.test_start)


def test_expanding_training_grows_from_the_span_start() -> None:
    times = _bars(10)
    config = WalkForwardConfig(train_days=3, test_days=2, step_days=2, embargo_bars=0, expanding=True)
    folds = purged_walk_forward(times, times, T0, T0 + timedelta(days=10), timedelta(minutes=15), config)
    assert [f.train.size for f in folds] == [3 * 96, 5 * 96, 7 * 96]
    assert all(f.train[0] == 0 and f.train_start == T0 for f in folds)


@pytest.mark.parametrize(
    ("field", "value"),
    [("train_days", 0), ("test_days", -1), ("step_days", 0), ("embargo_bars", -1)],
)
def test_nonsensical_config_is_an_error_naming_the_field(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=rf"{field} must be .*{value}"):
        WalkForwardConfig(**{field: value})


def test_a_span_too_short_for_one_fold_says_how_short() -> None:
    times = _bars(3)
    with pytest.raises(ValueError, match=r"is 70 days; one fold needs 75 \(train_days 60 \+ test_days 15\)"):
        purged_walk_forward(times, times, T0, T0 + timedelta(days=70), timedelta(minutes=15))


def test_bad_inputs_are_errors() -> None:
    times = _bars(3)
    span = T0, T0 + timedelta(days=3), timedelta(minutes=15), WalkForwardConfig(2, 1, 1, 0)
    with pytest.raises(ValueError, match="sorted ascending"):
        purged_walk_forward(times[::-1], times[::-1], *span)
    with pytest.raises(ValueError, match="label_ends has"):
        purged_walk_forward(times, times[:-1], *span)
    with pytest.raises(ValueError, match="fall before their row"):
        purged_walk_forward(times, times - np.timedelta64(1, "m"), *span)
    with pytest.raises(ValueError, match="timezone-aware"):
        purged_walk_forward(times, times, T0.replace(tzinfo=None), *span[1:])
