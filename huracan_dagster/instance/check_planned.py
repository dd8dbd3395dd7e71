"""A run's planned checks stored with each planned event serialized once, not once per partition.

When a run starts, Dagster records each check it will evaluate as one ``ASSET_CHECK_EVALUATION_PLANNED`` event
carrying the run's partition subset, and, in the check executions table, one row per partition of that subset, each
holding the serialized event. Dagster serializes the event anew for every row: a run over n partitions serializes
n keys n times per check, O(n²) — for a half-year run of one symbol's chain (twelve checks over 184 days) 400,000
keys written out before the first step starts. The rows here are Dagster's own, column for column (a test compares
them with Dagster's); they carry the text the event's own row was written with (``event_text``), and go to the
database as one statement executed for many rows, not one statement of many rows, which SQLAlchemy compiles anew
for each row count and binds value by value (9.5 → 1.3–2.1 ms a planned check of 31–50 partitions, measured alone).
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from huracan_dagster.dagster_internals import (
    AssetCheckEvaluationPlanned,
    AssetCheckExecutionRecordStatus,
    AssetCheckExecutionsTable,
    SqlEventLogStorage,
)
from huracan_dagster.instance.event_text import text_of


def store_planned_check(storage: SqlEventLogStorage, event: dg.EventLogEntry, event_id: int | None) -> None:
    """The check executions rows of one planned check event (``_store_asset_check_evaluation_planned``)."""
    planned = event.get_dagster_event().event_specific_data
    assert isinstance(planned, AssetCheckEvaluationPlanned)
    partitions = list(planned.partitions_subset.get_partition_keys()) if planned.partitions_subset else [None]
    row = {
        "asset_key": planned.asset_key.to_string(),
        "check_name": planned.check_name,
        "run_id": event.run_id,
        "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
        "evaluation_event": text_of(event),  # as its event row holds it (event_text)
        # as Dagster writes it: UTC without a zone (PostgreSQL's column has none)
        "evaluation_event_timestamp": datetime.fromtimestamp(event.timestamp, UTC).replace(tzinfo=None),
        "evaluation_event_storage_id": event_id,
    }
    with storage.index_connection() as conn:
        conn.execute(AssetCheckExecutionsTable.insert(), [{**row, "partition": key} for key in partitions])
