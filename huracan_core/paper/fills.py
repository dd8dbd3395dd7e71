"""Paper fills by the shadow trader itself: a position is the shadow trader's trade of its one signal, followed
over the bars closed so far.

At every bar the signal is traded again by ``shadow_fills`` over the candles from the signal bar to the bar just
closed. The trader's kernel reads bars in order and decides each bar's exit from that bar and those before it, so
the first bar at which this run exits (any reason but ``end_of_data``) is the bar the one-shot shadow trade over
a longer window exits at, at the same price and with the same costs (fee, spread, slippage on both legs at their
bars' quotes, funding over the hold, maker or taker as configured). ``end_of_data`` only means the position is
still open at the bar's close — which is also where the kill switch closes it, a taker leaving at the close.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from huracan_core.paper.signals import Signal
from huracan_core.trading.costs import BPS, CostModel
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.shadow_trader import shadow_fills

STILL_OPEN = "end_of_data"


@dataclass(frozen=True)
class Followed:
    """A signal's trade as of one bar: ``missed`` (a maker limit the next bar did not trade through: no trade) or
    the trade — its entry, and its exit when ``exit_reason`` is not ``end_of_data`` (still open)."""

    missed: bool
    #: the shadow trader's ledger row with each leg's costs (``LEG_COLUMNS``); empty when missed
    trade: dict[str, Any]

    @property
    def entry_time(self) -> datetime:
        return self.trade["entry_time"]

    @property
    def still_open(self) -> bool:
        return self.trade["exit_reason"] == STILL_OPEN

    def entry_cost(self) -> float:
        """What the entry leg paid (quote currency): fee, half the spread, slippage."""
        t = self.trade
        return (t["fee_in"] + t["spread_in"] + t["slip_in"]) * t["size"] / BPS

    def exit_cost(self) -> float:
        """What the exit leg and the hold paid: fee, half the spread, slippage, and the funding."""
        t = self.trade
        return (t["fee_out"] + t["spread_out"] + t["slip_out"]) * t["size"] / BPS + t["funding_paid"]


def follow(
    signal: Signal,
    candles: pl.DataFrame,
    bar: datetime,
    *,
    timeframe: str,
    exchange: str,
    costs: CostModel,
    exits: ExitConfig,
) -> Followed | None:
    """The signal traded over ``candles`` from its signal bar to ``bar`` (open times, both included); None while
    no bar after the signal bar has closed."""
    rows = candles.filter((pl.col("timestamp") >= signal.signal_time) & (pl.col("timestamp") <= bar))
    if rows.is_empty() or rows["timestamp"][0] != signal.signal_time:
        raise ValueError(
            f"{signal.symbol}: the candles given lack the signal bar {signal.signal_time.isoformat()} of its position"
        )
    if rows.height < 2:
        return None
    first = [True] + [False] * (rows.height - 1)
    decisions = pl.DataFrame(
        {
            "timestamp": rows["timestamp"],
            "direction": pl.Series([signal.direction if f else 0 for f in first], dtype=pl.Int8),
            "confidence": pl.Series([signal.confidence] * rows.height, dtype=pl.Float64),
            "recommendation": ["TAKE" if f else "SKIP" for f in first],
            "engines_agreeing": pl.Series([signal.engines_agreeing] * rows.height, dtype=pl.String),
            "expected_edge_bps": pl.Series([signal.expected_edge_bps] * rows.height, dtype=pl.Float64),
            "policy": ["model"] * rows.height,
            "model_version": [signal.model_folder] * rows.height,
        }
    )
    frame = rows.with_columns(regime=pl.lit(signal.regime))  # the exits read the signal bar's regime only
    fills = shadow_fills(
        frame,
        decisions,
        signal.symbol,
        timeframe,
        exchange,
        dataclasses.replace(exits, notional=signal.notional),
        costs=costs,
        entry_features=False,
        legs=True,
    )
    if fills.missed.height:
        return Followed(missed=True, trade={})
    return Followed(missed=False, trade=fills.ledger.row(0, named=True))
