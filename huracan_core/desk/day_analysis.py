"""What a symbol-day's trades and labelled opportunities teach — what the date × symbol ``trade_analysis`` asset runs.

Post-exit outcomes look forward in time on purpose (see ``trading.analysis``); they read the next day's candles when
those exist, and are null — and reported as waiting — when they do not yet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from itertools import pairwise

import numpy as np
import polars as pl

from huracan_core.day_keys import DayKey, require
from huracan_core.models.opportunities import opportunity_ledger
from huracan_core.trading.analysis import TABLE_NAMES, Outcomes, Span, post_exit_columns, table_frames, tables
from huracan_core.trading.bars import join_bars, schema_groups
from huracan_core.trading.exits import ExitConfig

POST_EXIT_HORIZONS = (5, 30, 120)
#: the column that tells a symbol's days apart while they are analysed together
DAY_COLUMN = "_day"


@dataclass(frozen=True)
class TradeAnalysis:
    #: the day's traded ledger (``kind`` = ``trade``) and every labelled opportunity (``kind`` = ``opportunity``),
    #: each with its post-exit columns
    trades: pl.DataFrame
    #: win/loss, regime and pattern tables of the traded ledger and of the opportunities
    traded: dict[str, pl.DataFrame]
    opportunities: dict[str, pl.DataFrame]
    #: trades whose post-exit horizons run past the candles given (null until later candles exist)
    pending: list[str] = field(default_factory=list)
    next_day_available: bool = False


def analyse_partitions(
    ledgers: Mapping[DayKey, pl.DataFrame],
    labels: Mapping[DayKey, pl.DataFrame],
    candles: Mapping[DayKey, pl.DataFrame],
    features: Mapping[DayKey, pl.DataFrame],
    regimes: Mapping[DayKey, pl.DataFrame],
    wanted: Sequence[DayKey],
    notional: float = ExitConfig().notional,
) -> dict[DayKey, TradeAnalysis]:
    """Each wanted day's ledger and labelled opportunities, analysed against its own and (when materialized) the
    next day's candles.

    A symbol's days are analysed together (one query for all their rows, not one per day: most of a day's cost
    was the queries' own), and each day's rows still read only that day's inputs and candles, so a day gives the
    same bytes whichever days are analysed with it."""
    inputs = {"shadow_trades": ledgers, "labels": labels, "candles": candles, "features": features, "regimes": regimes}
    for name, frames in inputs.items():
        require(name, frames, wanted)
    days_of: dict[str, list[date]] = {}
    for day, symbol in sorted(set(wanted)):
        days_of.setdefault(symbol, []).append(day)
    found: dict[DayKey, TradeAnalysis] = {}
    for symbol, days in days_of.items():
        for group in schema_groups(days, partial(_day_frames, symbol=symbol, inputs=inputs)):
            found |= _analyse_group(group, symbol, ledgers, labels, candles, features, regimes, notional)
    return {key: found[key] for key in sorted(wanted)}


def _day_frames(day: date, symbol: str, inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]]) -> list[pl.DataFrame]:
    """The frames a day's analysis concatenates with its group's: each input's, and the next day's candles (its
    own when those are absent)."""
    key, candles = (day, symbol), inputs["candles"]
    return [*(frames[key] for frames in inputs.values()), candles.get((day + timedelta(days=1), symbol), candles[key])]


def _analyse_group(
    days: list[date],
    symbol: str,
    ledgers: Mapping[DayKey, pl.DataFrame],
    labels: Mapping[DayKey, pl.DataFrame],
    candles: Mapping[DayKey, pl.DataFrame],
    features: Mapping[DayKey, pl.DataFrame],
    regimes: Mapping[DayKey, pl.DataFrame],
    notional: float,
) -> dict[DayKey, TradeAnalysis]:
    """Days of one symbol whose inputs share their schemas. Each day's own and next day's candles are its bars,
    tagged with the day (a candle of two days' reach is in both), so each day's entries and post-exit outcomes
    read only them, as when it is analysed alone."""
    keys = [(day, symbol) for day in days]
    reach = [[k for k in ((day, symbol), (day + timedelta(days=1), symbol)) if k in candles] for day in days]
    bars = join_bars(
        [_tagged([(i, candles[k]) for i, seen in enumerate(reach) for k in seen])],
        [_tagged([(i, features[k]) for i, k in enumerate(keys)])],
        [_tagged([(i, regimes[k]) for i, k in enumerate(keys)])],
        day=DAY_COLUMN,
    )
    labelled = _tagged([(i, labels[k]) for i, k in enumerate(keys)])
    chances = opportunity_ledger(labelled, bars, symbol, notional, day=DAY_COLUMN)
    bounds = np.cumsum([0, *np.bincount(bars[DAY_COLUMN].to_numpy(), minlength=len(days))]).tolist()
    analyses = _analyse_days(
        [ledgers[k] for k in keys],
        chances.drop(DAY_COLUMN),
        np.bincount(chances[DAY_COLUMN].to_numpy(), minlength=len(days)).tolist(),
        bars.select("timestamp", "open", "high", "low"),
        list(pairwise(bounds)),
        POST_EXIT_HORIZONS,
    )
    return {
        key: dataclasses.replace(analysis, next_day_available=len(seen) > 1)
        for key, analysis, seen in zip(keys, analyses, reach, strict=True)
    }


def _tagged(frames: Sequence[tuple[int, pl.DataFrame]]) -> pl.DataFrame:
    """The frames one after another, each row's ``DAY_COLUMN`` the index its frame came with."""
    day = np.repeat([i for i, _ in frames], [frame.height for _, frame in frames]).astype(np.uint32)
    return pl.concat([frame for _, frame in frames], how="vertical_relaxed").with_columns(pl.Series(DAY_COLUMN, day))


def _analyse_days(
    ledgers: Sequence[pl.DataFrame],
    opportunities: pl.DataFrame,
    sizes: Sequence[int],
    candles: pl.DataFrame,
    windows: Sequence[tuple[int, int]],
    horizons_minutes: tuple[int, ...],
) -> list[TradeAnalysis]:
    """Days one after another: each day's ledger, its ``sizes[i]`` rows of ``opportunities`` and its rows
    ``windows[i]`` of the time-sorted ``candles``. The days share the queries; each day's rows and tables are
    computed from its own rows only."""
    traded = pl.concat(list(ledgers), how="vertical_relaxed")
    trades = [ledger.height for ledger in ledgers]
    first_trade, first_chance = _starts(trades, 0), _starts(sizes, traded.height)
    order = np.concatenate(
        [
            np.r_[trade : trade + t, chance : chance + c].astype(np.int64)  # the day's trades, then its opportunities
            for trade, t, chance, c in zip(first_trade, trades, first_chance, sizes, strict=True)
        ]
    )
    both = pl.concat([traded.with_columns(kind=pl.lit("trade")), opportunities], how="diagonal_relaxed")[order]
    first_row = _starts([t + c for t, c in zip(trades, sizes, strict=True)], 0)
    spans = [
        Span(row, row + t + c, lo, hi) for row, t, c, (lo, hi) in zip(first_row, trades, sizes, windows, strict=True)
    ]
    rows = both.hstack(post_exit_columns(both, candles, spans, horizons_minutes))
    pending = _pending(rows, candles, spans, trades, max(horizons_minutes))
    traded_tables = _day_tables(Outcomes.of(traded), first_trade, trades)
    chance_tables = _day_tables(Outcomes.of(opportunities), [s - traded.height for s in first_chance], sizes)
    return [
        TradeAnalysis(
            trades=rows.slice(span.first_row, span.stop_row - span.first_row),
            traded=traded_tables[i],
            opportunities=chance_tables[i],
            pending=pending[i],
        )
        for i, span in enumerate(spans)
    ]


def _starts(counts: Sequence[int], first: int) -> list[int]:
    return np.cumsum([first, *counts])[:-1].tolist()


def _pending(
    rows: pl.DataFrame, candles: pl.DataFrame, spans: Sequence[Span], trades: Sequence[int], minutes: int
) -> list[list[str]]:
    """Each day's trades whose longest horizon ends after its last candle: all its rows when it has none."""
    last = [span.stop_candle - 1 if span.stop_candle > span.first_candle else None for span in spans]
    day_of_row = np.repeat(np.arange(len(spans)), [span.stop_row - span.first_row for span in spans])
    last_candle = candles["timestamp"].gather(pl.Series(last, dtype=pl.Int64).gather(day_of_row))
    late = ((rows["exit_time"] + timedelta(minutes=minutes)) > last_candle).fill_null(False)
    ids, late_rows = rows["trade_id"].to_list(), late.to_list()
    return [
        ids[span.first_row : span.stop_row]
        if last[i] is None
        else [ids[j] for j in range(span.first_row, span.first_row + trades[i]) if late_rows[j]]
        for i, span in enumerate(spans)
    ]


def _day_tables(outcomes: Outcomes, starts: Sequence[int], sizes: Sequence[int]) -> list[dict[str, pl.DataFrame]]:
    """Each day's tables from its own rows of ``outcomes``; the frames of all the days built at once."""
    per_day = [tables(outcomes.rows(start, start + size)) for start, size in zip(starts, sizes, strict=True)]
    cut = {name: table_frames([day[name] for day in per_day]) for name in TABLE_NAMES}
    return [{name: cut[name][i] for name in TABLE_NAMES} for i in range(len(per_day))]
