"""Signal diagnostics equal a direct computation (scipy, sorting) on small built samples; undefined is n/a."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from huracan_core.models.diagnostics import MIN_OBSERVATIONS, signal_diagnostics


def _folds(seed: int = 3, folds: int = 3, n: int = 50) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Distinct predictions (n a multiple of 5, so each quintile holds n / 5 of them) and noisy outcomes."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(folds):
        predicted = rng.normal(k, 1.0, n)  # each fold at its own level: quintiles are per fold
        out.append((k, predicted, 20 * predicted + rng.normal(0, 40, n) - 15))
    return out


def test_the_figures_equal_a_direct_computation() -> None:
    folds = _folds()
    measured = signal_diagnostics(folds)
    ics = [spearmanr(p, r).statistic for _, p, r in folds]
    assert [f.ic for f in measured.folds] == pytest.approx(ics, abs=1e-12)
    assert measured.ic_mean == pytest.approx(np.mean(ics))
    assert measured.ic_std == pytest.approx(np.std(ics, ddof=1))
    assert measured.icir == pytest.approx(np.mean(ics) / np.std(ics, ddof=1))
    pooled_p = np.concatenate([p for _, p, _ in folds])
    pooled_r = np.concatenate([r for _, _, r in folds])
    assert measured.pooled_ic == pytest.approx(spearmanr(pooled_p, pooled_r).statistic)

    # quintiles by each fold's own predictions: sorted, the k-th fifth of each fold
    buckets: list[list[float]] = [[] for _ in range(5)]
    for (_, p, r), fold in zip(folds, measured.folds, strict=True):
        order = np.argsort(p)
        for k in range(5):
            mine = r[order[k * 10 : (k + 1) * 10]]
            buckets[k].extend(mine)
            assert fold.quintiles.mean_net_bps[k] == pytest.approx(mine.mean())
            assert fold.quintiles.count[k] == 10
    assert measured.quintiles.mean_net_bps == pytest.approx([np.mean(b) for b in buckets])
    assert measured.quintiles.hit_rate == pytest.approx([np.mean(np.array(b) > 0) for b in buckets])
    assert measured.q5_minus_q1_bps == pytest.approx(np.mean(buckets[4]) - np.mean(buckets[0]))

    # calibration: deciles of the pooled predictions, mean predicted against mean realized
    order = np.argsort(pooled_p)
    size = pooled_p.size // 10
    assert measured.calibration.mean_predicted == pytest.approx(
        [pooled_p[order[k * size : (k + 1) * size]].mean() for k in range(10)]
    )
    assert measured.calibration.mean_net_bps == pytest.approx(
        [pooled_r[order[k * size : (k + 1) * size]].mean() for k in range(10)]
    )
    headline = measured.headline()
    assert headline["ic_mean"] == measured.ic_mean and headline["q5_net_bps"] == measured.quintiles.mean_net_bps[4]


def test_unknown_outcomes_are_left_out() -> None:
    folds = _folds()
    holed = []
    for k, p, r in folds:
        r = r.copy()
        r[::7] = np.nan
        holed.append((k, p, r))
    kept = [(k, p[np.isfinite(r)], r[np.isfinite(r)]) for k, p, r in holed]
    assert signal_diagnostics(holed).to_dict() == signal_diagnostics(kept).to_dict()


def test_constant_predictions_are_not_applicable_never_zero() -> None:
    rng = np.random.default_rng(5)
    folds = [(k, np.full(40, -12.0), rng.normal(-10, 30, 40)) for k in range(4)]
    measured = signal_diagnostics(folds)
    assert all(math.isnan(f.ic) for f in measured.folds)
    for value in (measured.ic_mean, measured.ic_std, measured.icir, measured.pooled_ic, measured.q5_minus_q1_bps):
        assert math.isnan(value)
    assert measured.quintiles.count == [160, 0, 0, 0, 0] and math.isnan(measured.quintiles.mean_net_bps[4])
    assert measured.summary() == "IC n/a ± n/a over 4 folds; top quintile n/a bps net, bottom " + (
        f"{measured.quintiles.mean_net_bps[0]:.1f}".replace("-", "−")
    )


def test_too_few_observations_leave_the_ic_undefined() -> None:
    p = np.arange(MIN_OBSERVATIONS - 1, dtype=float)
    measured = signal_diagnostics([(0, p, p * 2.0)])
    assert math.isnan(measured.folds[0].ic) and math.isnan(measured.ic_mean)
    assert math.isnan(measured.ic_std)  # one fold has no spread
    assert math.isnan(signal_diagnostics([]).pooled_ic)


def test_a_perfect_ranking_has_ic_one_and_a_positive_spread() -> None:
    p = np.linspace(-30, 10, 60)
    measured = signal_diagnostics([(0, p, p**3), (1, p + 5, (p + 5) ** 3)])
    assert measured.ic_mean == pytest.approx(1.0) and measured.pooled_ic > 0.9
    assert measured.q5_minus_q1_bps > 0 and math.isnan(measured.icir)  # no spread of ICs: the ratio is undefined
