"""One symbol-day of shadow trading, and what its trades teach — what the date × symbol trading assets run.

A day is traded flat-to-flat by the newest gate-passing coin model trained before it, or else by the rules-only
consensus of the day's signals (which carry the engines' warm-up): trading starts flat at 00:00 UTC, only the
day's bars can enter, and a position still open on the day's last bar is closed at its close as
``end_of_data``. So a day's ledger holds exactly the trades entered that day, and re-running one day never
depends on what a neighbouring day's ledger did.

Post-exit outcomes look forward in time on purpose (see ``analysis``); they read the next day's candles when those
exist, and are null — and reported as waiting — when they do not yet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from itertools import pairwise
from typing import cast

import numpy as np
import polars as pl

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey, label, require
from huracan_core.health.patterns import pattern_key
from huracan_core.models.inputs import with_signals
from huracan_core.models.opportunities import opportunity_ledger
from huracan_core.models.policy import CoinModel, rules_decisions
from huracan_core.trading.analysis import TABLE_NAMES, Outcomes, Span, post_exit_columns, table_frames, tables
from huracan_core.trading.backtest import BacktestResult, run_backtests
from huracan_core.trading.bars import join_bars
from huracan_core.trading.consensus import ConsensusConfig
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.no_trades import why_no_trades

POST_EXIT_HORIZONS = (5, 30, 120)
#: the column that tells a symbol's days apart while they are analysed together
DAY_COLUMN = "_day"


@dataclass(frozen=True)
class TradingDay:
    day: date
    symbol: str
    ledger: pl.DataFrame
    costs: dict[str, float]
    metrics: dict[str, float]
    equity: pl.DataFrame  # timestamp, equity over the day's bars
    bars: int
    #: ``model`` (a gate-passing coin model decided) or ``rules`` (the consensus fallback)
    policy: str
    #: the deciding model's folder, "" for the rules
    model_version: str
    #: why this policy: which model, or why none could be used
    reason: str
    recipe_hash: str = ""
    #: why the ledger is empty (``no_trades.why_no_trades``); "" when the day traded
    no_trades_because: str = ""
    #: the trades the day's paused patterns would have taken, traded apart (their recovery is judged on them)
    would_be: pl.DataFrame | None = None


def _why_no_trades(model: CoinModel | None, decisions: pl.DataFrame, quoted: pl.DataFrame) -> str:
    """The signals are decided with the default consensus, so its safety margin is the one the rules had to beat; a
    model had to beat its rule's lowest enabled threshold, and with no side enabled it could not trade at all."""
    if model is None:
        return why_no_trades(decisions, quoted, ConsensusConfig().safety_margin_bps)
    rule = model.rule
    enabled = [t for t in (rule.long_threshold_bps, rule.short_threshold_bps) if t is not None]
    if not enabled:
        return (
            f"model: its rule ({rule.describe()}) trades no side: on the slice of its training window its "
            "thresholds were chosen on, no side beat costs + margin"
        )
    return why_no_trades(decisions, quoted, min(enabled)) + f" ({rule.describe()})"


def trade_partitions(
    candles: Mapping[DayKey, pl.DataFrame],
    features: Mapping[DayKey, pl.DataFrame],
    regimes: Mapping[DayKey, pl.DataFrame],
    signals: Mapping[DayKey, pl.DataFrame],
    wanted: Sequence[DayKey],
    timeframe: str,
    *,
    models: Mapping[DayKey, CoinModel] = {},
    no_model: Mapping[DayKey, str] = {},
    exchange: str = "binance",
    costs: CostModel,
    exits: ExitConfig = ExitConfig(),
    capital: float = 10_000.0,
    paused: Mapping[date, frozenset[str]] = {},
) -> list[TradingDay]:
    """Every wanted (day, symbol) traded flat-to-flat by its model in ``models`` (a gate-passing model trained
    before the day), or by the rules-only consensus of the day's ``signals`` (``no_model`` says why).

    ``paused``: the pattern keys paused on each day (``health.pauses``, in effect from the day after the pause):
    their signals are skipped, and traded apart as the day's ``would_be`` ledger.

    The signals already carry the engines' warm-up, so a day reads only its own partitions. Raises
    ``MissingPartitionError`` naming the wanted partitions whose own inputs are absent.

    A symbol's days are joined and traded in one pass (``_batches``), each day still a stretch of its own: every
    day is exactly what trading it alone gives.
    """
    inputs = {"candles": candles, "features": features, "regimes": regimes, "signals": signals}
    for name, frames in inputs.items():
        require(name, frames, wanted)
    for key in sorted(wanted):
        model = models.get(key)
        if model is not None and model.cutoff > day_start(key[0]):
            raise AssertionError(
                f"{label(key)}: model {model.folder} was trained on data up to {model.cutoff}, after the day began"
            )
    backtests = partial(
        run_backtests, timeframe=timeframe, exchange=exchange, exits=exits, capital=capital, costs=costs
    )
    traded: dict[DayKey, TradingDay] = {}
    for keys in _batches(sorted(set(wanted)), inputs):
        traded |= _trade_batch(keys, inputs, models, no_model, paused, backtests)
    return [traded[key] for key in sorted(wanted)]


def _trade_batch(
    keys: Sequence[DayKey],
    inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]],
    models: Mapping[DayKey, CoinModel],
    no_model: Mapping[DayKey, str],
    paused: Mapping[date, frozenset[str]],
    backtests: Callable[..., list[BacktestResult]],
) -> dict[DayKey, TradingDay]:
    """One batch's days (``_batches``), each decided by its own policy on its own view and traded as a stretch of
    its own; ``backtests``: ``run_backtests`` with the desk's settings."""
    day_bars, views = _day_frames(keys, inputs)
    decided = [
        models[key].decisions(view) if key in models else rules_decisions(view)
        for key, view in zip(keys, views, strict=True)
    ]
    skips = [
        skip_paused(bars, decisions, paused.get(day, frozenset()))
        for (day, _), bars, decisions in zip(keys, day_bars, decided, strict=True)
    ]
    symbol = keys[0][1]
    results = backtests([(bars, decisions) for bars, (decisions, _) in zip(day_bars, skips, strict=True)], symbol)
    paused_days = [n for n, (_, skipped) in enumerate(skips) if skipped is not None]
    would_be = dict(
        zip(
            paused_days,
            backtests([(day_bars[n], cast(pl.DataFrame, skips[n][1])) for n in paused_days], symbol),
            strict=True,
        )
    )
    return {
        key: _trading_day(
            key,
            models.get(key),
            no_model,
            inputs["features"][key],
            day_bars[n],
            skips[n][0],
            results[n],
            would_be[n].ledger if n in would_be else None,
        )
        for n, key in enumerate(keys)
    }


def _batches(keys: Sequence[DayKey], inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]]) -> list[list[DayKey]]:
    """The days (in order) that can be joined into one frame and cut back into days without a day seeing another's
    rows: one symbol's, whose partitions share their schemas (a concat would cast them otherwise) and hold only
    their own day's bars. A day whose partitions reach outside it is a batch of its own."""
    groups: dict[tuple, list[DayKey]] = {}
    for key in keys:
        frames = [partitions[key] for partitions in inputs.values()]
        own = all(_within(frame, key[0]) for frame in frames)
        group = (key[1], *(tuple(frame.schema.items()) for frame in frames)) if own else key
        groups.setdefault(group, []).append(key)
    return list(groups.values())


def _within(frame: pl.DataFrame, day: date) -> bool:
    first, last = frame["timestamp"].min(), frame["timestamp"].max()
    return first is None or (day_start(day) <= first and last < day_start(day + timedelta(days=1)))  # type: ignore[operator]


def _day_frames(
    keys: Sequence[DayKey], inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]]
) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
    """Each day's bars (``join_bars``) and the view its policy decides on (``with_signals``), joined once for all
    ``keys`` and cut at the days' bounds."""
    bars = join_bars(*([inputs[name][key] for key in keys] for name in ("candles", "features", "regimes")))
    view = with_signals(bars, [inputs["signals"][key] for key in keys])
    days = [day for day, _ in keys]
    return _cut(bars, days), _cut(view, days)


def _cut(frame: pl.DataFrame, days: Sequence[date]) -> list[pl.DataFrame]:
    """``frame``'s rows of each of ``days`` (ascending), its rows sorted by timestamp."""
    if len(days) == 1:
        return [frame]
    times = frame["timestamp"]
    starts = [day_start(day) for day in days]
    edges = pl.Series([*starts, *(start + timedelta(days=1) for start in starts)]).cast(times.dtype)
    at = times.search_sorted(edges).to_list()
    return [frame.slice(a, b - a) for a, b in zip(at[: len(days)], at[len(days) :], strict=True)]


def _trading_day(
    key: DayKey,
    model: CoinModel | None,
    no_model: Mapping[DayKey, str],
    features: pl.DataFrame,
    bars: pl.DataFrame,
    decisions: pl.DataFrame,
    result: BacktestResult,
    would_be: pl.DataFrame | None,
) -> TradingDay:
    day, symbol = key
    if result.ledger.height and result.ledger["entry_time"].dt.date().ne(day).any():  # flat-to-flat forbids it
        raise AssertionError(f"{label(key)}: ledger holds entries of another day")
    reason = (
        f"model {model.folder} (passed its gates)" if model is not None else no_model.get(key, "no gate-passing model")
    )
    return TradingDay(
        day=day,
        symbol=symbol,
        ledger=result.ledger,
        costs=result.costs,
        metrics=result.metrics,
        equity=result.equity,
        bars=bars.height,
        policy="model" if model is not None else "rules",
        model_version=model.folder if model is not None else "",
        reason=reason,
        recipe_hash=",".join(features["recipe_hash"].unique().sort().to_list()),
        no_trades_because="" if result.ledger.height else _why_no_trades(model, decisions, result.quoted),
        would_be=would_be,
    )


def skip_paused(
    bars: pl.DataFrame, decisions: pl.DataFrame, paused: frozenset[str]
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """The decisions with every paused pattern's signal turned into ``SKIP``, and (None when nothing is paused)
    the decisions of the paused patterns alone. The key is the bar's regime, the side and the engines agreeing:
    what ``health.patterns.ledger_patterns`` reads off the trade the signal would become."""
    if not paused:
        return decisions, None
    key = (
        bars.select("regime")
        .with_columns(direction=decisions["direction"].cast(pl.Int8), engines=decisions["engines_agreeing"])
        .select(pattern_key(pl.col("regime"), pl.col("direction"), pl.col("engines")))
        .to_series()
    )
    hit = key.is_in(list(paused))
    skip = pl.lit("SKIP")
    return (
        decisions.with_columns(recommendation=pl.when(hit).then(skip).otherwise(pl.col("recommendation"))),
        decisions.with_columns(recommendation=pl.when(hit).then(pl.col("recommendation")).otherwise(skip)),
    )


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


def analyse_day(
    ledger: pl.DataFrame,
    opportunities: pl.DataFrame,
    candles: pl.DataFrame,
    horizons_minutes: tuple[int, ...] = POST_EXIT_HORIZONS,
) -> TradeAnalysis:
    """``candles``: the day's candles and, when it exists, the next day's (post-exit outcomes read them)."""
    candles = candles.sort("timestamp")
    (analysis,) = _analyse_days(
        [ledger], opportunities, [opportunities.height], candles, [(0, candles.height)], horizons_minutes
    )
    return analysis


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
        for group in _same_schemas(days, symbol, inputs):
            found |= _analyse_group(group, symbol, ledgers, labels, candles, features, regimes, notional)
    return {key: found[key] for key in sorted(wanted)}


def _same_schemas(
    days: list[date], symbol: str, inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]]
) -> list[list[date]]:
    """The days grouped so that each input's frames of a group (the next day's candles too) share one schema: a
    group's frames concatenate as each day's do alone."""
    groups: dict[tuple, list[date]] = {}
    candles = inputs["candles"]
    for day in days:
        key = (day, symbol)
        following = candles.get((day + timedelta(days=1), symbol), candles[key])
        frames = [*(inputs[name][key] for name in inputs), following]
        groups.setdefault(tuple((tuple(f.columns), tuple(f.dtypes)) for f in frames), []).append(day)
    return list(groups.values())


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
