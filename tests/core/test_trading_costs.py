"""Costs: fee lookup, spread floor, slippage growing with volatility and size, the daily summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from huracan_core.trading.costs import (
    DEFAULT_FEE_PROFILE,
    CostModel,
    FeeSchedule,
    bar_costs,
    daily_costs_summary,
    fee_profile,
)

SPOT = fee_profile("binance-spot-vip0")  # 10 bps a side: round numbers for the hand computations below


def _bars() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "timestamp": [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(3)],
            "close": [100.0, 100.0, 100.0],
            "volume": [1000.0, 1000.0, 10.0],
            "quote_volume": [100_000.0, 100_000.0, 1_000.0],
            "spread_bps": [0.2, 3.0, None],
            "atr_pct": [0.001, 0.005, 0.001],  # fractions of price: 10 and 50 bps
        }
    )


def test_fee_profiles() -> None:
    assert DEFAULT_FEE_PROFILE == "binance-perp-vip0"
    assert fee_profile("binance-perp-vip0") == FeeSchedule(maker_bps=2.0, taker_bps=5.0)
    assert CostModel().default_fees == fee_profile(DEFAULT_FEE_PROFILE)
    assert CostModel(use_taker=False).fee_bps("binance", "BTC-USDT") == 2.0
    with pytest.raises(ValueError, match="unknown fee profile 'binance-vip9'.*binance-spot-vip0"):
        fee_profile("binance-vip9")


def test_fee_schedules() -> None:
    vip = FeeSchedule(maker_bps=2.0, taker_bps=4.0)
    model = CostModel(fees={("binance", "BTC-USDT"): vip, ("bybit", "*"): FeeSchedule(1.0, 5.5)})
    assert model.fee_bps("binance", "BTC-USDT") == 4.0
    assert model.fee_bps("binance", "ETH-USDT") == 5.0  # the default profile: perpetuals VIP 0, taker
    assert model.fee_bps("bybit", "ETH-USDT") == 5.5
    assert CostModel(use_taker=False, fees={("binance", "BTC-USDT"): vip}).fee_bps("binance", "BTC-USDT") == 2.0
    assert FeeSchedule.from_ccxt_market({"maker": 0.0002, "taker": 0.0004}) == pytest.approx(vip)


def test_bar_costs() -> None:
    model = CostModel(
        default_fees=SPOT, spread_floor_bps=1.0, slip_floor_bps=0.5, slip_vol_coeff=0.05, slip_impact_bps=10.0
    )
    costs = bar_costs(_bars(), model, "binance", "BTC-USDT", 1000.0)
    assert costs["spread_bps"].to_list() == [1.0, 3.0, 1.0]  # floored; null → floor
    # slippage = 0.5 + 0.05 × atr(bps) + 10 × sqrt(1000 / bar notional)
    assert costs["slip_bps"].to_list() == pytest.approx([0.5 + 0.5 + 1.0, 0.5 + 2.5 + 1.0, 0.5 + 0.5 + 10.0])
    assert costs["side_cost_bps"][0] == pytest.approx(10.0 + 0.5 + 2.0)
    assert costs["cost_bps"][0] == pytest.approx(2 * 12.5)
    bigger = bar_costs(_bars(), model, "binance", "BTC-USDT", 4000.0)
    assert (bigger["slip_bps"] > costs["slip_bps"]).all()
    # without quote_volume the bar's notional is volume × close
    same = bar_costs(_bars().drop("quote_volume"), model, "binance", "BTC-USDT", 1000.0)
    assert same["slip_bps"].to_list() == pytest.approx(costs["slip_bps"].to_list())


def test_daily_costs_summary() -> None:
    costs = bar_costs(_bars(), CostModel(default_fees=SPOT), "binance", "BTC-USDT", 1000.0)
    quoted = daily_costs_summary(costs)
    assert set(quoted) == {"fee_bps", "spread_bps", "avg_slip_bps", "trades"}
    assert quoted["fee_bps"] == 10.0 and quoted["spread_bps"] == pytest.approx(5 / 3)
    ledger = pl.DataFrame(
        {"size": [1000.0, 500.0], "fees_paid": [2.0, 1.0], "spread_paid": [0.2, 0.1], "slippage_paid": [0.3, 0.15]}
    )
    paid = daily_costs_summary(costs, ledger)
    assert paid == pytest.approx({"fee_bps": 10.0, "spread_bps": 2.0, "avg_slip_bps": 1.5, "trades": 2.0})
