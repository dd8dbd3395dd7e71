"""The runs a window becomes: first those a backfill launched from the UI would get, from the assets' own
``BackfillPolicy`` (``partitions.CANDLES_BACKFILL`` / ``CHAIN_BACKFILL``), so ``huracan run`` and the daemon cut a
window by the same rules and neither writes partition-range tags by hand; then the ranges of neighbouring symbols
over the same days joined into one run, as the Engine's schedule runs a block of symbols (``joined``).

Dagster's function that turns asset partitions into run requests under their backfill policies is not public
API: it is reached through ``dagster_internals``, with Dagster's other private API.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from huracan_dagster.dagster_internals import backfill_run_requests
from huracan_dagster.defs.partitions import (
    CANDLES_BACKFILL,
    RUN_PARTITIONS,
    SYMBOL_DIMENSION,
    SYMBOLS_TAG,
    partition_key,
    symbol_blocks,
    symbols_between,
)
from huracan_dagster.instance.failures import RANGE_END_TAG, RANGE_START_TAG


@dataclass(frozen=True)
class PolicyRun:
    """One run: these assets over the partition range ``start..end`` (tags as the daemon writes them), which covers
    ``symbols`` (none for a date-partitioned job: every symbol of each day)."""

    assets: tuple[dg.AssetKey, ...]
    start: str
    end: str
    symbols: tuple[str, ...]

    @property
    def partitions(self) -> list[str]:
        """The run's date × symbol partition keys: its days × its symbols (none for a date-partitioned job)."""
        first, last = (date.fromisoformat(_day(key)) for key in (self.start, self.end))
        return window_keys(first, last, self.symbols)

    @property
    def tags(self) -> dict[str, str]:
        tags = {RANGE_START_TAG: self.start, RANGE_END_TAG: self.end}
        return {**tags, SYMBOLS_TAG: ",".join(self.symbols)} if self.symbols else tags


def policy_runs(
    graph,
    instance: dg.DagsterInstance,
    assets: Sequence[dg.AssetKey],
    partition_keys: Iterable[str],
    *,
    processes: int = 1,
    alone: Set[str] = frozenset(),
) -> list[PolicyRun]:
    """The runs of ``assets`` × ``partition_keys``, in the order they can run one after another: the candles'
    runs first (their consumers read every symbol's), then by the range's first day (earlier days first), the runs
    of more symbols first, so that the process given the last run of a phase is not the one left with the longest.
    The ranges are ``joined`` for ``processes`` processes, but for the symbols ``alone``."""
    keys = list(partition_keys)
    requests = backfill_run_requests(graph, instance, [(asset, key) for asset in assets for key in keys])
    registered = instance.get_dynamic_partitions(SYMBOL_DIMENSION)
    runs = []
    for r in requests:
        start, end = r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]
        symbols = _range_symbols(start, end, registered)
        runs.append(PolicyRun(tuple(sorted(r.asset_selection or [], key=str)), start, end, symbols))
    runs = joined(runs, registered, processes=processes, alone=alone)
    first = {a for a in assets if graph.get(a).backfill_policy == CANDLES_BACKFILL}
    return sorted(runs, key=lambda r: (not set(r.assets) & first, _day(r.start), -len(r.symbols), r.start, r.end))


def joined(
    runs: Sequence[PolicyRun],
    registered: Sequence[str],
    *,
    processes: int,
    alone: Set[str],
) -> list[PolicyRun]:
    """``runs`` with the ranges of neighbouring symbols (registration order) over the same days and the same assets
    made one run per block, and a block's runs of consecutive days made one.

    Dagster cuts a date × symbol backfill one range per symbol, and each run costs about a tenth of a second of its
    own (its creation and planned events, its start, its end): over a month of five symbols, a fifth of the
    orchestration (``docs/performance.md``). A joined run covers the product of its days and its block of
    symbols, a range Dagster resolves the same way. A block holds at most ``RUN_PARTITIONS`` partitions an asset
    (a year of one symbol, the candle runs' bound: a run's fetch, and a step's frames in memory), and a group of
    neighbours splits into a multiple of ``processes`` blocks where it has that many symbols, so that each process
    of ``--workers`` has as many runs (``_split``). A symbol of ``alone`` (its run failed earlier in the window)
    keeps a run of its own, so its failure stays its own."""
    kept: list[PolicyRun] = []
    together: dict[tuple[tuple[dg.AssetKey, ...], str, str], list[str]] = defaultdict(list)
    for run in runs:
        if run.symbols:
            together[(run.assets, _day(run.start), _day(run.end))] += run.symbols
        else:
            kept.append(run)
    blocks: list[PolicyRun] = []
    for (assets, first, last), symbols in together.items():
        days = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
        neighbours = symbol_blocks([s for s in symbols if s not in alone], registered)
        parts = [part for block in neighbours for part in _split(block, days, processes)]
        parts += [[s] for s in symbols if s in alone]
        blocks += [PolicyRun(assets, f"{first}|{part[0]}", f"{last}|{part[-1]}", tuple(part)) for part in parts]
    return kept + _days_joined(blocks)


def _days_joined(runs: list[PolicyRun]) -> list[PolicyRun]:
    """Runs of the same assets and symbols over consecutive days made one, within ``RUN_PARTITIONS``: Dagster cuts
    a window of fewer days than symbols one run a day. Only the next calendar day joins, so a joined range takes in
    no day between its runs that was not asked for."""
    out: list[PolicyRun] = []
    for run in sorted(runs, key=lambda r: (str(r.assets), r.symbols, r.start)):
        last = out[-1] if out else None
        if (
            last is not None
            and (last.assets, last.symbols) == (run.assets, run.symbols)
            and date.fromisoformat(_day(last.end)) + timedelta(days=1) == date.fromisoformat(_day(run.start))
            and len(last.partitions) + len(run.partitions) <= RUN_PARTITIONS
        ):
            out[-1] = PolicyRun(run.assets, last.start, run.end, run.symbols)
        else:
            out.append(run)
    return out


def _split(block: list[str], days: int, processes: int) -> list[list[str]]:
    """``block`` in consecutive parts of nearly equal size: as few as hold at most ``RUN_PARTITIONS`` partitions
    each, rounded up to a multiple of ``processes`` (never more than its symbols): half a year of five symbols in
    parts of 2, 2 and 1 symbols leaves one of two processes four symbols' work and the other one, where parts of 2,
    1, 1 and 1 leave each at most three."""
    most = max(1, RUN_PARTITIONS // days)
    needed = -(-len(block) // most)
    count = min(len(block), -(-needed // processes) * processes)
    size, larger = divmod(len(block), count)
    parts, at = [], 0
    for n in range(count):
        parts.append(block[at : at + size + (n < larger)])
        at += size + (n < larger)
    return parts


def _day(key: str) -> str:
    return key.split("|")[0]


def _range_symbols(start: str, end: str, registered: Sequence[str]) -> tuple[str, ...]:
    """The symbols of a date × symbol range (``symbols_between`` its first key's and its last key's); none for a
    range of dates. A range whose symbols are not registered in that order is refused: read as no symbols, it
    would pass for a date-partitioned run of every symbol."""
    if "|" not in start:
        return ()
    symbols = symbols_between(start.split("|")[1], end.split("|")[1], registered)
    if not symbols:
        raise ValueError(f"run range {start}..{end}: its symbols are not registered in that order ({registered})")
    return tuple(symbols)


def window_keys(start: date, end: date, symbols: Sequence[str]) -> list[str]:
    """Every date × symbol partition key of ``start..end``."""
    return [partition_key(start + timedelta(days=n), s) for n in range((end - start).days + 1) for s in symbols]
