"""One symbol-day of shadow trading — what the date × symbol ``shadow_trades`` asset runs.

A day is traded flat-to-flat by the newest gate-passing coin model trained before it, or else by the rules-only
consensus of the day's signals (which carry the engines' warm-up): trading starts flat at 00:00 UTC, only the
day's bars can enter, and a position still open on the day's last bar is closed at its close as
``end_of_data``. So a day's ledger holds exactly the trades entered that day, and re-running one day never
depends on what a neighbouring day's ledger did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import cast

import polars as pl

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey, label, require
from huracan_core.health.patterns import pattern_key
from huracan_core.models.inputs import with_signals
from huracan_core.models.policy import CoinModel, rules_decisions
from huracan_core.trading.backtest import BacktestResult, run_backtests
from huracan_core.trading.bars import join_bars, schema_groups
from huracan_core.trading.consensus import ConsensusConfig
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.no_trades import why_no_trades


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

    A symbol's days whose partitions share their schemas and hold only their own day's bars (``_within``) are
    joined and traded in one pass (``schema_groups``), each day still a stretch of its own: every day is exactly
    what trading it alone gives.
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
    batches = schema_groups(
        sorted(set(wanted)),
        lambda key: [partitions[key] for partitions in inputs.values()],
        # a batch is joined into one frame and cut back into days: a day whose partitions reach outside it is alone
        apart=lambda key: key[1] if all(_within(partitions[key], key[0]) for partitions in inputs.values()) else key,
    )
    for keys in batches:
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
    """One batch's days (``schema_groups`` in ``trade_partitions``), each decided by its own policy on its own view
    and traded as a stretch of its own; ``backtests``: ``run_backtests`` with the desk's settings."""
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
        recipe_hash=",".join(sorted(set(features["recipe_hash"].to_list()))),
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
