"""Costs as an order really pays them: each part against a hand computation on a small built frame (the fee of
the order type, the spread floored at one tick, the measured impact or the order's share of the bar, funding at
the settlements a position spans), the recorded quote table, and the round trip on real candles."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from huracan_core.trading.costs import (
    DEFAULT_FEE_PROFILE,
    CostModel,
    FeeSchedule,
    bar_costs,
    daily_costs_summary,
    fee_profile,
    funding_paid,
    leg_costs,
    order_type,
    paid_costs,
    round_trip_text,
)
from huracan_core.trading.fixed_quotes import FixedQuotes
from huracan_core.trading.recorded_quotes import UNLISTED_SPREAD_BPS, RecordedQuotes
from tests.conftest import real_15m

SPOT = fee_profile("binance-spot-vip0")  # 10 bps a side: round numbers for the hand computations below
PERP = fee_profile("binance-perp-vip0")
START = datetime(2025, 1, 1, tzinfo=UTC)


def _bars() -> pl.DataFrame:
    """Three bars at prices where one tick of 0.01 is 1 bp (100), 0.1 bp (1,000) and 10 bps (10)."""
    return pl.DataFrame(
        {
            "timestamp": [START + timedelta(minutes=i) for i in range(3)],
            "close": [100.0, 1000.0, 10.0],
            "volume": [1000.0, 100.0, 100.0],
            "quote_volume": [100_000.0, 100_000.0, 1_000.0],
            "spread_bps": [50.0, 50.0, 50.0],  # the volatility FEATURE: never a cost
            "atr_pct": [0.01, 0.05, 0.01],  # volatility: no cost term reads it
        }
    )


def test_fee_profiles_and_order_types() -> None:
    assert DEFAULT_FEE_PROFILE == "binance-perp-vip0"
    assert FeeSchedule(maker_bps=2.0, taker_bps=5.0, perpetual=True) == PERP
    assert not SPOT.perpetual
    assert CostModel().default_fees == PERP and CostModel().order_type == "taker"
    assert CostModel(order_type="maker").fee_bps("binance", "BTC-USDT") == 2.0
    assert CostModel().fee_bps("binance", "BTC-USDT", "maker") == 2.0
    with pytest.raises(ValueError, match="unknown fee profile 'binance-vip9'.*binance-spot-vip0"):
        fee_profile("binance-vip9")
    with pytest.raises(ValueError, match="unknown order type 'limit'.*HURACAN_ORDER_TYPE.*taker, maker"):
        order_type("limit")


def test_fee_schedules() -> None:
    vip = FeeSchedule(maker_bps=2.0, taker_bps=4.0)
    model = CostModel(fees={("binance", "BTC-USDT"): vip, ("bybit", "*"): FeeSchedule(1.0, 5.5)})
    assert model.fee_bps("binance", "BTC-USDT") == 4.0
    assert model.fee_bps("binance", "ETH-USDT") == 5.0  # the default profile: perpetuals VIP 0, taker
    assert model.fee_bps("bybit", "ETH-USDT") == 5.5
    assert CostModel(order_type="maker", fees={("binance", "BTC-USDT"): vip}).fee_bps("binance", "BTC-USDT") == 2.0
    assert FeeSchedule.from_ccxt_market({"maker": 0.0002, "taker": 0.0004}) == pytest.approx(vip)
    assert FeeSchedule.from_ccxt_market({"maker": 0.0002, "taker": 0.0005, "swap": True}).perpetual


def test_spread_is_the_quote_floored_at_one_tick() -> None:
    ticked = CostModel(default_fees=SPOT, quotes=FixedQuotes(spread_bps=0.5, tick_size=0.01))
    costs = bar_costs(_bars(), ticked, "binance", "BTC-USDT", 1000.0)
    # max(0.5, 0.01 / close × 10,000): 1 bp at 100, 0.5 (the quote) at 1,000, 10 bps at 10
    assert costs["spread_bps"].to_list() == pytest.approx([1.0, 0.5, 10.0])
    no_tick = bar_costs(_bars(), CostModel(quotes=FixedQuotes(spread_bps=0.5)), "binance", "BTC-USDT", 1000.0)
    assert no_tick["spread_bps"].to_list() == pytest.approx([0.5, 0.5, 0.5])


def test_slippage_measured_impact_or_share_of_bar() -> None:
    share = CostModel(default_fees=SPOT, quotes=FixedQuotes(), slip_impact_bps=10.0)
    costs = bar_costs(_bars(), share, "binance", "BTC-USDT", 1000.0)
    # 10 × sqrt(1,000 / bar notional): no volatility term, no floor
    assert costs["slip_bps"].to_list() == pytest.approx([1.0, 1.0, 10.0])
    same = bar_costs(_bars().drop("quote_volume"), share, "binance", "BTC-USDT", 1000.0)  # volume × close
    assert same["slip_bps"].to_list() == pytest.approx([1.0, 1.0, 10.0])
    measured = CostModel(default_fees=SPOT, quotes=FixedQuotes(impact_bps=0.8, order_size=1000.0))
    assert bar_costs(_bars(), measured, "binance", "BTC-USDT", 1000.0)["slip_bps"].to_list() == pytest.approx([0.8] * 3)
    # another size scales the measured impact by sqrt(size / order size)
    bigger = bar_costs(_bars(), measured, "binance", "BTC-USDT", 4000.0)["slip_bps"].to_list()
    assert bigger == pytest.approx([1.6] * 3)


def test_taker_and_maker_legs() -> None:
    quotes = FixedQuotes(spread_bps=2.0, impact_bps=0.5)
    taker = bar_costs(_bars(), CostModel(default_fees=PERP, quotes=quotes), "binance", "BTC-USDT", 1000.0)
    assert taker["side_cost_bps"].to_list() == pytest.approx([5.0 + 1.0 + 0.5] * 3)
    assert taker["cost_bps"].to_list() == pytest.approx([13.0] * 3)
    maker_model = CostModel(default_fees=PERP, order_type="maker", quotes=quotes)
    maker = bar_costs(_bars(), maker_model, "binance", "BTC-USDT", 1000.0)
    assert maker["fee_bps"].to_list() == [2.0] * 3 and maker["cost_bps"].to_list() == pytest.approx([4.0] * 3)
    assert maker["spread_bps"].to_list() == [0.0] * 3 and maker["slip_bps"].to_list() == [0.0] * 3
    # a taker leg of a maker model (a stop) pays the taker fee, the half spread and the impact
    stop = leg_costs(_bars(), maker_model, "binance", "BTC-USDT", 1000.0, "taker")
    assert stop.row(0, named=True) | {"timestamp": None} == {
        "timestamp": None,
        "fee_bps": 5.0,
        "spread_bps": 2.0,
        "slip_bps": 0.5,
    }


def _at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("entered", "exited", "settlements"),
    [
        (0.5, 7.5, 0),  # inside one 8-hour interval
        (0.0, 7.9, 0),  # entered at 00:00: the settlement of 00:00 is not after the entry
        (7.0, 8.0, 1),  # exit at 08:00 itself: it was held at the settlement
        (7.0, 9.0, 1),
        (7.0, 16.5, 2),
        (23.0, 24 + 8.5, 2),  # across midnight: the next day's quote answers
    ],
)
def test_funding_sign_and_count(entered: float, exited: float, settlements: int) -> None:
    rate = 0.0003  # 3 bps per 8 hours
    model = CostModel(default_fees=PERP, quotes=FixedQuotes(funding_rate=rate))
    times = (pl.Series([_at(entered)] * 2), pl.Series([_at(exited)] * 2))
    paid = funding_paid(model, "binance", "BTC-USDT", *times, pl.Series([1, -1]), pl.Series([1000.0, 500.0]))
    assert paid.to_list() == pytest.approx([settlements * rate * 1000.0, -settlements * rate * 500.0])
    spot = CostModel(default_fees=SPOT, quotes=FixedQuotes(funding_rate=rate))
    assert funding_paid(spot, "binance", "BTC-USDT", *times, pl.Series([1, -1]), pl.Series([1000.0] * 2)).to_list() == [
        0.0,
        0.0,
    ]


def test_recorded_quotes_read_either_spelling() -> None:
    book = RecordedQuotes()
    day = date(2024, 12, 31)
    assert book.quote("BTC-USDT", day).tick_size == book.quote("BTC/USDT", day).tick_size == 0.01
    assert book.quote("PEPE-USDT", day).spread_bps == UNLISTED_SPREAD_BPS
    assert [r for _, r in book.quote("BTC-USDT", day).funding] == [0.0001] * 3
    assert RecordedQuotes(funding_rate=None).quote("BTC-USDT", day).funding == ()
    assert book.content_hash() != RecordedQuotes(order_size=5_000.0).content_hash()


@pytest.mark.parametrize("pair", ["BTC-USDT", "ETH-USDT"])
def test_round_trip_on_real_candles_is_fees_and_a_little(pair: str) -> None:
    """1,000 USDT as a taker on the default profile: the fees, plus at most 2 bps of spread and impact, on every
    bar of the real candles (the tick is a fraction of a bp, and 1,000 USDT is a sliver of a 15-minute bar)."""
    candles = real_15m(pair)
    costs = bar_costs(candles, CostModel(), "binance", pair, 1000.0)
    fees = 2 * PERP.taker_bps
    assert (costs["cost_bps"] >= fees).all()
    assert (costs["cost_bps"] <= 12.0).all(), costs.sort("cost_bps").tail(3)


def test_daily_costs_summary_and_paid_costs() -> None:
    costs = bar_costs(_bars(), CostModel(default_fees=SPOT, quotes=FixedQuotes(spread_bps=2.0)), "binance", "X-Y", 1e3)
    quoted = daily_costs_summary(costs)
    assert set(quoted) == {"fee_bps", "spread_bps", "avg_slip_bps", "funding_bps", "trades"}
    assert quoted["fee_bps"] == 10.0 and quoted["spread_bps"] == pytest.approx(2.0) and quoted["funding_bps"] == 0.0
    ledger = pl.DataFrame(
        {
            "size": [1000.0, 500.0],
            "fees_paid": [2.0, 1.0],
            "spread_paid": [0.2, 0.1],
            "slippage_paid": [0.3, 0.15],
            "funding_paid": [0.1, -0.05],
        }
    )
    paid = daily_costs_summary(costs, ledger)
    assert paid == pytest.approx(
        {"fee_bps": 10.0, "spread_bps": 2.0, "avg_slip_bps": 1.5, "funding_bps": 0.05 / 1500 * 1e4, "trades": 2.0}
    )
    total = paid_costs(ledger)
    assert total["total"] == pytest.approx(3.0 + 0.3 + 0.45 + 0.05)
    assert total["funding_bps"] == pytest.approx(0.05 / 1500 * 1e4)
    assert math.isnan(paid_costs(ledger.clear())["total_bps"])


def test_a_days_round_trip_reads_as_its_parts_whether_quoted_or_paid() -> None:
    """The run's line per coin: the round trip is both legs' fees and slippage plus the full spread, quoted over
    the bars when nothing traded, paid when it did."""
    costs = bar_costs(_bars(), CostModel(default_fees=SPOT, quotes=FixedQuotes(spread_bps=2.0)), "binance", "X-Y", 1e3)
    quoted = daily_costs_summary(costs)
    slip = 2 * quoted["avg_slip_bps"]
    assert round_trip_text(quoted) == (
        f"quoted over the day's bars: round trip {20 + 2 + slip:.2f} bps (fees 20.00 + spread 2.00 + slippage "
        f"{slip:.2f}), funding +0.00 bp per settlement held"
    )
    paid = {"fee_bps": 5.0, "spread_bps": 0.5, "avg_slip_bps": 0.25, "funding_bps": -1.0, "trades": 3.0}
    assert round_trip_text(paid) == (
        "paid by 3 trades: round trip 11.00 bps (fees 10.00 + spread 0.50 + slippage 0.50), funding -1.00 bps a trade"
    )
