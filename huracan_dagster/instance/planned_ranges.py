"""A run's planned materializations as one event per asset, its failed and running partitions still told apart.

When a run starts, Dagster records one ``ASSET_MATERIALIZATION_PLANNED`` event per partition the run will write:
one of the ~4.6 events stored per partition-asset of a ranged run (3.7 ms each to build and store, profiled). An
event log may take one planned event per asset instead, carrying the run's partition subset (Dagster's own option,
``supports_partition_subset_in_asset_materialization_planned_events``), but then Dagster's query for the partitions
a run attempted without writing them — what the UI shows as failed or in progress, and what automation conditions
read — no longer sees them: a failed run's partitions would read as never materialized. ``unfinished_attempts``
adds them back: a partition of a ranged planned event newer than the partition's newest materialization is an
attempt without one, exactly as a per-partition planned event would be.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from huracan_dagster.dagster_internals import SqlEventLogStorage, SqlEventLogStorageTable

Attempt = tuple[str, int]  # run id, storage id of its planned event
MAX_BOUND_KEYS = 2_000


def unfinished_attempts(
    storage: SqlEventLogStorage, asset_key: dg.AssetKey, after_storage_id: int | None, own: Mapping[str, Attempt]
) -> dict[str, Attempt]:
    """``own``: Dagster's answer from per-partition planned events (older runs, or a storage that had them); the
    result adds each partition whose newest attempt is a ranged planned event with no materialization after it."""
    ranges = _ranged_planned_events(storage, asset_key, after_storage_id)
    if not ranges:
        return dict(own)
    keys = {key for _, _, partitions in ranges for key in partitions}
    # a home's first status read spans every run: past a few thousand keys, one query for every partition's latest
    # materialization instead of a list of bound keys (SQLite binds at most 32,766 values)
    written = storage.get_latest_storage_id_by_partition(
        asset_key, dg.DagsterEventType.ASSET_MATERIALIZATION, keys if len(keys) <= MAX_BOUND_KEYS else None
    )
    out = dict(own)
    for storage_id, run_id, partitions in ranges:  # oldest first: a newer attempt replaces an older one
        for key in partitions:
            if storage_id > written.get(key, -1) and storage_id > out.get(key, ("", -1))[1]:
                out[key] = (run_id, storage_id)
    return out


def _ranged_planned_events(
    storage: SqlEventLogStorage, asset_key: dg.AssetKey, after_storage_id: int | None
) -> list[tuple[int, str, list[str]]]:
    table = SqlEventLogStorageTable
    query = (
        table.select()
        .with_only_columns(table.c.id, table.c.run_id, table.c.event)
        .where(
            table.c.asset_key == asset_key.to_string(),
            table.c.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED.value,
            table.c.partition.is_(None),
            table.c.id > (after_storage_id or 0),
        )
        .order_by(table.c.id.asc())
    )
    with storage.index_connection() as conn:
        rows = conn.execute(query).fetchall()
    out = []
    for storage_id, run_id, body in rows:
        subset = dg.deserialize_value(body, dg.EventLogEntry).get_dagster_event().partitions_subset
        if subset is not None:
            out.append((storage_id, run_id, list(subset.get_partition_keys())))
    return out
