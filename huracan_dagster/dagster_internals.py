"""Every use of Dagster's private API, fenced in one module: a Dagster upgrade that moves or changes one of them
breaks here, and in ``tests/definitions/test_dagster_internals.py``, which has one test per use — never in
unknown places. Each use says why the public API does not serve. Everything else imports ``dagster`` (``dg``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg

# 4. A partitioned check's verdict points at the partition's materialization of the same run, as Dagster's own
#    ``AssetCheckResult`` does for one partition; a ranged run records evaluations itself, with this target.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

# 3. ``huracan run`` cuts a window into exactly the runs a UI backfill would get from the assets' backfill
#    policies: Dagster's function for that (used by its daemon) is not public, nor the key type it takes.
from dagster._core.definitions.automation_tick_evaluation_context import (
    build_run_requests_with_backfill_policies,
)
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.definitions.partitions.context import partition_loading_context

# 6. A ranged output records its partitions in the order of the output context's partition subset, a set (hash
#    order). The subset class and the context's attribute are private; replacing the subset with a sorted one is
#    the only way to have the newest day recorded last (the UI's "latest materialization").
from dagster._core.definitions.partitions.subset.default import DefaultPartitionsSubset

# 5. ``huracan status`` reads the latest verdict per check partition: the execution records' status type and the
#    partition filter of ``get_asset_check_execution_history`` are not exported.
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus,
)

# 1. The instance's SQLite event log keeps its connections (instance/sqlite_storage.py) by subclassing Dagster's
#    own storage: there is no public base class for an event log storage that keeps Dagster's schema and files.
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS

# 2. A storage named in dagster.yaml is built by ``from_config_value(inst_data, config)``: ``ConfigurableClassData``
#    is the type of ``inst_data`` in that contract, and Dagster exports it only from its private serdes module.
from dagster._serdes import ConfigurableClassData

if TYPE_CHECKING:
    # 7. The errors on failure events (``step_failure_data.error``) are ``SerializableErrorInfo``: a type for
    #    annotations only, never constructed here.
    from dagster_shared.error import SerializableErrorInfo

__all__ = [
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "AssetCheckEvaluationTargetMaterializationData",
    "AssetCheckExecutionRecordStatus",
    "ConfigurableClassData",
    "PartitionKeyFilter",
    "SerializableErrorInfo",
    "SqliteEventLogStorage",
    "add_partition_metadata",
    "backfill_run_requests",
    "record_partitions_in_key_order",
]


def backfill_run_requests(
    graph: Any, instance: dg.DagsterInstance, wanted: Iterable[tuple[dg.AssetKey, str]]
) -> list[dg.RunRequest]:
    """The run requests the daemon would make for these (asset, partition) pairs under their backfill policies
    (use 3); the symbols are dynamic partitions, read from ``instance``."""
    keys = [AssetKeyPartitionKey(asset, partition) for asset, partition in wanted]
    with partition_loading_context(dynamic_partitions_store=instance):
        return list(build_run_requests_with_backfill_policies(keys, graph, instance))


class _KeyOrderedSubset(DefaultPartitionsSubset):
    """The run's partitions, listed in key order: (date, symbol) for ``date|symbol`` keys."""

    def get_partition_keys(self) -> Iterable[str]:
        return sorted(self.subset)


def record_partitions_in_key_order(context: dg.OutputContext) -> None:
    """Have Dagster record a ranged output's materializations in key order (use 6). The same context records the
    events right after ``handle_output``, so its subset is replaced here by one that lists its keys sorted."""
    subset = context._asset_partitions_subset
    if isinstance(subset, DefaultPartitionsSubset):
        context._asset_partitions_subset = _KeyOrderedSubset(subset.subset)


# 8. Per-partition metadata of a ranged run goes to the step's metadata accumulator (a private attribute), below.


def add_partition_metadata(context: dg.AssetExecutionContext, by_partition: Mapping[str, Mapping[str, Any]]) -> None:
    """Per-partition metadata of a ranged run, added to the step's accumulator directly (use 8).

    ``context.add_asset_metadata(partition_key=…)`` re-expands the whole partition range on every call to check the
    key (O(n²): 10 s for 835 partition-assets, measured); the caller checks the keys once against one set, and the
    metadata goes to the accumulator, which is what that method ends up doing.
    """
    step = context.op_execution_context._step_execution_context
    accumulator = step._metadata_accumulator
    for key, metadata in by_partition.items():
        accumulator = accumulator.with_additional_asset_metadata(context.asset_key, key, metadata)
    step._metadata_accumulator = accumulator
