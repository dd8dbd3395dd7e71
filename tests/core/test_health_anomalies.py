"""The anomaly tests at the null (the false-alarm rate stays near ``alpha``) and on a planted collapse (flagged
within the trades a fixed-size test would need for even odds)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import stats

from huracan_core.health.anomalies import (
    COSTS_PAID,
    NET_PER_TRADE,
    TRADE_COUNT,
    WIN_RATE,
    AnomalyConfig,
    baseline_of,
    count_p,
    judge_day,
)

ALPHA = 0.05
SEEDS = 1500
BASE_TRADES = 400
DAY_TRADES = 30


def draw(rng: np.random.Generator, n: int, win: float = 0.55, shift: float = 0.0, cost: float = 12.0) -> pl.DataFrame:
    """Trades whose net is a win (around +30 bps) or a loss (around −25 bps), ``shift`` added, ``cost`` paid."""
    wins = rng.random(n) < win
    net = np.where(wins, rng.normal(30, 15, n), rng.normal(-25, 15, n)) + shift
    paid = rng.normal(cost, 2.0, n)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return pl.DataFrame(
        {
            "entry_time": [start + timedelta(hours=3 * i) for i in range(n)],
            "net_bps": net,
            "gross_bps": net + paid,
        }
    )


def alarm_rates(config: AnomalyConfig) -> dict[str, float]:
    alarms = dict.fromkeys((WIN_RATE, NET_PER_TRADE, COSTS_PAID), 0)
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        base = baseline_of(draw(rng, BASE_TRADES))
        assert base is not None
        for judged in judge_day(draw(rng, DAY_TRADES), base, config):
            if judged.check in alarms:
                alarms[judged.check] += not judged.passed
    return {check: count / SEEDS for check, count in alarms.items()}


def test_false_alarm_rate_at_the_null_stays_near_alpha() -> None:
    rates = alarm_rates(AnomalyConfig(alpha=ALPHA))
    print({k: round(v, 4) for k, v in rates.items()})
    band = 3 * math.sqrt(ALPHA * (1 - ALPHA) / SEEDS)  # three binomial standard errors of the measured rate
    for check, rate in rates.items():
        assert rate <= ALPHA + band, f"{check}: {rate:.3f} false alarms at alpha {ALPHA}"
        assert rate >= ALPHA / 2 - band, f"{check}: {rate:.3f}, so conservative it cannot see anything"


def test_trade_count_false_alarms_at_most_alpha() -> None:
    rng = np.random.default_rng(7)
    for expected in (0.5, 3.0, 12.0):
        counts = rng.poisson(expected, 20_000)
        rate = float(np.mean([count_p(int(c), expected) < ALPHA for c in counts]))
        assert rate <= ALPHA, f"Poisson({expected}): {rate:.3f} false alarms"


def test_silence_and_a_flood_are_both_flagged() -> None:
    base = baseline_of(draw(np.random.default_rng(1), BASE_TRADES))
    assert base is not None
    expected = base.trades_per_day
    for n in (0, int(expected * 4) + 10):
        [count] = [j for j in judge_day(draw(np.random.default_rng(2), n), base) if j.check == TRADE_COUNT]
        assert not count.passed, f"{n} trades against {expected:.1f} expected passed"


def detection_delay(rng: np.random.Generator, config: AnomalyConfig, check: str, **collapse: float) -> int:
    """Trades after the collapse until ``check`` first fails on the trades since it (judged after each)."""
    base = baseline_of(draw(rng, BASE_TRADES))
    assert base is not None
    after = draw(rng, 400, **collapse)
    for n in range(config.min_trades, after.height + 1):
        if not next(j for j in judge_day(after.head(n), base, config) if j.check == check).passed:
            return n
    return after.height + 1


@pytest.mark.parametrize(
    ("check", "collapse"),
    [
        (NET_PER_TRADE, {"win": 0.35}),
        (WIN_RATE, {"win": 0.35}),
        (COSTS_PAID, {"cost": 12.8}),
    ],
)
def test_a_planted_collapse_is_flagged_within_the_expected_trades(check: str, collapse: dict[str, float]) -> None:
    config = AnomalyConfig(alpha=ALPHA)
    delays = [detection_delay(np.random.default_rng(100 + s), config, check, **collapse) for s in range(100)]
    # the size at which a fixed-size test of this shift fails half the time: the sequential first failure is sooner
    z = stats.norm.ppf(1 - ALPHA)
    null, bad = draw(np.random.default_rng(0), 200_000), draw(np.random.default_rng(0), 200_000, **collapse)
    if check == WIN_RATE:
        p0, p1 = float(np.mean(null["net_bps"].to_numpy() > 0)), float(np.mean(bad["net_bps"].to_numpy() > 0))
        per_trade = (p0 - p1) ** 2 / (z**2 * p0 * (1 - p0))
    else:
        column = pl.col("net_bps") if check == NET_PER_TRADE else pl.col("gross_bps") - pl.col("net_bps")
        a, b = null.select(column).to_series().to_numpy(), bad.select(column).to_series().to_numpy()
        per_trade = ((a.mean() - b.mean()) / (a.std() * z)) ** 2
    # 1/n + 1/N = (shift / (sd z))²: the baseline's own size N counts
    expected = max(1 / (per_trade - 1 / BASE_TRADES), config.min_trades)
    median = float(np.median(delays))
    print(f"{check}: median delay {median} trades, expected {expected:.1f}")
    assert median <= expected, f"{check}: median delay {median} trades, expected {expected:.1f}"
