"""Metrics against hand-computed values on small known series."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from huracan_core.trading import metrics
from huracan_core.trading.shown_metrics import COUNTS, shown_summary, shown_value


def test_sharpe_and_sortino_on_a_known_series() -> None:
    r = np.array([0.01, -0.01, 0.02, 0.0])
    # mean 0.005, sample std sqrt((0.005² + 0.015² + 0.015² + 0.005²) / 3) = sqrt(0.0005 / 3)
    per_bar = 0.005 / math.sqrt(0.0005 / 3)
    assert metrics.sharpe(r, "1d") == pytest.approx(per_bar * math.sqrt(365))
    assert metrics.sharpe(r, "1h") == pytest.approx(per_bar * math.sqrt(365 * 24))
    # downside deviation sqrt(0.01² / 4) = 0.005 → 1 per bar
    assert metrics.sortino(r, "1d") == pytest.approx(math.sqrt(365))


def test_drawdown_calmar_profit_factor_hit_rate_expectancy() -> None:
    equity = np.array([100.0, 110.0, 99.0, 105.0, 120.0])
    assert metrics.max_drawdown(equity) == pytest.approx(0.1)
    # 4 daily bars, +20 %: annualised (1.2)^(365/4) - 1
    assert metrics.annualised_return(equity, "1d") == pytest.approx(1.2 ** (365 / 4) - 1)
    assert metrics.calmar(equity, "1d") == pytest.approx((1.2 ** (365 / 4) - 1) / 0.1)
    pnl = np.array([3.0, -1.0, 2.0, -2.0])
    assert metrics.profit_factor(pnl) == pytest.approx(5 / 3)
    assert metrics.hit_rate(pnl) == 0.5
    assert metrics.expectancy(pnl) == 0.5


def _ledger() -> pl.DataFrame:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    return pl.DataFrame(
        {
            "exit_time": [t0 + timedelta(hours=1), t0 + timedelta(hours=3), t0 + timedelta(hours=3)],
            "size": [1000.0, 1000.0, 1000.0],
            "gross_bps": [40.0, -10.0, 30.0],
            "net_bps": [20.0, -30.0, 10.0],
            "net_pnl": [2.0, -3.0, 1.0],
            "fees_paid": [1.6, 1.6, 1.6],
            "spread_paid": [0.2, 0.2, 0.2],
            "slippage_paid": [0.2, 0.2, 0.2],
            "funding_paid": [0.1, 0.0, -0.1],
        }
    )


def test_equity_curve_and_summary() -> None:
    ledger = _ledger()
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    bars = pl.Series([t0 + timedelta(hours=i) for i in range(5)])
    curve = metrics.equity_curve(ledger, 1000.0, bars)
    assert curve["equity"].to_list() == [1000.0, 1002.0, 1002.0, 1000.0, 1000.0]
    s = metrics.summary(ledger, "1h", 1000.0, bars, missed_entries=2)
    assert s["trade_count"] == 3 and s["missed_entries"] == 2
    assert s["net_pnl"] == pytest.approx(0.0)
    assert s["gross_pnl"] == pytest.approx(6.0)
    assert s["cost_share_of_gross"] == pytest.approx(6.0 / 6.0)  # funding: paid 0.1, received 0.1
    assert s["max_drawdown"] == pytest.approx(2.0 / 1002.0)
    assert s["expectancy_bps"] == pytest.approx(0.0)
    assert s["gross_expectancy_bps"] == pytest.approx(20.0)
    assert s["hit_rate"] == pytest.approx(2 / 3)
    returns = np.array([0.0, 0.002, 0.0, -2 / 1002, 0.0])
    assert s["sharpe"] == pytest.approx(metrics.sharpe(returns, "1h"))


def test_curves_of_many_ledgers_in_one_query_are_each_ledgers_curve_alone() -> None:
    """Days of real-looking ledgers, one with two exits on a bar, one empty, one with an exit after its last bar
    (left out): each curve equals the day's own computed alone, frame for frame."""
    rng = np.random.default_rng(3)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    days, ledgers = [], []
    for d in range(6):
        start = t0 + timedelta(days=d)
        bars = pl.Series("timestamp", [start + timedelta(minutes=15 * i) for i in range(96)])
        exits = sorted(rng.choice(96, size=int(rng.integers(0, 9))).tolist())  # repeats: exits sharing a bar
        if d == 4:
            exits = []
        times = [start + timedelta(minutes=15 * i) for i in exits] + ([start + timedelta(days=1)] if d == 5 else [])
        pnl = rng.normal(0.0, 3.0, len(times))
        days.append(bars)
        ledgers.append(pl.DataFrame({"exit_time": times, "net_pnl": pnl}, schema_overrides={"exit_time": bars.dtype}))
    together = metrics.equity_curves(ledgers, days, 10_000.0)
    assert len(together) == len(days)
    for ledger, bars, curve in zip(ledgers, days, together, strict=True):
        assert curve.equals(metrics.equity_curve(ledger, 10_000.0, bars))
        assert curve.height == len(bars)


def test_undefined_figures_are_nan_never_zero() -> None:
    """A flat curve has no Sharpe, a win-only ledger no profit factor, no trades no hit rate: NaN, which every
    reader shows as missing, where a 0 would read as a measured failure."""
    flat, empty = np.zeros(5), np.array([])
    for figure in (
        metrics.sharpe(flat, "1d"),
        metrics.sortino(flat, "1d"),
        metrics.calmar(np.full(5, 100.0), "1d"),
        metrics.profit_factor(np.array([1.0, 2.0])),
        metrics.hit_rate(empty),
        metrics.expectancy(empty),
    ):
        assert math.isnan(figure)


def test_summary_of_a_day_without_trades() -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    bars = pl.Series([t0 + timedelta(hours=i) for i in range(5)])
    s = metrics.summary(_ledger().clear(), "1h", 1000.0, bars, missed_entries=0)
    assert set(s) == set(metrics.SUMMARY_UNITS)
    undefined = {
        "sharpe",
        "sortino",
        "calmar",
        "profit_factor",
        "hit_rate",
        "expectancy_bps",
        "expectancy_t",
        "gross_expectancy_bps",
        "cost_share_of_gross",
    }
    assert {k for k, v in s.items() if math.isnan(v)} == undefined
    # what a day without trades did is defined: nothing traded, nothing earned, no drawdown
    assert s["trade_count"] == s["net_pnl"] == s["gross_pnl"] == s["max_drawdown"] == 0.0


def test_shown_summary_says_n_a_and_no_trades_where_nothing_traded() -> None:
    """The gates keep ``summary``'s 0.0 for a day without trades; a reader gets "n/a" and whole counts."""
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    bars = pl.Series([t0 + timedelta(hours=i) for i in range(5)])
    idle = shown_summary(metrics.summary(_ledger().clear(), "1h", 1000.0, bars, missed_entries=0))
    assert idle["trade_count"] == 0 and isinstance(idle["trade_count"], int)
    assert {k for k, v in idle.items() if v is None} == set(metrics.SUMMARY_UNITS) - COUNTS
    assert shown_value("trade_count", idle["trade_count"]) == "0 (no trades)"
    assert shown_value("net_pnl", idle["net_pnl"]) == "n/a"

    s = metrics.summary(_ledger(), "1h", 1000.0, bars, missed_entries=2)
    traded = shown_summary(s)
    assert (traded["trade_count"], traded["missed_entries"]) == (3, 2)
    assert all(isinstance(traded[k], int) for k in COUNTS)
    for name, value in s.items():  # with trades every defined figure is the gates' own
        if name not in COUNTS:
            assert traded[name] == (value if math.isfinite(value) else None), name
    assert shown_value("trade_count", traded["trade_count"]) == "3"
    assert shown_value("net_pnl", traded["net_pnl"]) == str(round(s["net_pnl"], 6))


def test_the_edge_t_is_the_mean_over_its_standard_error() -> None:
    values = np.array([12.0, -4.0, 7.0, 1.0, 9.0])
    assert metrics.expectancy_t(values) == pytest.approx(values.mean() / (values.std(ddof=1) / math.sqrt(5)))
    assert math.isnan(metrics.expectancy_t(np.array([3.0])))  # one trade: no standard error
    assert math.isnan(metrics.expectancy_t(np.array([2.0, 2.0, 2.0])))  # no variation: no t to speak of
