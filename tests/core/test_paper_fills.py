"""A position followed bar by bar exits where the shadow trader's one-shot trade of its signal exits: the same bar,
price, reason and costs, under taker and maker orders, on real candles; and its two legs' costs add up to the
trade's net."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from huracan_core.paper.fills import follow
from huracan_core.paper.signals import Signal
from huracan_core.sources import open_source
from huracan_core.trading.costs import BPS, CostModel, order_type
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.shadow_trader import shadow_fills

TF = "15m"
SYMBOL = "SOL-USDT"
EXITS = ExitConfig()
#: long enough for any max hold of the default exits (240 minutes = 16 bars) to end inside it
HORIZON = 40


@pytest.fixture(scope="module")
def candles() -> pl.DataFrame:
    start = datetime(2024, 8, 3, tzinfo=UTC)  # the 2024-08-05 crash inside: gaps through stops
    return open_source("bundled").fetch(SYMBOL, TF, start, start + timedelta(days=5))


def _signal(rng: np.random.Generator, at: datetime) -> Signal:
    return Signal(
        symbol=SYMBOL,
        signal_time=at,
        direction=int(rng.choice([-1, 1])),
        notional=float(rng.uniform(50, 50_000)),
        regime=str(rng.choice(["TREND", "RANGE", "PANIC", "UNKNOWN"])),
        confidence=float(rng.uniform(0, 1)),
        engines_agreeing="trend",
        expected_edge_bps=float(rng.uniform(0, 30)),
        model_folder="models/SOL-USDT/15m/20240801_000000Z",
        mlflow_version="1",
        decision={},
    )


def _one_shot(signal: Signal, frame: pl.DataFrame, costs: CostModel) -> tuple[bool, dict]:
    first = [True] + [False] * (frame.height - 1)
    decisions = pl.DataFrame(
        {
            "timestamp": frame["timestamp"],
            "direction": pl.Series([signal.direction if f else 0 for f in first], dtype=pl.Int8),
            "confidence": [signal.confidence] * frame.height,
            "recommendation": ["TAKE" if f else "SKIP" for f in first],
            "engines_agreeing": [signal.engines_agreeing] * frame.height,
            "expected_edge_bps": [signal.expected_edge_bps] * frame.height,
        }
    )
    fills = shadow_fills(
        frame.with_columns(regime=pl.lit(signal.regime)),
        decisions,
        SYMBOL,
        TF,
        "binance",
        dataclasses.replace(EXITS, notional=signal.notional),
        costs=costs,
        entry_features=False,
    )
    return bool(fills.missed.height), fills.ledger.row(0, named=True) if fills.ledger.height else {}


@pytest.mark.parametrize("order", ["taker", "maker"])
def test_following_bar_by_bar_exits_where_the_one_shot_trade_exits(candles: pl.DataFrame, order: str) -> None:
    costs = CostModel(order_type=order_type(order))
    rng = np.random.default_rng(11)
    exits = missed_entries = 0
    for start in rng.choice(candles.height - HORIZON, size=25, replace=False):
        frame = candles[int(start) : int(start) + HORIZON]
        signal = _signal(rng, frame["timestamp"][0])
        missed, expected = _one_shot(signal, frame, costs)
        assert expected.get("exit_reason") != "end_of_data", "the horizon must outlast the max hold"
        assert (
            follow(signal, frame, signal.signal_time, timeframe=TF, exchange="binance", costs=costs, exits=EXITS)
            is None
        )
        for bar in frame["timestamp"][1:]:
            followed = follow(signal, frame, bar, timeframe=TF, exchange="binance", costs=costs, exits=EXITS)
            assert followed is not None
            if followed.missed:
                assert missed and bar == frame["timestamp"][1]
                missed_entries += 1
                break
            if followed.still_open:
                assert bar < expected["exit_time"]
                continue
            trade = followed.trade
            assert bar == expected["exit_time"]
            for column in ("entry_time", "exit_time", "entry_price", "exit_price", "exit_reason", "size"):
                assert trade[column] == expected[column], column
            for column in ("net_pnl", "fees_paid", "spread_paid", "slippage_paid", "funding_paid"):
                assert trade[column] == pytest.approx(expected[column], rel=1e-12, abs=1e-12), column
            gross = trade["size"] * trade["direction"] * (trade["exit_price"] / trade["entry_price"] - 1)
            net = gross - followed.entry_cost() - followed.exit_cost()
            assert net == pytest.approx(trade["net_pnl"], rel=1e-9, abs=1e-9)
            exits += 1
            break
        else:
            raise AssertionError(f"signal at {signal.signal_time}: never exited within {HORIZON} bars")
    assert exits >= 10 and (missed_entries > 0) == (order == "maker")


def test_a_still_open_position_is_priced_as_leaving_at_the_bars_close(candles: pl.DataFrame) -> None:
    """The kill switch closes at the bar's close: the still-open trade is that exit, a taker leg at that bar."""
    costs = CostModel()
    wide = ExitConfig(  # nothing but the max hold ends it: 16 bars held
        stop_bps={"TREND": 5000.0, "UNKNOWN": 5000.0}, take_profit_bands=((0.0, 5000.0),), trail_start_bps=math.inf
    )
    frame = candles[100:140]
    signal = dataclasses.replace(_signal(np.random.default_rng(5), frame["timestamp"][0]), regime="TREND")
    held = 0
    for bar in frame["timestamp"][1:]:
        followed = follow(signal, frame, bar, timeframe=TF, exchange="binance", costs=costs, exits=wide)
        assert followed is not None
        if not followed.still_open:
            assert followed.trade["exit_reason"] == "max_hold"
            break
        trade = followed.trade
        assert trade["exit_time"] == bar and trade["exit_price"] == frame.filter(pl.col("timestamp") == bar)["close"][0]
        assert followed.exit_cost() > trade["size"] * costs.fee_bps("binance", SYMBOL, "taker") / BPS - 1e-12
        held += 1
    assert held == 15


def test_candles_without_the_signal_bar_are_refused(candles: pl.DataFrame) -> None:
    signal = _signal(np.random.default_rng(1), candles["timestamp"][10])
    with pytest.raises(ValueError, match="lack the signal bar"):
        follow(
            signal,
            candles[11:],
            candles["timestamp"][20],
            timeframe=TF,
            exchange="binance",
            costs=CostModel(),
            exits=EXITS,
        )
