"""One UTC day of one coin as Hamilton traded it, read from its logs: the round trips entered that day, beside
what else the day's logs say (fills missed or dropped, each decision's outcome, the refusals by rule).

A round trip is an ``entry`` row and the ``exit`` row of the same position; the exit may be logged on a later
day (a position held over midnight), so the following days' logs are read until every position of the day has
left or the logs end (the trip is then still open: its exit columns are null). The shape follows the shadow
trader's ledger, so the two are read side by side: a day is the trades *entered* on it, prices as filled,
costs by part in quote currency and, over the round trip, in bps of the entry notional.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from huracan_core.day_keys import DayKey
from huracan_core.paper.logs import TIME, log_frame
from huracan_core.storage.keys import live_log_key, live_logs_prefix
from huracan_core.storage.store import ArtifactStore
from huracan_core.trading.costs import BPS

ROUND_TRIP = pl.Schema(
    {
        "position_id": pl.String,
        "symbol": pl.String,
        "direction": pl.Int8,
        #: the bar the entry filled in (at its open) and the bar the exit filled in
        "entry_time": TIME,
        "exit_time": TIME,
        "entry_price": pl.Float64,
        "exit_price": pl.Float64,
        #: the entry notional (quote currency): the risk manager's size
        "notional": pl.Float64,
        "exit_reason": pl.String,
        #: both legs' costs (quote currency); funding over the whole hold
        "fees": pl.Float64,
        "spread": pl.Float64,
        "slippage": pl.Float64,
        "funding": pl.Float64,
        #: the move alone, the costs, and what is left, in bps of the entry notional
        "gross_bps": pl.Float64,
        "costs_bps": pl.Float64,
        "net_bps": pl.Float64,
        "net_pnl": pl.Float64,
        "model_folder": pl.String,
        "mlflow_version": pl.String,
        "risk_rule": pl.String,
    }
)
COSTS = ("fees", "spread", "slippage", "funding")


@dataclass(frozen=True)
class PaperDay:
    day: date
    symbol: str
    #: Hamilton wrote a log of trades for the day (it ran then), whatever it traded
    logged: bool
    #: the round trips entered on the day (``ROUND_TRIP``), entry time order; a trip still open has null exits
    trades: pl.DataFrame
    #: the day's trade-log rows of the coin by event: entry, exit, missed, dropped
    events: dict[str, int]
    #: the day's decisions of the coin by outcome (approved, refused, no_signal, holding, paused …)
    outcomes: dict[str, int]
    #: the day's refused entries of the coin by the rule that refused them
    refusals: dict[str, int]
    #: the coin's bars of the day Hamilton decided (whatever the outcome): how much of the day it watched the coin
    bars: int
    #: the champions (model folders) in force at the coin's bars of the day, by bars decided with each: whose
    #: out-of-sample record the day answers to (a promotion during the day names two)
    champions: dict[str, int]

    @property
    def open_trades(self) -> int:
        return int(self.trades["exit_time"].is_null().sum())

    @property
    def champion(self) -> str | None:
        """The champion in force at most of the coin's bars of the day; None when no champion decided one."""
        return max(sorted(self.champions), key=self.champions.__getitem__) if self.champions else None


def paper_days(store: ArtifactStore, timeframe: str, keys: Sequence[DayKey]) -> dict[DayKey, PaperDay]:
    """Each (day, symbol)'s ``PaperDay``; a day Hamilton did not run gives an empty one (``logged`` false)."""
    trades = {day: _read(store, "trades", timeframe, day) for day in sorted({day for day, _ in keys})}
    decisions = {day: _read(store, "decisions", timeframe, day) for day in trades}
    out = {}
    for day, symbol in keys:
        logged = trades[day] is not None
        rows = _of(trades[day], "trades", symbol)
        decided = _of(decisions[day], "decisions", symbol)
        entries = rows.filter(pl.col("event") == "entry")
        exits = _exits(store, timeframe, day, rows, set(entries["position_id"]))
        refused = decided.filter(pl.col("outcome") == "refused")
        out[(day, symbol)] = PaperDay(
            day=day,
            symbol=symbol,
            logged=logged,
            trades=_round_trips(entries, exits),
            events=dict(Counter(rows["event"].to_list())),
            outcomes=dict(Counter(decided["outcome"].to_list())),
            refusals=dict(Counter(refused["rule"].to_list())),
            bars=decided["bar_time"].n_unique(),
            champions=dict(Counter(decided["model_folder"].drop_nulls().to_list())),
        )
    return out


def _read(store: ArtifactStore, kind: str, timeframe: str, day: date) -> pl.DataFrame | None:
    key = live_log_key(kind, timeframe, day)
    return store.read_parquet(key) if store.exists(key) else None


def _of(frame: pl.DataFrame | None, kind: str, symbol: str) -> pl.DataFrame:
    return log_frame(kind, []) if frame is None else frame.filter(pl.col("symbol") == symbol)


def _exits(store: ArtifactStore, timeframe: str, day: date, rows: pl.DataFrame, ids: set[str]) -> pl.DataFrame:
    """The exit rows of positions ``ids``: the day's, then each later day's log until every one has left."""
    found = [rows.filter((pl.col("event") == "exit") & pl.col("position_id").is_in(ids))]
    missing = ids - set(found[0]["position_id"])
    later = (
        k for k in store.list_keys(live_logs_prefix("trades", timeframe)) if k > live_log_key("trades", timeframe, day)
    )
    while missing and (key := next(later, None)) is not None:
        exits = store.read_parquet(key).filter((pl.col("event") == "exit") & pl.col("position_id").is_in(missing))
        found.append(exits)
        missing -= set(exits["position_id"])
    return pl.concat(found)


def _round_trips(entries: pl.DataFrame, exits: pl.DataFrame) -> pl.DataFrame:
    if entries.is_empty():
        return pl.DataFrame(schema=ROUND_TRIP)
    legs = exits.select(
        "position_id",
        exit_time=pl.col("fill_bar"),
        exit_price=pl.col("price"),
        exit_reason=pl.col("exit_reason"),
        net_pnl=pl.col("net_pnl"),
        net_bps=pl.col("net_bps"),
        **{f"{c}_out": pl.col(c) for c in COSTS},
    )
    joined = entries.drop("exit_reason", "net_pnl", "net_bps").join(legs, on="position_id", how="left")
    per_bps = pl.col("notional") / BPS
    costs = pl.sum_horizontal(pl.col(c) + pl.col(f"{c}_out") for c in COSTS)
    trips = joined.select(
        "position_id",
        "symbol",
        "direction",
        pl.col("fill_bar").alias("entry_time"),
        "exit_time",
        pl.col("price").alias("entry_price"),
        "exit_price",
        "notional",
        "exit_reason",
        *[(pl.col(c) + pl.col(f"{c}_out").fill_null(0.0)).alias(c) for c in COSTS],
        (pl.col("direction") * (pl.col("exit_price") / pl.col("price") - 1.0) * BPS).alias("gross_bps"),
        pl.when(pl.col("exit_time").is_not_null()).then(costs / per_bps).alias("costs_bps"),
        "net_bps",
        "net_pnl",
        "model_folder",
        "mlflow_version",
        "risk_rule",
    )
    return trips.sort("entry_time").select(pl.col(name).cast(dtype) for name, dtype in ROUND_TRIP.items())
