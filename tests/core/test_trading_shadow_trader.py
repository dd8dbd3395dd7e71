"""Hand-computed trades for every exit path of the shadow trader, with exact prices, bps and costs.

Set-up for all cases unless stated: signal on bar 0, entry at bar 1's open = 100, long, regime TREND
(stop 50 bps → 99.5), confidence 0.5 (take profit 15 bps → 100.15). Costs per side: fee 10 + half of a 2 bps
spread + 0.5 bps of measured impact = 11.5 bps (spot: no funding), so net = gross − 23 bps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from huracan_core.trading.costs import CostModel, fee_profile
from huracan_core.trading.fixed_quotes import FixedQuotes
from huracan_core.trading.shadow_trader import LEDGER_COLUMNS, shadow_fills, shadow_trade

# a quote of a 2 bps spread and 0.5 bps of measured impact for 1,000 USDT (the trades' size)
COSTS = CostModel(default_fees=fee_profile("binance-spot-vip0"), quotes=FixedQuotes(spread_bps=2.0, impact_bps=0.5))
START = datetime(2025, 1, 1, tzinfo=UTC)


def _frame(bars: list[tuple[float, float, float, float]], regime: str = "TREND", minutes: int = 1) -> pl.DataFrame:
    n = len(bars)
    return pl.DataFrame(
        {
            "timestamp": [START + timedelta(minutes=minutes * i) for i in range(n)],
            "open": [b[0] for b in bars],
            "high": [b[1] for b in bars],
            "low": [b[2] for b in bars],
            "close": [b[3] for b in bars],
            "volume": [1e6] * n,
            "spread_bps": [2.0] * n,
            "atr_pct": [0.1] * n,
            "rsi_14": [float(i) for i in range(n)],
            "regime": [regime] * n,
        }
    ).with_columns(pl.col("timestamp").dt.cast_time_unit("ms"))


def _decisions(frame: pl.DataFrame, signals: dict[int, int], confidence: float = 0.5) -> pl.DataFrame:
    n = frame.height
    return pl.DataFrame(
        {
            "timestamp": frame["timestamp"],
            "direction": pl.Series([signals.get(i, 0) for i in range(n)], dtype=pl.Int8),
            "confidence": [confidence] * n,
            "recommendation": ["TAKE" if i in signals else "SKIP" for i in range(n)],
            "engines_agreeing": ["trend,tape" if i in signals else "" for i in range(n)],
        }
    )


def _trade(bars, signals=None, confidence=0.5, regime="TREND", timeframe="1m") -> pl.DataFrame:
    minutes = {"1m": 1, "15m": 15}[timeframe]
    frame = _frame(bars, regime, minutes)
    return shadow_trade(
        frame, _decisions(frame, {0: 1} if signals is None else signals, confidence), "BTC-USDT", timeframe, costs=COSTS
    )


SIGNAL = (100.0, 100.0, 100.0, 100.0)


@pytest.mark.parametrize(
    ("name", "bars", "kwargs", "exit_price", "reason", "gross"),
    [
        ("stop", [SIGNAL, (100, 100.1, 99.4, 99.6)], {}, 99.5, "stop_loss", -50.0),
        ("take_profit", [SIGNAL, (100, 100.2, 99.9, 100.1)], {}, 100.15, "take_profit", 15.0),
        ("stop_and_tp_same_bar", [SIGNAL, (100, 100.2, 99.4, 100.0)], {}, 99.5, "stop_loss", -50.0),
        (
            "gap_through_stop",
            [SIGNAL, (100, 100.05, 99.95, 100), (99.0, 99.2, 98.9, 99.1)],
            {},
            99.0,
            "stop_loss",
            -100.0,
        ),
        (
            "gap_through_tp",
            [SIGNAL, (100, 100.05, 99.95, 100), (100.5, 100.6, 100.4, 100.5)],
            {},
            100.15,
            "take_profit",
            15.0,
        ),
        (
            "trailing",  # confidence 0.85 → TP 30 bps; peak +25 bps → stop at entry + 0.5 × (25 − 15) = +5 bps
            [SIGNAL, (100, 100.25, 99.95, 100.2), (100.2, 100.22, 100.0, 100.1)],
            {"confidence": 0.85},
            100.05,
            "trailing_stop",
            5.0,
        ),
        (
            "trailing_gap",  # the trail is active and bar 2 opens under it: fill at the open
            [SIGNAL, (100, 100.25, 99.95, 100.2), (100.02, 100.1, 100.0, 100.05)],
            {"confidence": 0.85},
            100.02,
            "trailing_stop",
            2.0,
        ),
        (
            "max_hold",  # PANIC on 15m: 30 minutes = 2 bars; exit at bar 2's close
            [SIGNAL, (100, 100.1, 99.9, 100.05), (100.05, 100.1, 99.95, 100.08), (100.08, 100.1, 100.0, 100.0)],
            {"regime": "PANIC", "timeframe": "15m"},
            100.08,
            "max_hold",
            8.0,
        ),
        (
            "end_of_data",  # TREND on 15m holds 16 bars; data ends after 3
            [SIGNAL, (100, 100.1, 99.9, 100.05), (100.05, 100.1, 99.95, 100.08), (100.08, 100.1, 100.0, 100.04)],
            {"timeframe": "15m"},
            100.04,
            "end_of_data",
            4.0,
        ),
        ("short_tp", [SIGNAL, (100, 100.05, 99.8, 99.9)], {"signals": {0: -1}}, 99.85, "take_profit", 15.0),
        ("short_stop", [SIGNAL, (100, 100.6, 99.9, 100.3)], {"signals": {0: -1}}, 100.5, "stop_loss", -50.0),
    ],
)
def test_exit_paths(name, bars, kwargs, exit_price, reason, gross) -> None:
    ledger = _trade(bars, **kwargs)
    assert ledger.height == 1, name
    row = ledger.row(0, named=True)
    assert row["entry_price"] == pytest.approx(100.0)
    assert row["exit_price"] == pytest.approx(exit_price, abs=1e-9)
    assert row["exit_reason"] == reason
    assert row["gross_bps"] == pytest.approx(gross, abs=1e-6)
    assert row["net_bps"] == pytest.approx(gross - 23.0, abs=1e-6)
    assert row["net_pnl"] == pytest.approx(1000.0 * (gross - 23.0) / 1e4, abs=1e-9)
    assert row["fees_paid"] == pytest.approx(2.0)
    assert row["spread_paid"] == pytest.approx(0.2)
    assert row["slippage_paid"] == pytest.approx(0.1)
    assert row["entry_time"] == START + timedelta(minutes={"1m": 1, "15m": 15}[kwargs.get("timeframe", "1m")])


def test_ledger_shape_and_one_position_at_a_time() -> None:
    # Signals on bars 0, 1 and 2: bar 1's is ignored (position open), the trade exits (TP) on bar 2, and
    # bar 2's signal enters at bar 3's open.
    bars = [
        SIGNAL,
        (100, 100.1, 99.9, 100.0),
        (100.0, 100.2, 99.9, 100.1),
        (101, 101.1, 100.9, 101.0),
        (101, 101.2, 100.9, 101.1),
    ]
    ledger = _trade(bars, signals={0: 1, 1: 1, 2: 1})
    assert ledger.height == 2
    assert list(ledger.columns[: len(LEDGER_COLUMNS)]) == list(LEDGER_COLUMNS)
    assert "f_rsi_14" in ledger.columns and "f_spread_bps" in ledger.columns
    assert ledger["f_rsi_14"].to_list() == [0.0, 2.0]  # the signal bar's features
    assert ledger["exit_reason"].to_list() == ["take_profit", "take_profit"]
    assert ledger["entry_price"].to_list() == [100.0, 101.0]
    assert ledger["trade_id"].to_list() == ["BTC-USDT-20250101T000100Z", "BTC-USDT-20250101T000300Z"]
    assert ledger["engines_agreeing"].to_list() == ["trend,tape", "trend,tape"]
    assert ledger["regime"].to_list() == ["TREND", "TREND"]


def test_costs_lower_every_trade_and_ledger_is_deterministic() -> None:
    """A random walk with random signals: the exit rules bound every trade whatever the path."""
    rng = np.random.default_rng(7)
    n = 3000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 8e-4, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 6e-4, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 6e-4, n))
    bars = list(zip(open_, high, low, close, strict=True))
    signals = {int(i): int(rng.choice([-1, 1])) for i in rng.choice(n, 600, replace=False)}
    first = _trade(bars, signals=signals)
    second = _trade(bars, signals=signals)
    assert first.height > 50
    assert first.equals(second)
    assert (first["net_bps"] < first["gross_bps"]).all()
    # TREND, confidence 0.5: a stop never loses less than 50 bps (a gap loses more), a take profit fills at
    # exactly 15 bps, and no trade outlives the 240-minute max hold.
    stopped, took = (first.filter(pl.col("exit_reason") == r)["gross_bps"] for r in ("stop_loss", "take_profit"))
    assert stopped.len() > 0 and took.len() > 0
    assert (stopped <= -50.0 + 1e-9).all()
    np.testing.assert_allclose(took, 15.0, atol=1e-9)
    assert first["bars_held"].max() <= 240
    # one position at a time: each entry comes after the previous exit
    assert (first["entry_time"].shift(-1).drop_nulls() > first["exit_time"].head(first.height - 1)).all()


def test_no_trades_gives_empty_ledger_with_columns() -> None:
    ledger = _trade([SIGNAL, SIGNAL], signals={})
    assert ledger.height == 0
    assert list(ledger.columns[: len(LEDGER_COLUMNS)]) == list(LEDGER_COLUMNS)


# perpetual fees (maker 2, taker 5) with the same quote: a taker leg pays 5 + 1 + 0.5 = 6.5 bps, a maker leg 2
MAKER = CostModel(default_fees=fee_profile("binance-perp-vip0"), order_type="maker", quotes=COSTS.quotes)


def _fills(bars, signals, costs: CostModel = MAKER, hours: float = 0.0, timeframe: str = "1m"):
    minutes = {"1m": 1, "15m": 15}[timeframe]
    frame = _frame(bars, minutes=minutes).with_columns(pl.col("timestamp") + timedelta(hours=hours))
    return shadow_fills(frame, _decisions(frame, signals), "BTC-USDT", timeframe, costs=costs)


@pytest.mark.parametrize(
    ("direction", "next_bar", "filled"),
    [
        (1, (100.1, 100.2, 100.0, 100.1), False),  # the low only touches the buy limit at 100
        (1, (100.1, 100.2, 99.99, 100.1), True),  # traded through it
        (-1, (99.9, 100.0, 99.8, 99.9), False),  # the high only touches the sell limit
        (-1, (99.9, 100.01, 99.8, 99.9), True),
    ],
)
def test_maker_entry_fills_only_when_traded_through(direction, next_bar, filled) -> None:
    fills = _fills([SIGNAL, next_bar, (100.0, 100.0, 100.0, 100.0)], {0: direction})
    assert fills.ledger.height == int(filled)
    assert fills.missed.height == int(not filled)  # a missed entry is a missed signal, never a trade
    if filled:
        assert fills.ledger["entry_price"][0] == 100.0  # the limit: the signal bar's close
    else:
        missed = fills.missed.row(0, named=True)
        assert missed["signal_time"] == START and missed["entry_time"] == START + timedelta(minutes=1)
        assert missed["limit_price"] == 100.0 and missed["direction"] == direction
    taker = _fills([SIGNAL, next_bar, (100.0, 100.0, 100.0, 100.0)], {0: direction}, COSTS)
    assert taker.ledger.height == 1 and taker.missed.is_empty()


def test_maker_take_profit_pays_the_maker_fee_a_stop_the_taker_leg() -> None:
    through = (100.0, 100.05, 99.99, 100.0)
    took = _fills([SIGNAL, through, (100.0, 100.2, 99.9, 100.1)], {0: 1}).ledger.row(0, named=True)
    assert took["exit_reason"] == "take_profit"
    assert took["fees_paid"] == pytest.approx(0.4) and took["spread_paid"] == 0 and took["slippage_paid"] == 0
    assert took["net_bps"] == pytest.approx(15.0 - 4.0)
    stopped = _fills([SIGNAL, through, (100.0, 100.1, 99.4, 99.6)], {0: 1}).ledger.row(0, named=True)
    assert stopped["exit_reason"] == "stop_loss"
    assert stopped["net_bps"] == pytest.approx(-50.0 - 2.0 - 6.5)


def test_maker_entry_bar_is_conservative() -> None:
    # the fill came after the open: no take profit at an open beyond it, and a stop touched in the bar comes first
    above = _fills([SIGNAL, (100.3, 100.3, 99.9, 100.0), SIGNAL], {0: 1}).ledger.row(0, named=True)
    assert above["exit_reason"] == "take_profit" and above["exit_price"] == pytest.approx(100.15)
    assert above["exit_time"] == START + timedelta(minutes=1)
    both = _fills([SIGNAL, (100.1, 100.3, 99.4, 100.0), SIGNAL], {0: 1}).ledger.row(0, named=True)
    assert both["exit_reason"] == "stop_loss" and both["exit_price"] == pytest.approx(99.5)
    gap = _fills([SIGNAL, (99.3, 100.0, 99.2, 99.6), SIGNAL], {0: 1}).ledger.row(0, named=True)
    assert gap["exit_price"] == pytest.approx(99.5)  # the stop's level, not the open the fill came after


@pytest.mark.parametrize("direction", [1, -1])
def test_funding_in_the_ledger(direction: int) -> None:
    """15m bars from 07:00: entry at 07:15, a take profit on the 08:15 bar spans the 08:00 settlement."""
    perp = CostModel(default_fees=fee_profile("binance-perp-vip0"), quotes=FixedQuotes(2.0, 0.5, funding_rate=3e-4))
    flat = (100.0, 100.05, 99.95, 100.0)
    tp = (100.0, 100.2, 99.8, 100.0) if direction > 0 else (100.0, 100.05, 99.8, 100.0)
    ledger = _fills([SIGNAL, flat, flat, flat, flat, tp, flat], {0: direction}, perp, 7.0, "15m").ledger
    row = ledger.row(0, named=True)
    assert row["exit_reason"] == "take_profit" and row["exit_time"] == START + timedelta(hours=8, minutes=15)
    assert row["funding_paid"] == pytest.approx(direction * 3e-4 * 1000.0)  # longs pay, shorts receive
    assert row["net_bps"] == pytest.approx(15.0 - 2 * 6.5 - direction * 3.0)
    before = _fills([SIGNAL, flat, tp, flat], {0: direction}, perp, 7.0, "15m").ledger  # out at 07:30
    assert before["funding_paid"].to_list() == [0.0]
