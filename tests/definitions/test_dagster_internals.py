"""One test per use of Dagster's private API (``huracan_dagster/dagster_internals.py``): each fails loudly, naming
the use, when a Dagster upgrade moves or changes what Huracan relies on."""

import sys
from datetime import date, timedelta

import dagster as dg
import pytest
from sqlalchemy import event

from huracan_dagster import dagster_internals as internals
from huracan_dagster.defs.partitions import SYMBOL_DIMENSION, PartitionSpace, day_window
from huracan_dagster.instance.failures import root_cause

PARTS = dg.MultiPartitionsDefinition(
    {
        "date": dg.DailyPartitionsDefinition(start_date="2024-12-01", end_date="2024-12-04"),
        "symbol": dg.StaticPartitionsDefinition(["AAA", "BBB"]),
    }
)
KEYS = sorted(PARTS.get_partition_keys())
DAYS = [date(2024, 12, 1) + timedelta(days=n) for n in range(3)]
MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION


def _pooled_instance(tmp_path, kind: str, module: str, cls: str):
    """A test instance whose ``kind`` storage is Huracan's ``huracan_dagster.instance.<module>.<cls>``."""
    storage = {
        "module": f"huracan_dagster.instance.{module}",
        "class": cls,
        "config": {"base_dir": str(tmp_path / "history")},
    }
    return dg.instance_for_test(temp_dir=str(tmp_path), overrides={kind: storage})


def test_use_1_the_sqlite_event_log_subclass_stores_and_reads_events(tmp_path) -> None:
    from huracan_dagster.instance.sqlite_storage import PooledSqliteEventLogStorage

    assert issubclass(PooledSqliteEventLogStorage, internals.SqliteEventLogStorage)
    assert internals.SQLITE_BUSY_TIMEOUT_SECONDS > 0
    with _pooled_instance(tmp_path, "event_log_storage", "sqlite_storage", "PooledSqliteEventLogStorage") as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        result = dg.materialize([dg.asset(name="thing")(lambda: 1)], instance=instance)
        assert result.success and instance.get_latest_materialization_event(dg.AssetKey("thing")) is not None


def test_use_2_storages_are_built_from_configurable_class_data(tmp_path) -> None:
    from huracan_dagster.instance.sqlite_storage import PooledSqliteEventLogStorage

    data = internals.ConfigurableClassData(
        "huracan_dagster.instance.sqlite_storage", "PooledSqliteEventLogStorage", "{}"
    )
    storage = PooledSqliteEventLogStorage.from_config_value(data, {"base_dir": str(tmp_path)})
    assert storage.inst_data == data
    storage.dispose()


def test_use_3_backfill_run_requests_cut_a_window_as_the_daemon_does() -> None:
    @dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run())
    def thing() -> None: ...

    graph = dg.Definitions(assets=[thing]).resolve_asset_graph()
    requests = internals.backfill_run_requests(graph, dg.DagsterInstance.ephemeral(), [(thing.key, k) for k in KEYS])
    assert {r.tags["dagster/asset_partition_range_start"] for r in requests} <= set(KEYS)
    assert sum(len(r.asset_selection or []) for r in requests) >= 1
    covered = {
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"]) for r in requests
    }
    assert len(covered) == 2  # one range per symbol: fewer symbols than dates


def _ranged(instance: dg.DagsterInstance, asset: dg.AssetsDefinition) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [asset],
        instance=instance,
        tags={"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]},
    )


def test_use_4_and_5_partitioned_verdicts_point_at_their_materialization_and_are_read_back() -> None:
    check = dg.AssetCheckSpec("ok", asset="thing", partitions_def=PARTS)

    @dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run(), check_specs=[check])
    def thing(context: dg.AssetExecutionContext):
        yield dg.MaterializeResult()
        for record in context.instance.fetch_materializations(dg.AssetKey("thing"), limit=100).records:
            target = internals.AssetCheckEvaluationTargetMaterializationData(
                storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
            )
            yield dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey("thing"),
                check_name="ok",
                passed=record.partition_key != KEYS[0],
                partition=record.partition_key,
                target_materialization_data=target,
            )
        yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(check.key))

    instance = dg.DagsterInstance.ephemeral()
    assert _ranged(instance, thing).success
    failed = instance.event_log_storage.get_asset_check_execution_history(
        check.key,
        limit=5,
        status={internals.AssetCheckExecutionRecordStatus.FAILED},
        partition_filter=internals.PartitionKeyFilter(key=KEYS[0]),
    )
    assert [r.status for r in failed] == [internals.AssetCheckExecutionRecordStatus.FAILED]


def test_use_6_and_8_a_ranged_output_records_its_partitions_in_key_order_with_their_own_metadata() -> None:
    class Ordered(dg.IOManager):
        def handle_output(self, context: dg.OutputContext, obj: object) -> None:
            internals.record_partitions_in_key_order(context)

        def load_input(self, context: dg.InputContext) -> None: ...

    @dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run(), io_manager_key="ordered")
    def thing(context: dg.AssetExecutionContext) -> dict:
        internals.add_partition_metadata(context, {k: {"key": k} for k in context.partition_keys})
        return {}

    result = dg.materialize(
        [thing],
        resources={"ordered": Ordered()},
        tags={"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]},
    )
    events = result.get_asset_materialization_events()
    assert [e.partition for e in events] == KEYS
    assert all(e.materialization.metadata["key"].value == e.partition for e in events)


def test_use_7_failure_errors_are_serializable_error_infos() -> None:
    @dg.asset
    def broken() -> None:
        raise ValueError("partition 2024-12-01|AAA: close is not positive (3 rows)")

    result = dg.materialize([broken], raise_on_error=False)
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    from dagster._utils.error import SerializableErrorInfo  # the test of the fence may look behind it

    assert isinstance(error, SerializableErrorInfo)
    assert root_cause(error) == "ValueError: partition 2024-12-01|AAA: close is not positive (3 rows)"


def test_use_9_a_run_executed_here_belongs_to_its_job_in_the_workspaces_code_location(tmp_path) -> None:
    from huracan_dagster.cli.code_location import WORKSPACE

    @dg.asset
    def one() -> None: ...

    @dg.asset
    def two() -> None: ...

    defs = dg.Definitions(
        assets=[one, two], jobs=[dg.define_asset_job("both", [one, two])], executor=dg.in_process_executor
    )
    job = defs.resolve_job_def("both")
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = internals.execute_as_code_location_run(
            job,
            instance,
            workspace=WORKSPACE,
            module="huracan_dagster.defs",
            repository="__repository__",
            assets=[one.key],
            tags={"huracan/window": "2024-12-01..2024-12-01"},
            run_config={},
        )
        assert result.success
        assert [e.asset_key for e in result.get_asset_materialization_events()] == [one.key]  # the selection alone
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.remote_job_origin is not None
        assert (run.job_name, run.remote_job_origin.job_name) == ("both", "both")
        repository = run.remote_job_origin.repository_origin
        assert (repository.code_location_origin.location_name, repository.repository_name) == (
            "huracan",  # workspace.yaml's location_name
            "__repository__",
        )
        assert run.tags["huracan/window"] == "2024-12-01..2024-12-01"


def test_use_9_a_job_over_other_processes_is_loaded_there_from_the_module(tmp_path, monkeypatch) -> None:
    """A step that runs elsewhere (a Celery worker; here a process of the multiprocess executor) loads the job from
    the module's ``defs`` itself, so the run reaches it as a reconstructable job, not an in-memory one."""
    import os

    from tests.definitions import multiprocess_location as location

    # the step's process starts with this sys.path, and Dagster drops its first entry before importing a module by
    # name: keep the repository (pytest's first entry, where ``tests`` is found) behind another
    monkeypatch.syspath_prepend(str(tmp_path))
    job = location.defs.resolve_job_def("both")
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = internals.execute_as_code_location_run(
            job,
            instance,
            workspace=None,
            module=location.__name__,
            repository="__repository__",
            assets=[location.one.key],
            tags={},
            run_config={},
        )
        assert result.success
        [started] = [e for e in result.all_events if e.is_step_start]
        assert started.pid != os.getpid()  # the step ran in a process of its own
        assert [e.asset_key for e in result.get_asset_materialization_events()] == [location.one.key]


def test_use_10_a_ranged_planned_event_is_one_row_of_the_event_table_with_its_subset(tmp_path) -> None:
    from huracan_dagster.instance import planned_ranges
    from huracan_dagster.instance.planned_ranges import unfinished_attempts
    from huracan_dagster.instance.sqlite_storage import PooledSqliteEventLogStorage

    assert issubclass(PooledSqliteEventLogStorage, internals.SqlEventLogStorage)
    assert {"id", "run_id", "event", "asset_key", "dagster_event_type", "partition"} <= set(
        internals.SqlEventLogStorageTable.c.keys()
    )
    storage = {
        "module": "huracan_dagster.instance.sqlite_storage",
        "class": "PooledSqliteEventLogStorage",
        "config": {"base_dir": str(tmp_path / "history")},
    }

    @dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run())
    def unwritten(context: dg.AssetExecutionContext) -> None:
        raise RuntimeError("nothing written")

    with dg.instance_for_test(temp_dir=str(tmp_path), overrides={"event_log_storage": storage}) as instance:
        tags = {"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]}
        result = dg.materialize([unwritten], instance=instance, tags=tags, raise_on_error=False)
        attempts = unfinished_attempts(instance.event_log_storage, unwritten.key, None, {})
        with pytest.MonkeyPatch.context() as patch:  # past MAX_BOUND_KEYS: every partition's latest, unbound
            patch.setattr(planned_ranges, "MAX_BOUND_KEYS", 1)
            assert unfinished_attempts(instance.event_log_storage, unwritten.key, None, {}) == attempts
    assert not result.success and sorted(attempts) == KEYS and {r for r, _ in attempts.values()} == {result.run_id}


CANDLES = dg.AssetKey(["15m", "candles"])


def _check_event(kind: dg.DagsterEventType, data: object, timestamp: float = 1_733_011_200.5) -> dg.EventLogEntry:
    """A check event of a ranged run of the candles, as a step reports it."""
    event = dg.DagsterEvent(
        event_type_value=kind.value, job_name="chain", event_specific_data=data, step_key="15m__candles"
    )
    return dg.EventLogEntry(
        error_info=None, level="DEBUG", user_message="", run_id="a-ranged-run", timestamp=timestamp, dagster_event=event
    )


def check_rows(storage: internals.SqlEventLogStorage) -> list[dict]:
    """The check executions table in partition order, all but its row ids and the database clock's write times."""
    table = internals.AssetCheckExecutionsTable
    with storage.index_connection() as conn:
        found = conn.execute(table.select().order_by(table.c.partition)).mappings().all()
    return [{k: v for k, v in row.items() if k not in ("id", "create_timestamp")} for row in found]


def test_use_11_a_planned_checks_rows_are_dagsters_own_with_its_event_rows_text(tmp_path, monkeypatch) -> None:
    from huracan_dagster.instance.sqlite_storage import PooledSqliteEventLogStorage

    planned = internals.AssetCheckEvaluationPlanned(
        asset_key=CANDLES, check_name="no_gaps", partitions_subset=PARTS.subset_with_partition_keys(KEYS)
    )
    entry = _check_event(dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED, planned)
    serialized = []
    real = dg.serialize_value
    monkeypatch.setattr(dg, "serialize_value", lambda value: serialized.append(value) or real(value))
    rows = {}
    for name, storage in (
        ("dagster", internals.SqliteEventLogStorage(str(tmp_path / "dagster"))),
        ("huracan", PooledSqliteEventLogStorage(str(tmp_path / "huracan"))),
    ):
        storage.store_event(entry)
        rows[name] = check_rows(storage)
    assert [row["partition"] for row in rows["huracan"]] == KEYS
    assert rows["huracan"] == rows["dagster"]  # column for column, the same planned rows
    # ours carry the text the event's own row was written with (Dagster's serializes through serdes, uncounted)
    assert entry not in serialized


def shard_tables(folder, run_id: str) -> dict[tuple[str, str], list[tuple]]:
    """Every row of every table of a SQLite event log's index shard and ``run_id``'s shard, all but when each storage
    was created (its migrations) and the database clock's write times."""
    import sqlite3

    tables = {}
    for shard in (internals.INDEX_SHARD_NAME, run_id):
        with sqlite3.connect(folder / f"{shard}.db") as db:
            found = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'secondary_indexes'")
            for (table,) in found.fetchall():
                columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
                kept = ", ".join(f'"{c}"' for c in columns if c not in ("create_timestamp", "update_timestamp"))
                tables[shard, table] = db.execute(f"SELECT {kept} FROM {table} ORDER BY rowid").fetchall()
    return tables


def test_use_12_a_batch_of_materializations_leaves_every_table_as_dagsters_event_by_event_path(
    tmp_path, monkeypatch
) -> None:
    from huracan_dagster.instance.sqlite_storage import PooledSqliteEventLogStorage

    @dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run(), code_version="1")
    def thing(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        internals.add_partition_metadata(context, {k: {"rows": len(k)} for k in context.partition_keys})
        return dg.MaterializeResult(tags={"dagster/code_version": "1"})

    instance = dg.DagsterInstance.ephemeral()
    records = instance.get_records_for_run(_ranged(instance, thing).run_id).records
    events = [r.event_log_entry for r in records if r.event_log_entry.dagster_event_type == MATERIALIZATION]
    assert len(events) == len(KEYS)  # the step's batch, as the storage receives it

    stored = []
    monkeypatch.setattr(
        PooledSqliteEventLogStorage,
        "_store_asset_event",
        lambda self, conn, event, event_id: (
            stored.append(event_id) or internals.SqlEventLogStorage._store_asset_event(self, conn, event, event_id)
        ),
    )
    tables = {}
    for name, storage in (
        ("dagster", internals.SqliteEventLogStorage(str(tmp_path / "dagster"))),
        ("huracan", PooledSqliteEventLogStorage(str(tmp_path / "huracan"))),
    ):
        if name == "dagster":
            for event in events:  # Dagster's own path for a batch on SQLite: event by event
                storage.store_event(event)
        else:
            storage.store_event_batch(events)
        storage.dispose()
        tables[name] = shard_tables(tmp_path / name, events[0].run_id)
    assert tables["huracan"] == tables["dagster"]  # every row of every table of both shards
    assert len(tables["huracan"][internals.INDEX_SHARD_NAME, "event_logs"]) == len(KEYS)
    assert len(stored) == 1  # the asset's index row written once, from the last event of the batch


def verdicts() -> list[dg.EventLogEntry]:
    """A run's planned check and its verdicts: one passed, one failed against its materialization, and one for a
    partition the run did not plan (Dagster inserts a row for it)."""
    planned = internals.AssetCheckEvaluationPlanned(
        asset_key=CANDLES, check_name="no_gaps", partitions_subset=PARTS.subset_with_partition_keys(KEYS[:3])
    )
    target = internals.AssetCheckEvaluationTargetMaterializationData(storage_id=7, run_id="a-ranged-run", timestamp=2.0)
    judged = [(KEYS[0], True, None), (KEYS[1], False, target), (KEYS[4], True, None)]
    return [_check_event(dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED, planned)] + [
        _check_event(
            dg.DagsterEventType.ASSET_CHECK_EVALUATION,
            dg.AssetCheckEvaluation(
                asset_key=CANDLES,
                check_name="no_gaps",
                passed=passed,
                partition=key,
                target_materialization_data=materialization,
                metadata={"gaps": int(not passed)},
            ),
            timestamp=1_733_011_201.25 + n,
        )
        for n, (key, passed, materialization) in enumerate(judged)
    ]


def test_use_13_a_verdicts_row_is_dagsters_own_written_with_the_event_rows_text(tmp_path, monkeypatch) -> None:
    from huracan_dagster.instance import check_verdict
    from huracan_dagster.instance.sqlite_storage import PooledSqliteEventLogStorage

    serialized = []
    real = dg.serialize_value
    monkeypatch.setattr(dg, "serialize_value", lambda value: serialized.append(value) or real(value))
    executed = []
    rows = {}
    for name, storage in (
        ("dagster", internals.SqliteEventLogStorage(str(tmp_path / "dagster"))),
        ("huracan", PooledSqliteEventLogStorage(str(tmp_path / "huracan"))),
    ):
        with storage.index_connection() as conn:
            engine = conn.engine
        event.listen(engine, "before_execute", lambda _c, statement, *_: executed.append(statement))
        for entry in verdicts():
            storage.store_event(entry)
        rows[name] = check_rows(storage)
        storage.dispose()
    batched = PooledSqliteEventLogStorage(str(tmp_path / "batched"))  # a step's verdicts as one batch (use 15)
    planned, *judged = verdicts()
    batched.store_event(planned)
    batched.store_event_batch(judged)  # verdict_batch: one insert a shard
    assert rows["huracan"] == rows["dagster"] == check_rows(batched)  # column for column: statuses, events, targets
    batched.dispose()
    assert shard_tables(tmp_path / "batched", planned.run_id) == shard_tables(tmp_path / "dagster", planned.run_id)
    assert [r["execution_status"] for r in rows["huracan"]] == ["SUCCEEDED", "FAILED", "PLANNED", "SUCCEEDED"]
    assert executed.count(check_verdict.VERDICT) == 3  # every verdict tried the prebuilt statement first
    assert not [v for v in serialized if isinstance(v, dg.EventLogEntry)]  # each verdict's text was its event row's


def _windowed_pair(parts: dg.MultiPartitionsDefinition = PARTS) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition]:
    """``down`` reads ``up``'s day before and its own day, symbol for symbol, over a ranged run."""
    policy = dg.BackfillPolicy.single_run()

    @dg.asset(partitions_def=parts, backfill_policy=policy)
    def up(context: dg.AssetExecutionContext) -> dict:
        return dict.fromkeys(context.partition_keys, 1)

    window = day_window(-1)  # the project's own day window, symbol for symbol

    @dg.asset(partitions_def=parts, backfill_policy=policy, ins={"up": dg.AssetIn(partition_mapping=window)})
    def down(context: dg.AssetExecutionContext, up: dict) -> dict:
        return {k: sorted(up) for k in context.partition_keys}

    return up, down


class _Frames(dg.IOManager):
    """Partitions of a ranged run in memory, as ``{partition key: value}`` (the project's IO manager's shape)."""

    def __init__(self) -> None:
        self.stored: dict[str, object] = {}

    def handle_output(self, context: dg.OutputContext, obj: dict) -> None:
        self.stored.update(obj)

    def load_input(self, context: dg.InputContext) -> dict:
        return {k: self.stored[k] for k in context.asset_partition_keys if k in self.stored}


def _mapped_range(
    monkeypatch, up, down, first: str, last: str, symbols: tuple[str, ...] = ()
) -> tuple[dg.ExecuteInProcessResult, int]:
    """``down`` over ``first..last`` after ``up`` over every day of each symbol (of ``symbols`` registered, when the
    symbols are dynamic), and how often Dagster mapped ``down``'s input."""
    frames, instance = _Frames(), dg.DagsterInstance.ephemeral()  # the data versions read up's materializations
    instance.add_dynamic_partitions(SYMBOL_DIMENSION, list(symbols))
    for symbol in symbols or ("AAA", "BBB"):
        days = [k for k in KEYS if k.endswith(f"|{symbol}")] if not symbols else [f"{d}|{symbol}" for d in DAYS]
        whole = {"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]}
        assert dg.materialize([up], resources={"io_manager": frames}, tags=whole, instance=instance).success
    calls = []
    real = dg.MultiPartitionMapping.get_upstream_mapped_partitions_result_for_partitions
    monkeypatch.setattr(
        dg.MultiPartitionMapping,
        "get_upstream_mapped_partitions_result_for_partitions",
        lambda self, *args, **kwargs: calls.append(1) or real(self, *args, **kwargs),
    )
    result = dg.materialize(
        [up, down],
        selection=[down.key],
        resources={"io_manager": frames},
        instance=instance,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        raise_on_error=False,
    )
    monkeypatch.setattr(dg.MultiPartitionMapping, "get_upstream_mapped_partitions_result_for_partitions", real)
    return result, len(calls)


def test_use_14_a_step_maps_each_input_once_with_dagsters_own_answer(monkeypatch) -> None:
    from dagster._core.execution.context.system import StepExecutionContext  # the test of the fence may look behind it

    up, down = _windowed_pair()
    first, last = "2024-12-02|AAA", "2024-12-03|AAA"  # AAA's last two days (a range per dimension)
    monkeypatch.setattr(StepExecutionContext, "asset_partitions_subset_for_input", internals._dagster_input_subset)
    dagster_result, dagster_calls = _mapped_range(monkeypatch, up, down, first, last)
    internals.map_inputs_once()  # restored by monkeypatch afterwards
    result, calls = _mapped_range(monkeypatch, up, down, first, last)
    assert dagster_calls >= 2 and calls == 1  # loading the input and recording its data versions: one mapping
    own = dagster_result.output_for_node("down")
    assert result.output_for_node("down") == own  # the same upstream partitions loaded
    assert own["2024-12-03|AAA"] == ["2024-12-01|AAA", "2024-12-02|AAA", "2024-12-03|AAA"]
    versions = [
        {k: v for k, v in (e.materialization.tags or {}).items() if "input_data_version" in k}
        for e in result.get_asset_materialization_events()
    ]
    assert versions and all(v for v in versions)  # the inputs' data versions are still recorded on each partition


def test_use_14_a_day_windows_input_is_mapped_by_date_arithmetic_to_dagsters_answer(monkeypatch) -> None:
    """On the project's partitions (dates × dynamic symbols), a step answers its day window without Dagster's
    mapping, loading the same upstream partitions and recording their data versions."""
    from dagster._core.execution.context.system import StepExecutionContext  # the test of the fence may look behind it

    up, down = _windowed_pair(PartitionSpace(first=DAYS[0], last=DAYS[-1]).dates_and_symbols)
    first, last = f"{DAYS[1]}|AAA", f"{DAYS[2]}|AAA"
    monkeypatch.setattr(StepExecutionContext, "asset_partitions_subset_for_input", internals._dagster_input_subset)
    dagster_result, dagster_calls = _mapped_range(monkeypatch, up, down, first, last, ("AAA", "BBB"))
    internals.map_inputs_once()  # restored by monkeypatch afterwards
    result, calls = _mapped_range(monkeypatch, up, down, first, last, ("AAA", "BBB"))
    assert dagster_calls >= 2 and calls == 0
    own = dagster_result.output_for_node("down")
    assert result.output_for_node("down") == own
    assert own[f"{DAYS[2]}|AAA"] == [f"{d}|AAA" for d in DAYS]  # the day before the range and its two days
    assert all(
        any("input_data_version" in k for k in (e.materialization.tags or {}))
        for e in result.get_asset_materialization_events()
    )


def test_use_14_a_range_mapped_to_partitions_that_do_not_exist_is_not_kept(monkeypatch) -> None:
    """The strict call (loading the input) gets Dagster's error every time; the lenient one (the data versions) its
    answer. Dagster's built-in mappings seldom report missing partitions, so Dagster's side is stood in for here."""
    from types import SimpleNamespace

    def dagster(_step, input_name: str, *, require_valid_partitions: bool = True) -> str:
        if require_valid_partitions:
            raise dg.DagsterInvariantViolationError(f"{input_name} depends on invalid partitions")
        return "lenient"

    monkeypatch.setattr(internals, "_dagster_input_subset", dagster)
    monkeypatch.setattr(internals, "_day_window_subset", lambda _step, _name: None)  # not a day window
    step = SimpleNamespace()
    assert internals._input_subset_once(step, "up", require_valid_partitions=False) == "lenient"
    with pytest.raises(dg.DagsterInvariantViolationError, match="up depends on invalid partitions"):
        internals._input_subset_once(step, "up")
    assert internals._input_subset_once(step, "up", require_valid_partitions=False) == "lenient"


def test_use_15_a_steps_verdicts_are_stored_as_one_batch(monkeypatch) -> None:
    """Every verdict yielded through ``in_one_batch`` reaches the storage in one ``store_event_batch``, after the
    step's materializations; Dagster's own logger stores each verdict alone."""
    check = dg.AssetCheckSpec("ok", asset="thing", partitions_def=PARTS)

    @dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run(), check_specs=[check])
    def thing(context: dg.AssetExecutionContext):
        yield dg.MaterializeResult()
        judged = [
            dg.AssetCheckEvaluation(asset_key=dg.AssetKey("thing"), check_name="ok", passed=k != KEYS[0], partition=k)
            for k in context.partition_keys
        ]
        yield from internals.in_one_batch(judged)
        yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(check.key))

    def batches_of_verdicts() -> list[int]:
        instance = dg.DagsterInstance.ephemeral()
        storage, batches = instance.event_log_storage, []
        real = storage.store_event_batch
        monkeypatch.setattr(storage, "store_event_batch", lambda events: batches.append(events) or real(events))
        assert _ranged(instance, thing).success
        judged = instance.event_log_storage.get_asset_check_partition_info([check.key])
        assert {i.partition_key for i in judged} == set(KEYS)  # every verdict stored, batched or not
        kinds = [{e.dagster_event_type for e in batch} for batch in batches]
        return [
            len(b) for b, k in zip(batches, kinds, strict=True) if k == {dg.DagsterEventType.ASSET_CHECK_EVALUATION}
        ]

    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    monkeypatch.setattr(internals.dagster_events, "log_step_event", internals._dagster_log_step_event)
    assert batches_of_verdicts() == []  # Dagster's path: one store_event each
    internals.store_verdicts_in_batches()  # restored by monkeypatch afterwards
    assert batches_of_verdicts() == [len(KEYS)]
    assert internals._BATCH_OF == {}  # nothing left behind for evaluations already logged


def test_use_16_the_sqlite_run_storage_subclass_keeps_dagsters_file_and_queries(tmp_path) -> None:
    from huracan_dagster.instance.sqlite_run_storage import PooledSqliteRunStorage

    assert issubclass(PooledSqliteRunStorage, internals.SqliteRunStorage)
    with _pooled_instance(tmp_path, "run_storage", "sqlite_run_storage", "PooledSqliteRunStorage") as instance:
        assert isinstance(instance.run_storage, PooledSqliteRunStorage)
        result = dg.materialize([dg.asset(name="thing")(lambda: 1)], instance=instance)
        assert result.success
    stock = internals.SqliteRunStorage.from_local(str(tmp_path / "history"))  # Dagster's own, on the same file
    assert [(r.run_id, r.status) for r in stock.get_runs()] == [(result.run_id, dg.DagsterRunStatus.SUCCESS)]


def test_use_18_the_compute_log_manager_writes_dagsters_files_through_its_redirect(tmp_path) -> None:
    from huracan_dagster.instance.compute_logs import FileComputeLogManager

    data = internals.ConfigurableClassData("huracan_dagster.instance.compute_logs", "FileComputeLogManager", "{}")
    manager = FileComputeLogManager.from_config_value(data, {"base_dir": str(tmp_path)})
    assert isinstance(manager, internals.LocalComputeLogManager) and manager.inst_data == data
    log_key = manager.build_log_key_for_run("a-run", "somefile")
    with manager.capture_logs(log_key) as context:
        assert isinstance(context, internals.CapturedLogContext) and context.log_key == log_key
        assert not manager.is_capture_complete(log_key)
        print("captured", flush=True)
    assert manager.get_log_data(log_key).stdout == b"captured\n"
    assert manager.is_capture_complete(log_key)
    with internals.redirect_to_file(sys.stdout, tmp_path / "more.out"):
        print("redirected", flush=True)
    assert (tmp_path / "more.out").read_text() == "redirected\n"


def test_use_19_a_runs_materializations_are_read_without_their_events(tmp_path) -> None:
    """The ids, partitions and times of one run's materializations of an asset, newest first, as
    ``fetch_materializations`` reads them from the whole events (times to the microsecond the table keeps)."""

    @dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run())
    def thing() -> dg.MaterializeResult:
        return dg.MaterializeResult()

    with _pooled_instance(tmp_path, "event_log_storage", "sqlite_storage", "PooledSqliteEventLogStorage") as instance:
        runs = [_ranged(instance, thing).run_id for _ in range(2)]  # the same partitions twice
        records = instance.fetch_materializations(dg.AssetKey("thing"), limit=100).records
        for run_id in runs:
            expected = [(r.partition_key, r.storage_id, r.timestamp) for r in records if r.run_id == run_id]
            got = internals.materializations_of_run(instance, dg.AssetKey("thing"), run_id)
            assert [(p, s) for p, s, _ in got] == [(p, s) for p, s, _ in expected] and len(got) == len(KEYS)
            assert all(abs(g[2] - e[2]) < 1e-6 for g, e in zip(got, expected, strict=True))
