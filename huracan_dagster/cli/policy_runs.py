"""The runs a window becomes: exactly those a backfill launched from the UI would get, from the assets' own
``BackfillPolicy`` (``partitions.CANDLES_BACKFILL`` / ``CHAIN_BACKFILL``), so ``huracan run`` and the daemon cut
a window the same way and neither writes partition-range tags by hand.

Dagster's function that turns asset partitions into run requests under their backfill policies is not public
API: it is reached through ``dagster_internals``, with Dagster's other private API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from huracan_dagster.dagster_internals import backfill_run_requests
from huracan_dagster.defs.partitions import CANDLES_BACKFILL, SYMBOL_DIMENSION, SYMBOLS_TAG, partition_key
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
    def tags(self) -> dict[str, str]:
        tags = {RANGE_START_TAG: self.start, RANGE_END_TAG: self.end}
        return {**tags, SYMBOLS_TAG: ",".join(self.symbols)} if self.symbols else tags


def policy_runs(
    graph, instance: dg.DagsterInstance, assets: Sequence[dg.AssetKey], partition_keys: Iterable[str]
) -> list[PolicyRun]:
    """The runs of ``assets`` × ``partition_keys``, in the order they can run one after another: the candles'
    runs first (their consumers read every symbol's), then by the range's first partition (earlier days first)."""
    keys = list(partition_keys)
    requests = backfill_run_requests(graph, instance, [(asset, key) for asset in assets for key in keys])
    registered = instance.get_dynamic_partitions(SYMBOL_DIMENSION)
    runs = []
    for r in requests:
        start, end = r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]
        symbols = _range_symbols(start, end, registered)
        runs.append(PolicyRun(tuple(sorted(r.asset_selection or [], key=str)), start, end, symbols))
    first = {a for a in assets if graph.get(a).backfill_policy == CANDLES_BACKFILL}
    return sorted(runs, key=lambda r: (not set(r.assets) & first, r.start, r.end))


def _range_symbols(start: str, end: str, registered: Sequence[str]) -> tuple[str, ...]:
    """The symbols of a date × symbol range: every registered symbol from its first key's to its last key's, in
    registration order (the symbol dimension's); none for a range of dates."""
    if "|" not in start:
        return ()
    first, last = registered.index(start.split("|")[1]), registered.index(end.split("|")[1])
    return tuple(registered[first : last + 1])


def window_keys(start: date, end: date, symbols: Sequence[str]) -> list[str]:
    """Every date × symbol partition key of ``start..end``."""
    return [partition_key(start + timedelta(days=n), s) for n in range((end - start).days + 1) for s in symbols]
