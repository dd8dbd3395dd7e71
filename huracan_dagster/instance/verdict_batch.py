"""A step's verdicts stored on SQLite as one batch: their event rows in one statement per shard, then each verdict
onto its planned row.

A ranged step judges every partition it wrote, for each of its checks, and ``dagster_internals.in_one_batch`` hands
one check's verdicts to the storage together. Dagster's SQLite log stores a check evaluation as an insert into the
run's shard, the same insert into the index shard, then the check executions row; event by event, each insert is a
statement built and executed on its own. Here the rows are Dagster's own (``_event_to_row``), inserted with one
statement per shard, and each verdict's row is written as ``check_verdict`` writes it, with the text its event row
was written with. ``bench/bench_verdict_batches.py`` (400 verdicts of one check): 0.99 ms a verdict event by event,
0.28 ms here, and 10.9 ms on Dagster's own SQLite log; ``tests/definitions/test_dagster_internals.py`` compares every
row with Dagster's path. Any other batch is not this function's.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from huracan_dagster.dagster_internals import SqliteEventLogStorage
from huracan_dagster.instance.asset_event_batch import insert_event_rows
from huracan_dagster.instance.event_text import remember


def store_verdict_batch(storage: SqliteEventLogStorage, events: Sequence[dg.EventLogEntry]) -> bool:
    """Store one run's verdicts, each of one partition; False, storing nothing, for any other batch."""
    runs = {event.run_id for event in events}
    if len(runs) != 1 or "" in runs or any(_judged_partition(event) is None for event in events):
        return False
    with storage.index_connection() as conn:
        rows, ids = insert_event_rows(storage, events, conn)
    for event, row, event_id in zip(events, rows, ids, strict=True):
        remember(event, row["event"])  # the check row reuses the event row's text
        storage.store_asset_check_event(event, event_id)
    return True


def _judged_partition(event: dg.EventLogEntry) -> str | None:
    """The partition a verdict judged; None for a verdict of a whole asset, or an event that is no verdict."""
    data = event.get_dagster_event().event_specific_data if event.is_dagster_event else None
    return data.partition if isinstance(data, dg.AssetCheckEvaluation) else None
