"""Run a declared search: every candidate of the space evaluated on every coin, in parallel, cached by content.

The work is cut into units a process can do alone: a per-coin candidate on one coin, or a pooled candidate on the
whole universe (which also yields its market-neutral twin: same folds, same boosters). Units run in a pool of at
most ``workers`` processes, never more than the machine's cores; the inputs are built once in the parent and
shared with the workers by fork. A unit's key hashes what determines its result — the candidate, the window, the
universe's candles, the space's evaluation settings, the costs and the source of every module the evaluation
runs — so a unit already evaluated on the same inputs and code is read back instead of computed again.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from huracan_core.cores import at_most_cores
from huracan_core.research.dataset import TimeframeData, build_timeframe, first_training_span
from huracan_core.research.evaluation import evaluate_coin, evaluate_pooled
from huracan_core.research.records import read_records, record_of, write_records
from huracan_core.research.space import MARKET_NEUTRAL, Candidate, SearchSpace
from huracan_core.trading.costs import CostModel
from huracan_core.versions import modules_used, source_hash

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Unit:
    """One candidate on one coin, or (``symbol`` None) a pooled candidate on the universe."""

    candidate: Candidate
    symbol: str | None
    key: str


@dataclass(frozen=True)
class SearchRun:
    """Every evaluation of a search as records (``records.record_of``), the inputs each timeframe was built from,
    and how many units were computed against read from the cache."""

    records: list[dict[str, Any]]
    data: dict[str, TimeframeData]
    computed: int
    cached: int


def plan_units(space: SearchSpace, symbols: Sequence[str], inputs_key: Mapping[str, str]) -> list[Unit]:
    """The units of the space over ``symbols``; market-neutral candidates ride on their pooled twin's unit."""
    units = []
    for candidate in space.candidates():
        if candidate.family == MARKET_NEUTRAL:
            continue
        targets: list[str | None] = [None] if candidate.family == "pooled_lgbm" else list(symbols)
        for symbol in targets:
            payload = [candidate.params(), symbol, inputs_key[candidate.timeframe], _exit_key(candidate)]
            units.append(Unit(candidate, symbol, _digest(payload)))
    return units


def run_search(
    space: SearchSpace,
    candles: Mapping[str, Mapping[str, pl.DataFrame]],
    start: datetime,
    end: datetime,
    *,
    costs: CostModel,
    exchange: str = "binance",
    workers: int = 1,
    cache: Path | None = None,
    progress: Progress | None = None,
    shuffle_labels: bool = False,
) -> SearchRun:
    """``candles[timeframe][symbol]``: each coin's bars of each timeframe of the space over ``[start, end)``."""
    say = progress or (lambda _: None)
    symbols = sorted(next(iter(candles.values())))
    inputs_key = {
        tf: _inputs_key(space, candles[tf], start, end, costs, exchange, shuffle_labels) for tf in space.timeframes
    }
    units = plan_units(space, symbols, inputs_key)
    found = {u.key: read_records(cache / f"{u.key}.json") if cache else None for u in units}
    todo = [u for u in units if found[u.key] is None]
    say(f"{len(units)} units ({len(space.candidates())} candidates × coins): {len(units) - len(todo)} cached")
    data = {}
    for tf in space.timeframes:
        say(f"{tf}: features, regimes, votes and labels of {len(symbols)} coins")
        data[tf] = build_timeframe(
            candles[tf],
            tf,
            {e.name: e.config(tf) for e in space.exits},
            cross_section=space.cross_section,
            encoder_span=first_training_span(start, space.walk_forward) if True in space.encoder else None,
            costs=costs,
            exchange=exchange,
        )
    context = _Context(space, start, end, costs, exchange, shuffle_labels)
    for unit, records in _run_units(context, data, todo, workers, say):
        found[unit.key] = records
        if cache:
            write_records(cache / f"{unit.key}.json", records)
    records = [r for u in units for r in found[u.key] or []]
    return SearchRun(records, data, computed=len(todo), cached=len(units) - len(todo))


@dataclass(frozen=True)
class _Context:
    """What a unit needs besides its timeframe's inputs (plain, picklable data)."""

    space: SearchSpace
    start: datetime
    end: datetime
    costs: CostModel
    exchange: str
    shuffle_labels: bool


#: a worker's inputs by timeframe: given in process, read from the parent's files in a spawned worker
_DATA: dict[str, TimeframeData] = {}


def _run_units(context: _Context, data: dict[str, TimeframeData], units: list[Unit], workers: int, say: Progress):
    """Units in this process, or over spawned workers (a forked child of a process running polars' or
    LightGBM's threads can deadlock) that read the inputs from Parquet files the parent wrote once."""
    n = at_most_cores(workers)
    if n == 1 or len(units) <= 1:
        _DATA.update(data)
        try:
            for k, unit in enumerate(units):
                yield unit, _evaluate(context, unit)
                say(f"{k + 1}/{len(units)} {unit.candidate.id} {unit.symbol or 'universe'}")
        finally:
            _DATA.clear()
        return
    with tempfile.TemporaryDirectory(prefix="huracan-research-") as folder:
        for tf, frames in data.items():
            frames.save(Path(folder) / tf)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(n, mp_context=spawn, initializer=_load_inputs, initargs=(folder,)) as pool:
            futures = [(unit, pool.submit(_evaluate, context, unit)) for unit in units]
            for k, (unit, future) in enumerate(futures):
                yield unit, future.result()
                say(f"{k + 1}/{len(units)} {unit.candidate.id} {unit.symbol or 'universe'}")


def _load_inputs(folder: str) -> None:
    for path in sorted(Path(folder).iterdir()):
        _DATA[path.name] = TimeframeData.load(path, path.name)


def _evaluate(context: _Context, unit: Unit) -> list[dict[str, Any]]:
    candidate, data = unit.candidate, _DATA[unit.candidate.timeframe]
    config = context.space.model_config(candidate.timeframe, (context.end - context.start).days)
    exits = candidate.exit.config(candidate.timeframe)
    columns = data.inputs(candidate.family, candidate.encoder)
    common = {"config": config, "costs": context.costs, "exits": exits, "exchange": context.exchange}
    if unit.symbol is not None:
        evaluation = evaluate_coin(
            data.model_bars(candidate.exit.name, unit.symbol),
            columns,
            unit.symbol,
            candidate.id,
            candidate.timeframe,
            context.end,
            shuffle_labels=context.shuffle_labels,
            **common,
        )
        return [record_of(evaluation, candidate.params())]
    bars = {s: data.model_bars(candidate.exit.name, s) for s in sorted(data.bars)}
    twin = Candidate(candidate.timeframe, candidate.exit, MARKET_NEUTRAL, candidate.encoder)
    neutral = (
        (twin.id, candidate.exit.hold_bars or 1) if context.space.market_neutral and candidate.exit.fixed else None
    )
    evaluations = evaluate_pooled(
        bars,
        columns,
        candidate.id,
        candidate.timeframe,
        context.end,
        neutral=neutral,
        shuffle_labels=context.shuffle_labels,
        **common,
    )
    params = [candidate.params()] * len(bars) + ([twin.params()] if neutral else [])
    return [record_of(e, p) for e, p in zip(evaluations, params, strict=True)]


def _inputs_key(
    space: SearchSpace,
    candles: Mapping[str, pl.DataFrame],
    start: datetime,
    end: datetime,
    costs: CostModel,
    exchange: str,
    shuffle_labels: bool,
) -> str:
    """What every unit of a timeframe depends on besides its candidate: the universe's candles (features, ranks
    and the encoder read all of them), the window, the evaluation settings, the costs and the code."""
    data = hashlib.sha256()
    for symbol in sorted(candles):
        data.update(symbol.encode())
        data.update(candles[symbol].hash_rows().to_numpy().tobytes())
    settings = {k: v for k, v in space.to_dict().items() if k not in ("name", "digest", "rules")}
    code = source_hash(*modules_used("huracan_core.research.search"))
    payload = [data.hexdigest(), start.isoformat(), end.isoformat(), settings, costs.describe(), exchange, code]
    return _digest([*payload, shuffle_labels])


def _exit_key(candidate: Candidate) -> object:
    profile = candidate.exit.profile
    return asdict(profile) if profile is not None else candidate.exit.hold_bars


def _digest(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]
