"""The anomaly verdicts of Hamilton's ``paper_trades`` days: the same tests as the shadow trader's days, against
the out-of-sample record of the champion in force, at the null (false alarms near ``alpha``, a day Hamilton
watched the coin half of included) and on a planted collapse; the days not judged say why."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from huracan_core.health.anomalies import (
    CHECKS,
    COSTS_PAID,
    NET_PER_TRADE,
    TRADE_COUNT,
    WIN_RATE,
    AnomalyConfig,
    Baseline,
    baseline_of,
)
from huracan_core.paper.paper_day import PaperDay
from huracan_core.timeframes import bars_per_day
from huracan_dagster.defs.assets.trading_checks import paper_anomaly_verdicts

DAY = date(2024, 11, 30)
BARS = bars_per_day("15m")
CHAMPION, OTHER = "models/ETH-USDT/15m/2024-11-30", "models/ETH-USDT/15m/2024-11-23"
ALPHA = 0.05
SEEDS = 600


def trades(rng: np.random.Generator, n: int, win: float = 0.55, folder: str = CHAMPION, spacing_h: float = 0.75):
    """Round trips whose net is a win (around +30 bps) or a loss (around −25 bps), 12 bps of costs paid."""
    wins = rng.random(n) < win
    net = np.where(wins, rng.normal(30, 15, n), rng.normal(-25, 15, n))
    start = datetime(2024, 10, 1, tzinfo=UTC)
    entries = [start + timedelta(hours=spacing_h * i) for i in range(n)]
    return pl.DataFrame(
        {
            "entry_time": entries,
            "exit_time": [e + timedelta(minutes=30) for e in entries],
            "net_bps": net,
            "gross_bps": net + rng.normal(12.0, 2.0, n),
            "model_folder": [folder] * n,
        },
        schema_overrides={"model_folder": pl.String, "net_bps": pl.Float64, "gross_bps": pl.Float64},
    )


def paper_day(frame: pl.DataFrame, bars: int = BARS, champions: dict[str, int] | None = None, **kw) -> PaperDay:
    return PaperDay(
        day=DAY,
        symbol=kw.get("symbol", "ETH-USDT"),
        logged=kw.get("logged", True),
        trades=frame,
        events={},
        outcomes={},
        refusals={},
        bars=bars,
        champions={CHAMPION: bars} if champions is None else champions,
    )


def baseline(seed: int) -> Baseline:
    base = baseline_of(trades(np.random.default_rng(seed), 400))
    assert base is not None
    return base


def test_hamiltons_days_at_the_null_false_alarm_near_alpha_even_when_it_watched_half_the_day() -> None:
    """Each seed: a baseline, then a day of Poisson(expected) trades drawn from it, Hamilton watching the coin at
    half the day's bars (so half the champion's rate is expected: judged at the full rate, half of it would alarm
    nearly always)."""
    alarms = dict.fromkeys(CHECKS, 0)
    config = AnomalyConfig(alpha=ALPHA)
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        base = baseline(10_000 + seed)
        n = int(rng.poisson(base.trades_per_day / 2))
        day = paper_day(trades(rng, n), bars=BARS // 2)
        verdicts = paper_anomaly_verdicts({(DAY, "ETH-USDT"): day}, {CHAMPION: base}, config, BARS)
        for name in CHECKS:
            alarms[name] += not verdicts[name]["2024-11-30|ETH-USDT"].passed
    rates = {name: count / SEEDS for name, count in alarms.items()}
    print({k: round(v, 4) for k, v in rates.items()})
    band = 3 * math.sqrt(ALPHA * (1 - ALPHA) / SEEDS)
    for name, rate in rates.items():
        assert rate <= ALPHA + band, f"{name}: {rate:.3f} false alarms at alpha {ALPHA}"
    for name in (WIN_RATE, NET_PER_TRADE, COSTS_PAID):  # continuous enough to reach alpha, not only stay under it
        assert rates[name] >= ALPHA / 2 - band, f"{name}: {rates[name]:.3f}, so conservative it sees nothing"


def test_a_collapsed_hamilton_day_fails_as_warnings_with_its_champion_named() -> None:
    rng = np.random.default_rng(3)
    base = baseline(1)
    day = paper_day(trades(rng, 24, win=0.15))
    verdicts = paper_anomaly_verdicts({(DAY, "ETH-USDT"): day}, {CHAMPION: base}, AnomalyConfig(), BARS)
    key = "2024-11-30|ETH-USDT"
    assert not verdicts[WIN_RATE][key].passed and not verdicts[NET_PER_TRADE][key].passed
    assert verdicts[COSTS_PAID][key].passed and verdicts[TRADE_COUNT][key].passed
    net = verdicts[NET_PER_TRADE][key].metadata
    assert net["champion"] == CHAMPION and net["trades"] == 24 and net["baseline_trades"] == 400
    silent = paper_anomaly_verdicts(
        {(DAY, "ETH-USDT"): paper_day(trades(rng, 0))}, {CHAMPION: base}, AnomalyConfig(), BARS
    )
    assert not silent[TRADE_COUNT][key].passed  # a whole day watched, the champion's rate expected, none traded


def test_open_trips_count_as_entered_and_only_the_closed_are_judged() -> None:
    rng = np.random.default_rng(5)
    frame = trades(rng, 8, win=0.0)
    still_open = frame.with_columns(
        exit_time=pl.when(pl.int_range(pl.len()) < 5).then(None).otherwise(pl.col("exit_time")),
        net_bps=pl.when(pl.int_range(pl.len()) < 5).then(None).otherwise(pl.col("net_bps")),
    )
    verdicts = paper_anomaly_verdicts(
        {(DAY, "ETH-USDT"): paper_day(still_open)}, {CHAMPION: baseline(2)}, AnomalyConfig(min_trades=5), BARS
    )
    key = "2024-11-30|ETH-USDT"
    assert verdicts[TRADE_COUNT][key].metadata["trades"] == 8
    assert verdicts[TRADE_COUNT][key].metadata["open_trades"] == 5
    # three closed losers: below min_trades, so not judged per trade (an open trip's null never enters a mean)
    assert verdicts[NET_PER_TRADE][key].passed
    assert verdicts[NET_PER_TRADE][key].summary.startswith("3 closed trades: too few to judge")


def test_days_not_judged_say_why_and_another_champions_trades_are_left_out() -> None:
    rng = np.random.default_rng(7)
    base = baseline(4)
    mixed = pl.concat([trades(rng, 2, folder=OTHER), trades(rng, 20, win=0.0)])
    days = {
        (DAY, "ETH-USDT"): paper_day(mixed, champions={OTHER: 3, CHAMPION: BARS - 3}),
        (DAY, "BTC-USDT"): paper_day(trades(rng, 0), champions={}, symbol="BTC-USDT"),
        (DAY, "SOL-USDT"): paper_day(trades(rng, 0), bars=0, champions={}, symbol="SOL-USDT", logged=False),
        (DAY, "XRP-USDT"): paper_day(trades(rng, 6, folder=OTHER), champions={OTHER: BARS}, symbol="XRP-USDT"),
    }
    verdicts = paper_anomaly_verdicts(days, {CHAMPION: base, OTHER: None}, AnomalyConfig(), BARS)
    assert set(verdicts) == set(CHECKS)
    for name in CHECKS:
        assert verdicts[name]["2024-11-30|BTC-USDT"].summary == (
            "not judged: no champion decided a bar of BTC-USDT that day"
        )
        assert verdicts[name]["2024-11-30|SOL-USDT"].summary == "not judged: Hamilton did not run that day"
        assert verdicts[name]["2024-11-30|XRP-USDT"].summary == (
            f"not judged: champion {OTHER} has fewer than 2 out-of-sample trades"
        )
        assert all(v.passed for k, v in verdicts[name].items() if k != "2024-11-30|ETH-USDT")
    eth = verdicts[NET_PER_TRADE]["2024-11-30|ETH-USDT"]
    assert not eth.passed and eth.metadata["trades"] == 20
    assert eth.summary.endswith("; 2 trades of the day's other champions not judged")
