"""A step's verdicts stored as one batch: on SQLite their event rows in one statement per shard, then each verdict
onto its planned row; on PostgreSQL their event rows in one statement, then all the verdicts onto their rows in one.

A ranged step judges every partition it wrote, for each of its checks, and ``dagster_internals.in_one_batch`` hands
one check's verdicts to the storage together. Dagster's SQLite log stores a check evaluation as an insert into the
run's shard, the same insert into the index shard, then the check executions row; event by event, each insert is a
statement built and executed on its own. Here the rows are Dagster's own (``_event_to_row``), inserted with one
statement per shard, and each verdict's row is written as ``check_verdict`` writes it, with the text its event row
was written with. ``bench/bench_verdict_batches.py`` (400 verdicts of one check): 0.99 ms a verdict event by event,
0.28 ms here, and 10.9 ms on Dagster's own SQLite log; ``tests/definitions/test_dagster_internals.py`` compares every
row with Dagster's path. Any other batch is not this function's.

dagster-postgres stores a verdict in three round trips to the server: its event row, a NOTIFY that nothing listens
to any more (kept there "to support version skew"), and the update of its planned row. A batch here is two round
trips whatever its size: the event rows in one insert, as dagster-postgres inserts a batch of materializations
(without a NOTIFY, as there), then every verdict onto its planned row in one update (``VERDICTS``);
a verdict that found no planned row, or several, then goes to Dagster's own method, as one by one.
``tests/services/test_postgres_instance.py`` compares the rows with dagster-postgres's own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import dagster as dg
from sqlalchemy import text
from sqlalchemy.engine import Connection

from huracan_dagster.dagster_internals import (
    AssetCheckExecutionsTable,
    SqlEventLogStorage,
    SqlEventLogStorageTable,
    SqliteEventLogStorage,
)
from huracan_dagster.instance.asset_event_batch import insert_event_rows
from huracan_dagster.instance.check_verdict import verdict_parameters
from huracan_dagster.instance.event_text import remember

#: verdicts a statement carries at most (a long range's step judges thousands of partitions)
CHUNK = 1000
#: ``check_verdict.VERDICT`` for many verdicts at once on PostgreSQL: the same SET and WHERE, each verdict's
#: parameters a row of arrays unnested side by side (cast: an array of nulls alone would be text), and the index of
#: each verdict that updated a row returned for each row it updated
VERDICTS = text(
    f"""UPDATE {AssetCheckExecutionsTable.name} AS planned
    SET execution_status = given.b_status, evaluation_event = given.b_event,
        evaluation_event_timestamp = given.b_timestamp, evaluation_event_storage_id = given.b_event_id,
        materialization_event_storage_id = given.b_materialization_id
    FROM unnest(
        CAST(:b_n AS INTEGER[]), CAST(:b_asset_key AS TEXT[]), CAST(:b_check_name AS TEXT[]),
        CAST(:b_run_id AS TEXT[]), CAST(:b_partition AS TEXT[]), CAST(:b_status AS TEXT[]), CAST(:b_event AS TEXT[]),
        CAST(:b_timestamp AS TIMESTAMP[]), CAST(:b_event_id AS BIGINT[]), CAST(:b_materialization_id AS BIGINT[])
    ) AS given(b_n, b_asset_key, b_check_name, b_run_id, b_partition, b_status, b_event, b_timestamp, b_event_id,
               b_materialization_id)
    WHERE planned.asset_key = given.b_asset_key AND planned.check_name = given.b_check_name
        AND planned.run_id = given.b_run_id AND planned."partition" = given.b_partition
    RETURNING given.b_n"""
)


def store_verdict_batch(storage: SqliteEventLogStorage, events: Sequence[dg.EventLogEntry]) -> bool:
    """Store one run's verdicts, each of one partition; False, storing nothing, for any other batch."""
    if not _one_runs_verdicts(events):
        return False
    with storage.index_connection() as conn:
        rows, ids = insert_event_rows(storage, events, conn)
    for event, row, event_id in zip(events, rows, ids, strict=True):
        remember(event, row["event"])  # the check row reuses the event row's text
        storage.store_asset_check_event(event, event_id)
    return True


def store_postgres_verdict_batch(storage: SqlEventLogStorage, events: Sequence[dg.EventLogEntry]) -> bool:
    """Store one run's verdicts, each of one partition, on dagster-postgres's tables; False, storing nothing, for
    any other batch."""
    if not _one_runs_verdicts(events):
        return False
    for start in range(0, len(events), CHUNK):
        chunk = events[start : start + CHUNK]
        rows = [storage._event_to_row(event) for event in chunk]
        with storage.index_connection() as conn:
            inserted = conn.execute(
                SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id, sort_by_parameter_order=True),
                rows,
            )
            ids = [row[0] for row in inserted]
            parameters = [_parameters(e, row["event"], i) for e, row, i in zip(chunk, rows, ids, strict=True)]
            updated = _update_verdicts(conn, parameters)
        for event, event_id, rows_updated in zip(chunk, ids, updated, strict=True):
            if rows_updated != 1:  # no planned row (Dagster inserts one) or several (Dagster raises)
                storage.store_asset_check_event(event, event_id)
    return True


def _parameters(event: dg.EventLogEntry, written: str, event_id: int) -> dict[str, Any]:
    remember(event, written)  # the verdict's row reuses the event row's text
    parameters = verdict_parameters(event, event_id)
    assert parameters is not None  # each event judged a partition (``_one_runs_verdicts``)
    return parameters


def _update_verdicts(conn: Connection, parameters: list[dict[str, Any]]) -> list[int]:
    """How many planned rows each verdict updated (``VERDICTS``): 1, or 0 and several for Dagster's own method."""
    columns = {name: [p[name] for p in parameters] for name in parameters[0]}
    updated = Counter(n for (n,) in conn.execute(VERDICTS, {"b_n": list(range(len(parameters))), **columns}))
    return [updated[n] for n in range(len(parameters))]


def _one_runs_verdicts(events: Sequence[dg.EventLogEntry]) -> bool:
    runs = {event.run_id for event in events}
    return len(runs) == 1 and "" not in runs and all(_judged_partition(event) is not None for event in events)


def _judged_partition(event: dg.EventLogEntry) -> str | None:
    """The partition a verdict judged; None for a verdict of a whole asset, or an event that is no verdict."""
    data = event.get_dagster_event().event_specific_data if event.is_dagster_event else None
    return data.partition if isinstance(data, dg.AssetCheckEvaluation) else None
