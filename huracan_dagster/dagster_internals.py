"""Every use of Dagster's private API, fenced in one module: a Dagster upgrade that moves or changes one of them
breaks here, and in ``tests/definitions/test_dagster_internals.py``, which has one test per use — never in
unknown places. Each use says why the public API does not serve. Everything else imports ``dagster`` (``dg``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

# 15. A ranged step's verdicts (one per partition and check, ``defs/verdicts.py``) are stored as one batch, as Dagster
#     stores a ranged output's materializations: one transaction per shard instead of one per verdict. Dagster gives
#     an evaluation's event no batch marker; the step-event logger, the marker and its id are private, and so is the
#     set of event types that dagster-postgres takes in a batch.
from dagster._core import events as dagster_events

# 4. A partitioned check's verdict points at the partition's materialization of the same run, as Dagster's own
#    ``AssetCheckResult`` does for one partition; a ranged run records evaluations itself, with this target.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationPlanned,  # use 11
    AssetCheckEvaluationTargetMaterializationData,
)

# 3. ``huracan run`` cuts a window into exactly the runs a UI backfill would get from the assets' backfill
#    policies: Dagster's function for that (used by its daemon) is not public, nor the key type it takes.
from dagster._core.definitions.automation_tick_evaluation_context import (
    build_run_requests_with_backfill_policies,
)
from dagster._core.definitions.events import AssetKeyPartitionKey

# 9. ``huracan run``'s runs are runs of the code location's jobs (``execute_as_code_location_run``, below): the job
#    wrapper, the executor of a created run, the origin types and the workspace targets are private.
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.definitions.partitions.context import partition_loading_context

# 6. A ranged output records its partitions in the order of the output context's partition subset, a set (hash
#    order). The subset class and the context's attribute are private; replacing the subset with a sorted one is
#    the only way to have the newest day recorded last (the UI's "latest materialization").
from dagster._core.definitions.partitions.subset.default import DefaultPartitionsSubset
from dagster._core.definitions.reconstruct import ReconstructableRepository  # use 9

# 5. ``huracan status`` reads the latest verdict per check partition: the execution records' status type and the
#    partition filter of ``get_asset_check_execution_history`` are not exported.
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.events import BATCH_WRITABLE_EVENTS, DagsterEventBatchMetadata, generate_event_batch_id  # use 15
from dagster._core.execution.api import execute_run  # use 9

# 18. Each run's stdout and stderr are captured to the files the UI reads without Dagster's ``tail -F`` mirror
#     (instance/compute_logs.py): the local compute log manager, its capture context and the descriptor redirect it
#     writes with are in private modules, and no setting turns the mirror off.
from dagster._core.execution.compute_logs import redirect_to_file

# 14. A step maps each partitioned input's range to its upstream partitions more than once: to load the input, and
#     again to record the input's data versions on the step's materializations. The step context and its method are
#     private, and a window mapping over date × symbol builds every upstream key date by date (12.8 s of an 87 s
#     profile of the whole sample, half of it the second mapping): ``map_inputs_once`` keeps each input's mapping for
#     the step, and answers a ``day_window``'s by date arithmetic (``defs/partitions.py``), reading the step's asset,
#     input, definitions and range from the context as Dagster's method does.
from dagster._core.execution.context.system import StepExecutionContext
from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin  # use 9
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus,
)
from dagster._core.storage.compute_log_manager import CapturedLogContext  # use 18

# 1. The instance's SQLite event log keeps its connections (instance/sqlite_storage.py) by subclassing Dagster's
#    own storage: there is no public base class for an event log storage that keeps Dagster's schema and files.
#    A batch is stored in one transaction per shard, and the index shard's name tells it from a run's shard.
from dagster._core.storage.event_log import SqliteEventLogStorage

# 16. The instance's SQLite run storage keeps its connection too (instance/sqlite_run_storage.py), by subclassing
#     Dagster's own (not exported), which opens a new engine and connection and fsyncs for every read and write.
# 10. A run's planned materializations are one event per asset with the run's partition subset, not one per
#     partition (instance/planned_ranges.py); Dagster's query for the partitions a run attempted but did not write
#     reads only per-partition events, so those subsets are read from the event table, whose schema is private.
# 11. A planned check's rows, one per partition of the run, are written with the event serialized once
#     (instance/check_planned.py): the storage's method that writes them, its event type and its table are private.
# 12. A ranged step's materializations are stored on SQLite as dagster-postgres stores them, the asset's index row
#     written once (instance/asset_event_batch.py): the storage's row builders for a batch, its tags and its index
#     row (``_event_to_row``, ``_store_asset_event_tags``, ``_store_asset_event``) are private.
# 13. A check verdict's row is written with a statement built once and the text its event row was written with
#     (instance/check_rows.py, check_verdict.py, event_text.py): the storage's method that writes it
#     (``_update_asset_check_evaluation``), the one that serializes an event's row (``_event_to_row``), the table
#     and its status type are private.
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager  # use 18
from dagster._core.storage.runs import SqliteRunStorage  # use 16
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.workspace.load_target import ModuleTarget, WorkspaceFileTarget  # use 9

# 2. A storage named in dagster.yaml is built by ``from_config_value(inst_data, config)``: ``ConfigurableClassData``
#    is the type of ``inst_data`` in that contract, and Dagster exports it only from its private serdes module.
from dagster._serdes import ConfigurableClassData

if TYPE_CHECKING:
    # 7. The errors on failure events (``step_failure_data.error``) are ``SerializableErrorInfo``: a type for
    #    annotations only, never constructed here.
    # 17. What an input maps to is a ``PartitionsSubset`` (``defs/partitions.py``'s ``day_window_upstream``), a type
    #     Dagster does not export: for annotations only; the subsets themselves come from Dagster's definitions.
    from dagster._core.definitions.partitions.subset import PartitionsSubset
    from dagster_shared.error import SerializableErrorInfo

__all__ = [
    "BATCH_WRITABLE_EVENTS",
    "INDEX_SHARD_NAME",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "AssetCheckEvaluationPlanned",
    "AssetCheckEvaluationTargetMaterializationData",
    "AssetCheckExecutionRecordStatus",
    "AssetCheckExecutionsTable",
    "CapturedLogContext",
    "ConfigurableClassData",
    "LocalComputeLogManager",
    "PartitionKeyFilter",
    "PartitionsSubset",
    "SerializableErrorInfo",
    "SqlEventLogStorage",
    "SqlEventLogStorageTable",
    "SqliteEventLogStorage",
    "SqliteRunStorage",
    "add_partition_metadata",
    "backfill_run_requests",
    "execute_as_code_location_run",
    "in_one_batch",
    "map_inputs_once",
    "materializations_of_run",
    "record_partitions_in_key_order",
    "redirect_to_file",
    "store_verdicts_in_batches",
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


def materializations_of_run(
    instance: dg.DagsterInstance, asset: dg.AssetKey, run_id: str
) -> list[tuple[str, int, float]]:
    """19. ``(partition, storage id, timestamp)`` of each materialization of ``asset``'s partitions by ``run_id``,
    newest first. A ranged step's verdicts point at them (use 4): the public ``fetch_materializations`` reads each
    event whole (4–8 KB of JSON; 0.8–1.0 s of a run of the whole sample) where only these columns are needed, and the
    instance's summary records, which read the event table's indexed columns alone, are not public."""
    records = instance.get_asset_event_summary_records(
        dg.DagsterEventType.ASSET_MATERIALIZATION, asset_key=asset, run_id=run_id
    )
    return [(r.partition, r.storage_id, r.timestamp) for r in records if r.partition is not None]


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


# 9. ``huracan run`` executes its runs in its own process (or in helpers started once, ``cli/run_pool.py``): a run
#    worker per run costs seconds. Yet they must be runs of the code location's named jobs, as those the UI and the
#    daemon launch are: the Overview timeline lists only runs that carry their job's origin in a code location, and
#    ``execute_in_process`` creates runs without one. The origin types, the workspace targets from which the UI makes its code location's
#    origin, and executing an already created run in this process (``execute_run`` of an ``InMemoryJob``) are private.
#    Over Celery workers (``HURACAN_EXECUTOR=celery``) the run's steps must travel as a job that a worker loads by
#    itself: a ``ReconstructableJob`` of the definitions' module, which ``dg.reconstructable`` makes only from a
#    function that returns one job, not from a ``Definitions`` object.


#: the code location module's ``Definitions`` (``huracan_dagster.defs.defs``)
DEFS_ATTRIBUTE = "defs"


def execute_as_code_location_run(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    *,
    workspace: Path | None,
    module: str,
    repository: str,
    assets: Sequence[dg.AssetKey] | None,
    tags: Mapping[str, str],
    run_config: Mapping[str, Any],
) -> dg.ExecutionResult:
    """``job.execute_in_process(...)``, but the run is created with the job's origin in the code location the UI loads
    (``workspace``, or ``module`` where there is no workspace file) and ``repository`` (use 9). ``job`` keeps its own
    executor: ``in_process_executor``, or the workers' (``huracan_dagster.defs.step_executor``), which then load the
    job from ``module``'s ``defs`` themselves."""
    target = (
        WorkspaceFileTarget(paths=[str(workspace)])
        if workspace is not None
        else ModuleTarget(module_name=module, attribute=None, working_directory=None, location_name=None)
    )
    [location] = target.create_origins()
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, repository), job.name)
    run = instance.create_run_for_job(
        job_def=job,
        run_config=run_config,
        tags={**job.run_tags, **tags},
        asset_selection=frozenset(assets) if assets is not None else None,
        remote_job_origin=origin,
    )
    executable = (
        InMemoryJob(job)
        if job.executor_def is dg.in_process_executor
        else ReconstructableRepository.for_module(module, DEFS_ATTRIBUTE).get_reconstructable_job(job.name)
    )
    return execute_run(executable, run, instance)


_dagster_input_subset = StepExecutionContext.asset_partitions_subset_for_input
#: where a step context keeps its inputs' mapped partitions (a context lives for one step)
_MAPPED = "_huracan_mapped_inputs"


def _input_subset_once(self: StepExecutionContext, input_name: str, *, require_valid_partitions: bool = True) -> Any:
    """Dagster's own mapping of ``input_name`` for this step, computed once. It is kept only when the step's range
    maps to partitions that all exist, which is what the strict call checks; a lenient call (the data versions') on
    a range that reaches past them gets Dagster's answer again, and the strict one its error, as before."""
    mapped: dict[str, Any] | None = getattr(self, _MAPPED, None)
    if mapped is None:
        mapped = {}
        setattr(self, _MAPPED, mapped)
    if input_name not in mapped:
        quick = _day_window_subset(self, input_name)
        if quick is not None:
            mapped[input_name] = quick
            return quick
        try:
            mapped[input_name] = _dagster_input_subset(self, input_name)
        except dg.DagsterInvariantViolationError:
            if require_valid_partitions:
                raise
            return _dagster_input_subset(self, input_name, require_valid_partitions=False)
    return mapped[input_name]


def _day_window_subset(step: StepExecutionContext, input_name: str) -> PartitionsSubset | None:
    """``day_window_upstream`` for the step's input, with what Dagster's method reads; None where it does not
    answer (no asset, an unpartitioned input, another mapping), so Dagster's method does."""
    from huracan_dagster.defs.partitions import day_window_upstream

    layer = step.job_def.asset_layer
    assets_def = layer.get_assets_def_for_node(step.node_handle)
    upstream_key = layer.get_asset_key_for_node_input(step.node_handle, input_name)
    if assets_def is None or upstream_key is None or not step.has_partitions:
        return None
    return day_window_upstream(
        assets_def.get_partition_mapping_for_dep(upstream_key),
        step.entity_partitions_def,
        layer.get(upstream_key).partitions_def,
        step.partition_key_range,
        step.instance,
    )


def map_inputs_once() -> None:
    """Have every step of this process map each input once (use 14); idempotent. ``build_definitions`` calls it, so
    each process that runs steps (``huracan run``, a run worker, a Celery worker) loads the definitions with it."""
    StepExecutionContext.asset_partitions_subset_for_input = _input_subset_once  # type: ignore[method-assign]


_dagster_log_step_event = dagster_events.log_step_event
#: the batch of each evaluation ``in_one_batch`` is yielding, by the evaluation's id, until its event is logged
_BATCH_OF: dict[int, DagsterEventBatchMetadata] = {}


def _log_in_batch(step_context: Any, event: Any, batch_metadata: DagsterEventBatchMetadata | None) -> None:
    if batch_metadata is None and event.event_type_value == dg.DagsterEventType.ASSET_CHECK_EVALUATION.value:
        batch_metadata = _BATCH_OF.pop(id(event.event_specific_data), None)
    _dagster_log_step_event(step_context, event, batch_metadata)


def in_one_batch(evaluations: Sequence[dg.AssetCheckEvaluation]) -> Iterator[dg.AssetCheckEvaluation]:
    """Yield a step's verdicts so that their events are stored together (use 15), once the last one is logged. They
    are built before the first is yielded: nothing of the step's own can fail between two of them and leave the
    batch unfinished."""
    batch = generate_event_batch_id()
    try:
        for n, evaluation in enumerate(evaluations):
            _BATCH_OF[id(evaluation)] = DagsterEventBatchMetadata(batch, n == len(evaluations) - 1)
            yield evaluation
    finally:
        for evaluation in evaluations:
            _BATCH_OF.pop(id(evaluation), None)


def store_verdicts_in_batches() -> None:
    """Have every step of this process log ``in_one_batch``'s verdicts as one batch (use 15); idempotent.
    ``build_definitions`` calls it, as it calls ``map_inputs_once``."""
    dagster_events.log_step_event = _log_in_batch
