"""The anomaly verdicts of ``shadow_trades`` partitions: a champion's day judged against its own baseline, a
rules-only day and a champion without a baseline passing with the reason they were not judged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from huracan_core.desk.shadow_day import TradingDay
from huracan_core.health.anomalies import CHECKS, NET_PER_TRADE, TRADE_COUNT, WIN_RATE, AnomalyConfig, baseline_of
from huracan_dagster.defs.assets.trading_checks import anomaly_verdicts

DAY = date(2024, 11, 30)


def _trades(n: int, net: float, spread: float, seed: int) -> pl.DataFrame:
    values = np.random.default_rng(seed).normal(net, spread, n)
    start = datetime(2024, 10, 1, tzinfo=UTC)
    return pl.DataFrame(
        {"entry_time": [start + timedelta(hours=6 * i) for i in range(n)], "net_bps": values, "gross_bps": values + 10}
    )


def _day(symbol: str, ledger: pl.DataFrame, model: str) -> TradingDay:
    return TradingDay(DAY, symbol, ledger, {}, {}, pl.DataFrame(), 96, "model" if model else "rules", model, "test")


def test_a_collapsed_champion_day_fails_and_the_unjudged_days_say_why() -> None:
    baselines = {"models/good": baseline_of(_trades(300, 10, 20, 1)), "models/thin": None}
    days = [
        _day("BTC-USDT", _trades(20, -30, 20, 2), "models/good"),
        _day("ETH-USDT", _trades(20, -30, 20, 3), ""),
        _day("SOL-USDT", _trades(20, -30, 20, 4), "models/thin"),
    ]
    verdicts = anomaly_verdicts(days, baselines, AnomalyConfig())
    assert set(verdicts) == set(CHECKS)
    for name in CHECKS:
        assert set(verdicts[name]) == {f"{DAY.isoformat()}|{s}" for s in ("BTC-USDT", "ETH-USDT", "SOL-USDT")}
        assert verdicts[name]["2024-11-30|ETH-USDT"].summary == "not judged: rules-only day, no champion baseline"
        assert "fewer than 2 out-of-sample trades" in verdicts[name]["2024-11-30|SOL-USDT"].summary
    collapsed = {name: verdicts[name]["2024-11-30|BTC-USDT"] for name in CHECKS}
    assert not collapsed[WIN_RATE].passed and not collapsed[NET_PER_TRADE].passed
    assert collapsed[NET_PER_TRADE].metadata["baseline_trades"] == 300
    assert collapsed[TRADE_COUNT].metadata["trades"] == 20
