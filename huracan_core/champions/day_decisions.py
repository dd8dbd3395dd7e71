"""The date × symbol champion decisions: at the start of day D, does the coin model trained before D replace
the coin's champion? What the ``champion`` asset runs.

Decisions are taken day by day in date order and recorded as they are taken, so the decision of D sees the
champion that the decision of D − 1 left in force, also when one run covers both days. The decision of D is
effective from D's first moment: the shadow trader of D trades what it leaves in force.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from huracan_core.candles import day_start
from huracan_core.champions.book import ChampionBook
from huracan_core.champions.evaluation import Challenger, Incumbent, champion_decision
from huracan_core.champions.promotion import PromotionRule
from huracan_core.day_keys import DayKey, MissingPartitionError, keyed, label, require
from huracan_core.models.artifacts import CorruptModelError, read_model_folder
from huracan_core.models.day_models import OOS_TRADES_FILE
from huracan_core.models.inputs import model_bars
from huracan_core.models.policy import load_coin_model
from huracan_core.storage.store import ArtifactNotFound
from huracan_core.symbols import to_key
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig

ENGINE = "engine"


def engine_decision_key(day: date, symbol: str) -> str:
    """One key per champion partition: taking the decision again supersedes the earlier line."""
    return f"{ENGINE}:{label((day, symbol))}"


def load_incumbent(
    book: ChampionBook,
    symbol: str,
    at: datetime,
    exclude_key: str | None = None,
    pending: Sequence[Mapping[str, Any]] = (),
) -> Incumbent | None:
    """The champion in force at ``at`` (``pending``: decisions taken but not recorded yet), loaded from its verified
    folder (``CorruptModelError`` names it)."""
    line = book.in_force(symbol, at, exclude_key=exclude_key, pending=pending)
    if line is None or line["champion"] is None:
        return None
    return Incumbent(model=load_coin_model(book.store, line["champion"]["model_folder"]), line=line)


def load_challenger(book: ChampionBook, row: Mapping[str, Any], card: Mapping[str, Any]) -> Challenger:
    """A ``coin_model`` index row as a challenger; the out-of-sample trades of a model that passed its gates are
    read from its verified folder."""
    trades = None
    if row["passed"]:
        try:
            files = read_model_folder(book.store, row["folder"], required=(OOS_TRADES_FILE,))
        except ArtifactNotFound as error:
            raise CorruptModelError(f"model folder {book.store.uri(row['folder'])}: {error}") from error
        trades = pl.read_parquet(files[OOS_TRADES_FILE])
    return Challenger(
        folder=row["folder"],
        cutoff=row["cutoff"],
        passed=bool(row["passed"]),
        gate_summary=row["gate_summary"],
        oos_trades=trades,
        card=card,
    )


def decide_partitions(
    book: ChampionBook,
    index: Mapping[DayKey, pl.DataFrame],
    inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]],
    wanted: Sequence[DayKey],
    timeframe: str,
    *,
    evaluation_days: int,
    recipe_hash: str,
    rule: PromotionRule = PromotionRule(),
    exchange: str = "binance",
    costs: CostModel,
    exits: ExitConfig = ExitConfig(),
    run_id: str = "",
    now: Callable[[], datetime],
) -> list[dict[str, Any]]:
    """Each wanted (day, symbol) in date order: the decision's history line. The decision of a day sees those of
    the days before it in the same run; all are recorded together once every one was taken, so a step that fails
    part-way records nothing (taking them again appends no second line for a decision that never took effect).

    ``index``: the ``coin_model`` partitions of the wanted keys (the day's challenger); a day without one (a coin
    too new for a model's history, a run that left models out) has no challenger and the champion in force stays,
    saying so. ``inputs``: ``candles``,
    ``features``, ``regimes``, ``signals`` of the ``evaluation_days`` before each day (the champion is traded on
    them). ``now``: the wall clock of ``decided_at`` (the only field that differs when a decision is taken again).
    """
    index = keyed(index)
    window = sorted({(day - timedelta(days=n), to_key(s)) for day, s in wanted for n in range(1, evaluation_days + 1)})
    frames = {name: keyed(inputs[name]) for name in ("candles", "features", "regimes", "signals")}
    taken: list[dict[str, Any]] = []
    for day, symbol in sorted(wanted, key=lambda k: (k[0], to_key(k[1]))):
        key, start = (day, to_key(symbol)), day_start(day)
        decision_key = engine_decision_key(day, symbol)
        try:
            incumbent = load_incumbent(book, symbol, start, exclude_key=decision_key, pending=taken)
        except CorruptModelError as error:
            raise CorruptModelError(
                f"champion {label(key)}: the champion in force cannot be loaded: {error}"
            ) from error
        bars = pl.DataFrame()
        if incumbent is not None:
            days = [
                k
                for k in window
                if k[1] == key[1] and start - timedelta(days=evaluation_days) <= day_start(k[0]) < start
            ]
            for name, parts in frames.items():
                try:
                    require(
                        f"{name} (the champion of {label(key)} is traded on the {evaluation_days} days before)",
                        parts,
                        days,
                    )
                except MissingPartitionError as error:
                    raise MissingPartitionError(f"champion {label(key)}: {error}") from None
            bars = model_bars(*([parts[k] for k in days] for parts in frames.values()))
        rows = index[key].iter_rows(named=True) if key in index else []
        challengers = [load_challenger(book, row, _card(row, recipe_hash)) for row in rows]
        line = champion_decision(
            symbol,
            timeframe,
            challengers,
            incumbent,
            bars,
            decision_key=decision_key,
            source=ENGINE,
            effective_from=start,
            decided_at=now(),
            evaluation_days=evaluation_days,
            rule=rule,
            exchange=exchange,
            costs=costs,
            exits=exits,
            run_id=run_id,
        )
        taken.append(book.prepare(line))
    return book.record_all(taken)


def partition_row(day: date, line: Mapping[str, Any]) -> pl.DataFrame:
    """What the ``champion`` partition stores: the champion in force for the day and the decision that left it."""
    card = line["champion"] or {}
    return pl.DataFrame(
        [
            {
                "day": day,
                "symbol": line["symbol"],
                "champion_folder": card.get("model_folder"),
                "mlflow_model": card.get("mlflow_model"),
                "mlflow_version": card.get("mlflow_version"),
                "trade_ok": bool(card),
                "promoted": bool(line["promoted"]),
                "reason": line["reason"],
                "test": line["test"],
                "p_value": line["p_value"],
                "decision_key": line["decision_key"],
                "effective_from": line["effective_from"],
                # a champion from a research search: what the search's corrections found (JSON), else null
                "search": json.dumps(card["search"], sort_keys=True) if card.get("search") else None,
            }
        ],
        schema_overrides={
            "search": pl.String,
            "champion_folder": pl.String,
            "mlflow_model": pl.String,
            "mlflow_version": pl.String,
            "p_value": pl.Float64,
        },
    )


def _card(row: Mapping[str, Any], recipe_hash: str) -> dict[str, Any]:
    metrics = {k: row[k] for k in ("trade_count", "sharpe", "net_pnl", "hit_rate", "break_even_fee_bps") if k in row}
    return {
        "mlflow_model": row.get("mlflow_model"),
        "mlflow_version": row.get("mlflow_version"),
        "metrics": metrics,
        "recipe_hash": recipe_hash,
        "gate_summary": row["gate_summary"],
    }
