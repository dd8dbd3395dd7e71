"""The Mechanic: a challenger per coin from the freshest archived data, judged against the champion at once.

The Engine's champion of day D weighs the coin model trained before D at D's start; the Mechanic does the same as
soon as the data of a new day has arrived (its hourly sensor sees new candles), so a better model can take over a
day earlier. Its challenger is trained with the Engine's recipe and training code on the ``train_days`` before
the day after the newest day whose labels exist (``cutoff``), into ``challengers/<SYMBOL>/<tf>/<cutoff>/``; its
out-of-sample evidence is its own walk-forward folds, which end at that cutoff, and the decision takes effect
there. Continued training from the champion's booster is deliberately not used: the champion has seen the bars
of the challenger's test folds, so the folds would no longer be out of sample.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from huracan_core.candles import day_start
from huracan_core.champions.book import ChampionBook
from huracan_core.champions.day_decisions import load_incumbent
from huracan_core.champions.evaluation import Challenger, champion_decision
from huracan_core.champions.promotion import PromotionRule
from huracan_core.day_keys import DayKey, MissingPartitionError, keyed
from huracan_core.models.day_models import (
    ModelPartition,
    newest_encoder,
    train_model_partitions,
    window_days,
    write_model,
)
from huracan_core.models.encoder import FittedEncoder
from huracan_core.models.inputs import model_bars
from huracan_core.models.training import ModelConfig
from huracan_core.storage.keys import challenger_folder_key, partition_object_key
from huracan_core.storage.partition_reads import read_partitions
from huracan_core.storage.store import ArtifactStore
from huracan_core.symbols import to_key
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.measured_quotes import quote_book

MECHANIC = "mechanic"
CHAIN = ("candles", "features", "regimes", "signals", "labels")


def freshest_day(store: ArtifactStore, symbol: str, timeframe: str) -> date | None:
    """The newest day whose labels are archived (labels come last in the chain the challenger learns from)."""
    prefix = (
        partition_object_key("labels", symbol=symbol, day=date(2000, 1, 1), timeframe=timeframe).rsplit("/", 1)[0] + "/"
    )
    days = [
        date.fromisoformat(k.rsplit("/", 1)[1].removesuffix(".parquet"))
        for k in store.list_keys(prefix)
        if k.endswith(".parquet")
    ]
    return max(days, default=None)


def mechanic_keys(day: date, symbol: str, train_days: int) -> list[DayKey]:
    """The partitions a challenger for ``day`` reads: the ``train_days`` before it."""
    return [(d, to_key(symbol)) for d in window_days(day, train_days)]


def train_challenger(
    inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]],
    encoder: FittedEncoder | None,
    day: date,
    symbol: str,
    timeframe: str,
    *,
    config: ModelConfig,
    costs: CostModel,
    exchange: str = "binance",
    exits: ExitConfig = ExitConfig(),
) -> ModelPartition:
    """The Engine's training of ``(day, symbol)``, kept in the challengers' folder."""
    [part] = train_model_partitions(
        inputs,
        {day: encoder} if encoder else {},
        [(day, symbol)],
        timeframe,
        config=config,
        costs=costs,
        exchange=exchange,
        exits=exits,
        use_encoder=encoder is not None,
    )
    return dataclasses.replace(part, folder=challenger_folder_key(symbol, timeframe, part.trained.cutoff))


def mechanic_decision(
    book: ChampionBook,
    part: ModelPartition,
    card: Mapping[str, Any],
    inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]],
    timeframe: str,
    *,
    evaluation_days: int,
    decided_at: datetime,
    rule: PromotionRule = PromotionRule(),
    exchange: str = "binance",
    costs: CostModel,
    exits: ExitConfig = ExitConfig(),
    run_id: str = "",
) -> dict[str, Any]:
    """The challenger of ``part`` (written, with its ``card``) against the champion in force at its cutoff;
    recorded in the book and returned. ``inputs`` cover the ``evaluation_days`` before the cutoff."""

    def bars() -> pl.DataFrame:
        days = [(d, to_key(part.symbol)) for d in window_days(part.day, evaluation_days)]
        frames = {name: keyed(inputs[name]) for name in CHAIN[:4]}
        return model_bars(*([parts[k] for k in days if k in parts] for parts in frames.values()))

    return judge_challenger(
        book,
        part,
        card,
        timeframe,
        bars,
        source=MECHANIC,
        evaluation_days=evaluation_days,
        decided_at=decided_at,
        rule=rule,
        exchange=exchange,
        costs=costs,
        exits=exits,
        run_id=run_id,
    )


def judge_challenger(
    book: ChampionBook,
    part: ModelPartition,
    card: Mapping[str, Any],
    timeframe: str,
    bars: Callable[[], pl.DataFrame],
    *,
    source: str,
    evaluation_days: int,
    decided_at: datetime,
    rule: PromotionRule,
    exchange: str,
    costs: CostModel,
    exits: ExitConfig,
    run_id: str,
) -> dict[str, Any]:
    """A written challenger folder from any ``source`` (the Mechanic, a research search) against the champion in
    force at its cutoff, under the promotion rule; recorded in the book and returned. ``bars``: the coin's bars of the
    evaluation window, read only when there is a champion to trade on them."""
    cutoff = part.trained.cutoff
    key = f"{source}:{part.folder}"
    incumbent = load_incumbent(book, part.symbol, cutoff, exclude_key=key)
    challenger = Challenger(
        folder=part.folder,
        cutoff=cutoff,
        passed=part.trained.passed,
        gate_summary=part.trained.gates.summary(),
        oos_trades=part.trained.model.ledger if part.trained.passed else None,
        card=card,
    )
    line = champion_decision(
        part.symbol,
        timeframe,
        [challenger],
        incumbent,
        bars() if incumbent is not None else pl.DataFrame(),
        decision_key=key,
        source=source,
        effective_from=cutoff,
        decided_at=decided_at,
        evaluation_days=evaluation_days,
        rule=rule,
        exchange=exchange,
        costs=costs,
        exits=exits,
        run_id=run_id,
    )
    return book.record(line)


def cutoff_day(freshest: date) -> date:
    """A challenger of the data through ``freshest`` is the model of the day after it."""
    return freshest + timedelta(days=1)


def needs_decision(book: ChampionBook, symbol: str, timeframe: str, day: date) -> bool:
    """False when the Mechanic already decided on the challenger of ``day`` (same data, same folder): an hour
    without new labels trains nothing."""
    key = f"{MECHANIC}:{challenger_folder_key(symbol, timeframe, day_start(day))}"
    return not any(line["decision_key"] == key for line in book.history(symbol))


def mechanic_round(
    book: ChampionBook,
    symbols: Sequence[str],
    timeframe: str,
    *,
    recipe_hash: str,
    config: ModelConfig,
    evaluation_days: int,
    track: Callable[[ModelPartition, Mapping[str, bytes]], Mapping[str, Any]],
    use_encoder: bool = True,
    rule: PromotionRule = PromotionRule(),
    exchange: str = "binance",
    costs: CostModel,
    run_id: str = "",
) -> Iterator[dict[str, Any]]:
    """One round over ``symbols``: ``{symbol, outcome, why, line}`` per coin as it is decided (``line``: the
    recorded decision, None when skipped). A coin without newer labels than its last challenger, or too new for
    a model's history, is skipped and says why; the others go on. ``track`` records a written challenger (MLflow)
    and returns its card's ``mlflow_model`` and ``mlflow_version``."""
    store = book.store
    for symbol in symbols:
        freshest = freshest_day(store, symbol, timeframe)
        if freshest is None or not needs_decision(book, symbol, timeframe, cutoff_day(freshest)):
            why = "no labels yet" if freshest is None else f"already judged the data through {freshest}"
            yield {"symbol": symbol, "outcome": "skipped", "why": why, "line": None}
            continue
        day = cutoff_day(freshest)
        keys = mechanic_keys(day, symbol, config.train_days)
        inputs = {n: read_partitions(store, n, timeframe, keys, recipe_hash if n == "features" else "") for n in CHAIN}
        encoder = newest_encoder(store, timeframe, day) if use_encoder else None
        # the days' measured quotes where they exist, else ``costs``' own book (and the quote says so)
        quoted = dataclasses.replace(
            costs, quotes=quote_book(read_partitions(store, "market_quotes", timeframe, keys), costs.quotes)
        )
        try:
            part = train_challenger(
                inputs, encoder, day, symbol, timeframe, config=config, costs=quoted, exchange=exchange
            )
        except MissingPartitionError as error:
            yield {"symbol": symbol, "outcome": "skipped", "why": str(error), "line": None}
            continue
        card = {
            **track(part, write_model(store, part)),
            "recipe_hash": recipe_hash,
            "gate_summary": part.trained.gates.summary(),
            "metrics": {k: part.trained.model.aggregate[k] for k in ("trade_count", "sharpe", "net_pnl", "hit_rate")},
        }
        line = mechanic_decision(
            book,
            part,
            card,
            inputs,
            timeframe,
            evaluation_days=evaluation_days,
            decided_at=datetime.now(UTC),
            rule=rule,
            exchange=exchange,
            costs=quoted,
            run_id=run_id,
        )
        yield {
            "symbol": symbol,
            "outcome": "promoted" if line["promoted"] else "kept",
            "why": line["reason"],
            "line": line,
        }
