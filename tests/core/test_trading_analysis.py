"""Trade analysis on hand-built ledgers and candles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from huracan_core.trading.analysis import (
    pattern_library,
    post_exit_tracking,
    regime_analysis,
    win_loss_analysis,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _minute(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


def _candles() -> pl.DataFrame:
    opens = [100 + 0.05 * i for i in range(10)]  # bar 8 opens at 100.40, bar 9 at 100.45
    highs = [o + 0.1 for o in opens]
    highs[2] = 100.5
    return pl.DataFrame(
        {
            "timestamp": [_minute(i) for i in range(10)],
            "open": opens,
            "high": highs,
            "low": [o - 0.1 for o in opens],
            "close": opens,
        }
    ).with_columns(pl.col("timestamp").dt.cast_time_unit("ms"))


def _ledger() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "trade_id": ["A", "B"],
            "entry_time": [_minute(1), _minute(4)],
            "exit_time": [_minute(3), _minute(5)],
            "entry_price": [100.05, 100.2],
            "exit_price": [100.1, 100.3],
            "direction": pl.Series([1, -1], dtype=pl.Int8),
            "gross_bps": [(100.1 / 100.05 - 1) * 1e4, -(100.3 / 100.2 - 1) * 1e4],
        }
    ).with_columns(pl.col("entry_time", "exit_time").dt.cast_time_unit("ms"))


def test_post_exit_tracking() -> None:
    out = post_exit_tracking(_ledger(), _candles(), horizons_minutes=(5, 6))
    a, b = out.row(0, named=True), out.row(1, named=True)
    assert a["price_5m"] == pytest.approx(100.4) and a["after_5m_bps"] == pytest.approx((100.4 / 100.1 - 1) * 1e4)
    assert a["after_6m_bps"] == pytest.approx((100.45 / 100.1 - 1) * 1e4)
    assert a["exited_too_early"] is True
    assert a["mfe_bps"] == pytest.approx((100.5 / 100.05 - 1) * 1e4)
    assert a["exited_too_late"] is True  # 45 bps best vs 5 bps realised
    assert b["price_5m"] is None and b["after_5m_bps"] is None and b["exited_too_early"] is None  # candles end
    assert b["mfe_bps"] == pytest.approx(-(100.1 / 100.2 - 1) * 1e4)
    assert b["exited_too_late"] is False
    assert post_exit_tracking(_ledger(), _candles())["after_120m_bps"].null_count() == 2


def _outcomes() -> pl.DataFrame:
    # winners: high f_a, TREND; losers: low f_a, RANGE, mostly stopped out
    return pl.DataFrame(
        {
            "net_bps": [10.0, 20.0, 30.0, -10.0, -20.0, -30.0],
            "net_pnl": [1.0, 2.0, 3.0, -1.0, -2.0, -3.0],
            "regime": ["TREND", "TREND", "RANGE", "RANGE", "RANGE", "RANGE"],
            "exit_reason": ["take_profit"] * 3 + ["stop_loss", "stop_loss", "max_hold"],
            "f_a": [5.0, 6.0, 7.0, -5.0, -6.0, -7.0],
            "f_b": [1.0, 1.0, 1.0, 1.0, 1.0, None],
        }
    )


def test_win_loss_and_regimes() -> None:
    result = win_loss_analysis(_outcomes())
    features = result["features"]
    assert features["feature"].to_list()[0] == "a"
    a = features.row(0, named=True)
    assert a["winners_mean"] == pytest.approx(6.0) and a["losers_mean"] == pytest.approx(-6.0)
    failures = result["failure_reasons"]
    assert failures.row(0, named=True) == {
        "exit_reason": "stop_loss",
        "trades": 2,
        "mean_net_bps": -15.0,
        "share": pytest.approx(2 / 3),
    }
    regimes = regime_analysis(_outcomes())
    assert regimes["regime"].to_list() == ["RANGE", "TREND"]
    assert regimes["trades"].to_list() == [4, 2]
    assert regimes["win_rate"].to_list() == [0.25, 1.0]
    assert regimes["mean_net_bps"].to_list() == [-7.5, 15.0]


def test_the_regime_mix_counts_each_outcome_by_regime_nulls_first() -> None:
    ledger = pl.DataFrame(
        {
            "net_bps": [10.0, 20.0, -5.0, None, -10.0, 30.0, -1.0, 0.0],
            "net_pnl": [1.0, 2.0, -0.5, None, -1.0, 3.0, -0.1, 0.0],
            "regime": ["TREND", None, "RANGE", "TREND", "RANGE", "TREND", None, "VOLATILE"],
            "exit_reason": ["take_profit"] * 8,
            "f_a": [1.0] * 8,
        }
    )
    mix = win_loss_analysis(ledger)["regimes"]
    # a null outcome first, then winners, then losers (0 bps is not a win); within each a null regime first
    assert mix.rows() == [
        ("TREND", None, 1, 1.0),
        (None, True, 1, 1 / 3),
        ("TREND", True, 2, 2 / 3),
        (None, False, 1, 1 / 4),
        ("RANGE", False, 2, 2 / 4),
        ("VOLATILE", False, 1, 1 / 4),
    ]
    day = win_loss_analysis(ledger.slice(2, 3))["regimes"]  # a day cut from the range counts as the day alone
    assert day.rows() == [("TREND", None, 1, 1.0), ("RANGE", False, 2, 1.0)]


def test_pattern_library_separates_clusters_deterministically() -> None:
    patterns = pattern_library(_outcomes(), k=2)
    assert patterns.equals(pattern_library(_outcomes(), k=2))
    assert sorted(patterns["win_rate"].to_list()) == [0.0, 1.0]
    assert sorted(patterns["trades"].to_list()) == [3, 3]
    assert sorted(patterns["centroid_a"].to_list()) == [-6.0, 6.0]
