"""The latest verdict of each check on each partition, read back from the instance for ``huracan status``.

Every check is partitioned: each evaluation belongs to one partition. A check that was planned but never
evaluated (its run failed or was killed first) is no verdict — reading it as one crashed ``huracan status``
for good after any failed run — so the partition keeps its latest real verdict.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from huracan_core.validation.problems import abbreviated
from huracan_dagster.dagster_internals import (
    AssetCheckExecutionRecordStatus,
    PartitionKeyFilter,
)

JUDGED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}
#: the "partition" of a check that judges its asset as a whole
WHOLE_ASSET = ""


def failed_checks(instance: dg.DagsterInstance, check_keys: list[dg.AssetCheckKey]) -> list[str]:
    """``asset:check [SEVERITY] failed on N partitions: a, b …`` for each check whose latest verdict fails
    somewhere (``failed_text``)."""
    lines = []
    for check_key in sorted(check_keys, key=lambda k: k.to_user_string()):
        failing = sorted(p for p, bad in _partition_verdicts(instance, check_key).items() if bad)
        if failing == [WHOLE_ASSET]:  # a check of the asset as a whole (the Archive's integrity sweep)
            lines.append(f"{check_key.to_user_string()} {_failed_description(instance, check_key, None)}")
        elif failing:
            severity = _latest_failed_severity(instance, check_key)
            # one partition's reason is worth a query; many partitions' reasons are the UI's and the report's
            only = _latest_failed(instance, check_key, failing[0]) if len(failing) == 1 else None
            reasons = [only.description or "no reason recorded"] if only else []
            lines.append(f"{check_key.to_user_string()} {failed_text(severity, failing, reasons)}")
    return lines


def failed_text(severity: str, partitions: list[str], reasons: list[str]) -> str:
    """How a check that failed on ``partitions`` reads in the terminal: its severity first, so that a warning (a
    finding, such as a model that failed its gates: the run still succeeded and nothing was held back) reads apart
    from an error, then where, and the reason when all the partitions share one."""
    shared = set(reasons)
    reason = f" — {reasons[0]}" if len(shared) == 1 and reasons[0] else ""
    if not partitions:
        return f"[{severity}] failed{reason}"
    plural = "s" * (len(partitions) != 1)
    return f"[{severity}] failed on {len(partitions)} partition{plural}: {abbreviated(partitions)}{reason}"


def failed_check_rows(
    instance: dg.DagsterInstance, check_keys: list[dg.AssetCheckKey], day: date | None = None
) -> list[dict[str, str]]:
    """``{asset, check, partition, description}`` per partition whose latest verdict fails (of ``day``'s partitions
    when given), for the daily report."""
    rows = []
    for check_key in sorted(check_keys, key=lambda k: k.to_user_string()):
        for partition, bad in sorted(_partition_verdicts(instance, check_key).items()):
            if bad and (day is None or partition.startswith(day.isoformat())):
                rows.append(
                    {
                        "asset": check_key.asset_key.to_user_string(),
                        "check": check_key.name,
                        "partition": partition,
                        "description": _failed_description(instance, check_key, partition),
                    }
                )
    return rows


def _failed_description(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, partition: str | None) -> str:
    evaluation = _latest_failed(instance, check_key, partition)
    return f"[{evaluation.severity.value}] {evaluation.description or 'failed'}" if evaluation else "failed"


def _latest_failed(
    instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, partition: str | None
) -> dg.AssetCheckEvaluation | None:
    records = instance.event_log_storage.get_asset_check_execution_history(
        check_key,
        limit=1,
        status={AssetCheckExecutionRecordStatus.FAILED},
        partition_filter=PartitionKeyFilter(key=partition) if partition else None,
    )
    return _evaluation(records[0]) if records else None


def _evaluation(record) -> dg.AssetCheckEvaluation | None:
    """The evaluation of an execution record; None for one only planned (``AssetCheckEvaluationPlanned``)."""
    event = record.event.dagster_event if record.event else None
    data = event.event_specific_data if event else None
    return data if isinstance(data, dg.AssetCheckEvaluation) else None


def _partition_verdicts(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey) -> dict[str, bool]:
    """Latest verdict per partition (``WHOLE_ASSET`` for an unpartitioned check). A partition whose latest execution is only planned (that run failed or was
    killed before judging it) keeps the verdict of its latest evaluation: a failed run must not erase a flag."""
    storage = instance.event_log_storage
    verdicts = {}
    for info in storage.get_asset_check_partition_info([check_key]):
        status = info.latest_execution_status
        if status == AssetCheckExecutionRecordStatus.PLANNED:
            judged = storage.get_asset_check_execution_history(
                check_key,
                limit=1,
                status=JUDGED,
                partition_filter=PartitionKeyFilter(key=info.partition_key) if info.partition_key else None,
            )
            if not judged:
                continue
            status = judged[0].status
        verdicts[info.partition_key or WHOLE_ASSET] = status == AssetCheckExecutionRecordStatus.FAILED
    return verdicts


def _latest_failed_severity(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey) -> str:
    records = instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=1, status={AssetCheckExecutionRecordStatus.FAILED}
    )
    evaluation = _evaluation(records[0]) if records else None
    return evaluation.severity.value if evaluation else "?"
