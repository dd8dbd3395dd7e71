"""LOOKS FORWARD ON PURPOSE: every bar's after-cost outcome of a long and a short entered at the next bar's open.

These are the models' targets and the ledger of all opportunities ("shadow trading on everything"), never an
input feature. Each bar is followed with the shadow trader's own exit rules and its own numba kernel
(``simulate_exits`` with ``overlapping``: every bar is an entry, open position or not) and its own costs (fee,
half spread and slippage at the entry bar and at the exit bar): stop by the bar's regime, take profit by the
consensus confidence band of the bar, trailing stop, max hold by regime. The outcome is after every cost the
trade pays, funding included; under maker orders an entry the market never traded through is ``missed``: no
trade, an outcome of 0.

Unlike the daily ledger, which closes a position at midnight to keep days apart, a label lets the trade run its
course, so the last bars of a day finish on the NEXT day's candles (and the exit bar's costs on its candles).
While that day does not exist yet, those bars are pending: null outcomes, and the partition says it waits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from huracan_core.day_keys import DayKey, keyed, require
from huracan_core.timeframes import timeframe_seconds
from huracan_core.trading.bars import join_bars
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.shadow_trader import shadow_fills

SIDES = {"long": 1, "short": -1}
#: the exit reason of a maker entry the next bar did not trade through: outcome 0, known once that bar closed
MISSED_REASON = "missed"
OUTCOME_COLUMNS = ("net_bps", "gross_bps", "exit_reason", "bars_held", "exit_time", "cost_bps")
#: what a label column is called: ``long_net_bps`` … ; a model must never see one as an input
LABEL_PREFIXES = tuple(f"{side}_" for side in SIDES)


@dataclass(frozen=True)
class LabelPartition:
    day: date
    symbol: str
    frame: pl.DataFrame
    #: bars whose outcome needs candles after what exists (null outcome until then)
    pending: int
    next_day_available: bool


def label_bars(
    bars: pl.DataFrame,
    signals: pl.DataFrame,
    symbol: str,
    timeframe: str,
    *,
    exchange: str = "binance",
    costs: CostModel,
    exits: ExitConfig = ExitConfig(),
) -> pl.DataFrame:
    """One row per bar of ``signals`` (the labelled bars): ``long_*`` and ``short_*`` outcomes
    (net_bps, gross_bps, exit_reason, bars_held, exit_time, cost_bps = what both legs cost), ``label_end`` (the
    later exit of the two: when the label is known) and ``complete``.

    ``bars``: candles joined with features and regime over the labelled bars and any later bars the exits may
    need. A trade that runs out of bars (``end_of_data``) has no outcome yet: null.
    """
    labelled = bars.join(signals.select("timestamp", "confidence"), on="timestamp", how="left", maintain_order="left")
    out = signals.select("timestamp")
    for side, direction in SIDES.items():
        decisions = labelled.select(
            "timestamp",
            pl.when(pl.col("confidence").is_not_null()).then(direction).otherwise(0).cast(pl.Int8).alias("direction"),
            pl.col("confidence").fill_null(0.0),
            pl.lit("TAKE").alias("recommendation"),
            pl.lit("").alias("engines_agreeing"),
            pl.lit(0.0).alias("expected_edge_bps"),
        )
        fills = shadow_fills(
            bars, decisions, symbol, timeframe, exchange, exits, costs=costs, overlapping=True, entry_features=False
        )
        trades = fills.ledger.filter(pl.col("exit_reason") != "end_of_data").select(
            pl.col("signal_time").alias("timestamp"),
            "net_bps",
            "gross_bps",
            "exit_reason",
            "bars_held",
            "exit_time",
            (pl.col("gross_bps") - pl.col("net_bps")).alias("cost_bps"),
        )
        missed = fills.missed.select(  # a limit the market never traded through: no trade, nothing won or paid
            pl.col("signal_time").alias("timestamp"),
            pl.lit(0.0).alias("net_bps"),
            pl.lit(0.0).alias("gross_bps"),
            pl.lit(MISSED_REASON).alias("exit_reason"),
            pl.lit(0, pl.Int64).alias("bars_held"),
            pl.col("entry_time").alias("exit_time"),
            pl.lit(0.0).alias("cost_bps"),
        )
        outcome = (
            pl.concat([trades, missed], how="vertical_relaxed")
            .sort("timestamp")
            .rename({c: f"{side}_{c}" for c in OUTCOME_COLUMNS})
        )
        out = out.join(outcome, on="timestamp", how="left", maintain_order="left")
    complete = pl.col("long_net_bps").is_not_null() & pl.col("short_net_bps").is_not_null()
    return out.with_columns(
        label_end=pl.when(complete).then(pl.max_horizontal("long_exit_time", "short_exit_time")),
        complete=complete,
    )


def label_partitions(
    candles: Mapping[DayKey, pl.DataFrame],
    features: Mapping[DayKey, pl.DataFrame],
    regimes: Mapping[DayKey, pl.DataFrame],
    signals: Mapping[DayKey, pl.DataFrame],
    wanted: Sequence[DayKey],
    timeframe: str,
    *,
    exchange: str = "binance",
    costs: CostModel,
    exits: ExitConfig = ExitConfig(),
) -> list[LabelPartition]:
    """Each wanted day's labels, its exits followed into the next day when that day's candles exist.

    The next day is optional (it may not have happened yet); when its candles exist, its features are required
    too: the labels asset declares them, so its bars join the same columns as the day's own (the costs read only
    the candles and the quotes).
    """
    candles, features, regimes, signals = (keyed(f) for f in (candles, features, regimes, signals))
    wanted = sorted(keyed(dict.fromkeys(wanted)))
    for name, frames in {"candles": candles, "features": features, "regimes": regimes, "signals": signals}.items():
        require(name, frames, wanted)
    following = [(day + timedelta(days=1), symbol) for day, symbol in wanted]
    require(
        "features (the next day, whose candles exist: declared with them)",
        features,
        [k for k in following if k in candles],
    )
    parts = []
    for run in _runs(wanted, timeframe, exits):
        symbol, after = run[0][1], (run[-1][0] + timedelta(days=1), run[0][1])
        keys = [*run, after]
        bars = join_bars(
            [candles[k] for k in keys if k in candles],
            [features[k] for k in keys if k in features],
            [regimes[k] for k in run],
        )
        signals_of_run = pl.concat([signals[k] for k in run], how="diagonal_relaxed")
        frame = label_bars(bars, signals_of_run, symbol, timeframe, exchange=exchange, costs=costs, exits=exits)
        by_day = frame.with_columns(pl.col("timestamp").dt.date().alias("_day")).partition_by(
            "_day", as_dict=True, include_key=False
        )
        if set(by_day) - {(day,) for day, _ in run}:
            raise AssertionError(f"{symbol} {run[0][0]}..{run[-1][0]}: labels of another day")
        for day, _ in run:
            part = by_day.get((day,), frame.clear())
            following = (day + timedelta(days=1), symbol)
            parts.append(LabelPartition(day, symbol, part, int((~part["complete"]).sum()), following in candles))
    return sorted(parts, key=lambda part: (part.day, part.symbol))


def _runs(wanted: Sequence[DayKey], timeframe: str, exits: ExitConfig) -> list[list[DayKey]]:
    """Consecutive days of a symbol, labelled in one pass: every bar is followed on its own (exit parameters read
    at its own bar, costs at its entry and exit bars), so a bar's outcome reads only the bars up to its exit, which
    the longest hold keeps within the next day — the bars a day alone reads. Were a hold a day or longer, a day's
    outcomes would depend on how many days followed it in the run: each day is then labelled alone."""
    longest = timedelta(minutes=max(exits.max_hold_minutes.values())) + 2 * timedelta(
        seconds=timeframe_seconds(timeframe)
    )
    together = longest <= timedelta(days=1)
    runs: list[list[DayKey]] = []
    for day, symbol in sorted(wanted, key=lambda k: (k[1], k[0])):
        last = runs[-1][-1] if runs else None
        if together and last is not None and last[1] == symbol and last[0] == day - timedelta(days=1):
            runs[-1].append((day, symbol))
        else:
            runs.append([(day, symbol)])
    return runs
