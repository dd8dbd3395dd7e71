"""A check verdict written onto its planned row with one statement built once and the event serialized once.

Every verdict of a run updates the row its planned event wrote for that check and partition
(``_update_asset_check_evaluation``). Dagster builds that UPDATE anew for each verdict (its WHERE and SET clauses
as expressions) and serializes the event again, though the event row stored a moment before holds the same text:
0.65 ms a verdict of the 1.2 ms the row took, profiled over a default window of ~2,000 verdicts (a ranged step
judges every partition it writes, several checks each). Here the statement is built once, with parameters, and
the serialized text is the one the event row was written with (``event_text``). The row written is Dagster's own,
column for column (a test compares them); anything but the one planned row of a partitioned verdict — no row to
update, several, a verdict without a partition — goes to Dagster's own method, which inserts, raises or filters
as it does.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from sqlalchemy import and_, bindparam
from sqlalchemy.engine import Connection

from huracan_dagster.dagster_internals import AssetCheckExecutionRecordStatus, AssetCheckExecutionsTable
from huracan_dagster.instance.event_text import text_of

_ROW = AssetCheckExecutionsTable.c
#: the planned row of one check, run and partition, given its verdict (Dagster's UPDATE, with parameters; Dagster
#: also sets the partition to the one its WHERE already matched)
VERDICT = (
    AssetCheckExecutionsTable.update()
    .where(
        and_(
            _ROW.asset_key == bindparam("b_asset_key"),
            _ROW.check_name == bindparam("b_check_name"),
            _ROW.run_id == bindparam("b_run_id"),
            _ROW.partition == bindparam("b_partition"),
        )
    )
    .values(
        execution_status=bindparam("b_status"),
        evaluation_event=bindparam("b_event"),
        evaluation_event_timestamp=bindparam("b_timestamp"),
        evaluation_event_storage_id=bindparam("b_event_id"),
        materialization_event_storage_id=bindparam("b_materialization_id"),
    )
)


def update_verdict(
    connect: Callable[[], AbstractContextManager[Connection]],
    event: dg.EventLogEntry,
    event_id: int | None,
    dagsters_own: Callable[[dg.EventLogEntry, int | None], None],
) -> None:
    """Write ``event``'s verdict onto its planned row (``connect``: the storage's ``index_connection``)."""
    parameters = verdict_parameters(event, event_id)
    if parameters is None:
        dagsters_own(event, event_id)
        return
    with connect() as conn:
        updated = conn.execute(VERDICT, parameters).rowcount
    if updated != 1:  # no planned row (Dagster inserts one) or several (Dagster raises)
        dagsters_own(event, event_id)


def verdict_parameters(event: dg.EventLogEntry, event_id: int | None) -> dict[str, Any] | None:
    """``VERDICT``'s parameters for ``event``; None for a verdict without a partition (Dagster's own method's)."""
    evaluation = event.get_dagster_event().event_specific_data
    assert isinstance(evaluation, dg.AssetCheckEvaluation)
    if evaluation.partition is None:
        return None
    passed = AssetCheckExecutionRecordStatus.SUCCEEDED if evaluation.passed else AssetCheckExecutionRecordStatus.FAILED
    target = evaluation.target_materialization_data
    return {
        "b_asset_key": evaluation.asset_key.to_string(),
        "b_check_name": evaluation.check_name,
        "b_run_id": event.run_id,
        "b_partition": evaluation.partition,
        "b_status": passed.value,
        "b_event": text_of(event),
        # as Dagster writes it: UTC without a zone (PostgreSQL's column has none)
        "b_timestamp": datetime.fromtimestamp(event.timestamp, UTC).replace(tzinfo=None),
        "b_event_id": event_id,
        "b_materialization_id": target.storage_id if target else None,
    }
