"""The instance's SQLite event log (``huracan_dagster/instance/sqlite_storage.py``) stores what Dagster's own stores,
in fewer transactions: a ranged run's records are the same, a run's shard is a whole copy of an initialized one."""

import os
import sqlite3
import warnings
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import event

from huracan_dagster.dagster_internals import SqliteEventLogStorage
from huracan_dagster.instance.sqlite_storage import PooledSqliteEventLogStorage

PARTS = dg.MultiPartitionsDefinition(
    {
        "date": dg.DailyPartitionsDefinition(start_date="2024-12-01", end_date="2024-12-05"),
        "symbol": dg.StaticPartitionsDefinition(["AAA", "BBB"]),
    }
)
KEYS = sorted(k for k in PARTS.get_partition_keys() if k.endswith("AAA"))
with warnings.catch_warnings():  # partitioned checks are a preview in 1.13 (as in huracan_dagster/defs/verdicts.py)
    warnings.simplefilter("ignore", dg.PreviewWarning)
    CHECK = dg.AssetCheckSpec("positive", asset="thing", partitions_def=PARTS)


class FragileConfig(dg.Config):
    fail: bool


@dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run(), check_specs=[CHECK])
def thing(context: dg.AssetExecutionContext):
    yield dg.Output({k: 1 for k in context.partition_keys})
    for key in context.partition_keys:
        yield dg.AssetCheckEvaluation(asset_key=thing.key, check_name="positive", passed=True, partition=key)
    yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(CHECK.key))


@dg.asset(partitions_def=PARTS, backfill_policy=dg.BackfillPolicy.single_run())
def fragile(context: dg.AssetExecutionContext, config: FragileConfig):
    if config.fail:
        raise RuntimeError(f"{len(context.partition_keys)} partitions not written")
    return {k: 1 for k in context.partition_keys}


class Discard(dg.IOManager):
    def handle_output(self, context: dg.OutputContext, obj: object) -> None: ...

    def load_input(self, context: dg.InputContext) -> None: ...


def _run(tmp_path: Path, storage_class: str | None, monkeypatch, *, batched: bool = True) -> dict:
    """A ranged run of ``thing`` over four days, then what the index holds, and how many transactions committed
    (``batched=False``: each event of a batch stored on its own, as Dagster's base class does)."""
    tmp_path.mkdir()
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")  # as ``huracan`` sets it: ranged outputs in batches
    overrides = {}
    if storage_class:
        overrides["event_log_storage"] = {
            "module": "huracan_dagster.instance.sqlite_storage",
            "class": storage_class,
            "config": {"base_dir": str(tmp_path / "history")},
        }
    commits = []
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=overrides) as instance:
        storage = instance.event_log_storage
        if isinstance(storage, PooledSqliteEventLogStorage):
            original = storage._engine

            def counting(shard: str):
                engine = original(shard)
                if not event.contains(engine, "commit", commits.append):
                    event.listen(engine, "commit", commits.append)
                return engine

            monkeypatch.setattr(storage, "_engine", counting)
            if not batched:
                monkeypatch.setattr(
                    storage, "store_event_batch", lambda events: [storage.store_event(e) for e in events]
                )
        result = dg.materialize(
            [thing],
            instance=instance,
            resources={"io_manager": Discard()},
            tags={"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]},
        )
        assert result.success
        records = instance.fetch_materializations(thing.key, limit=100).records
        checks = instance.event_log_storage.get_asset_check_execution_history(CHECK.key, limit=100)
        materialized = instance.get_materialized_partitions(thing.key)
        events = instance.get_records_for_run(result.run_id).records
        return {
            "materialized": sorted(materialized),
            "partitions": sorted(r.partition_key or "" for r in records),
            "checks": sorted((c.partition, c.status.value) for c in checks),
            "event_types": sorted(
                e.event_log_entry.dagster_event_type.value for e in events if e.event_log_entry.dagster_event_type
            ),
            "commits": len(commits),
        }


def test_a_ranged_run_is_recorded_as_dagsters_own_log_records_it_in_fewer_commits(tmp_path, monkeypatch) -> None:
    stock = _run(tmp_path / "stock", None, monkeypatch)
    one_by_one = _run(tmp_path / "one_by_one", "PooledSqliteEventLogStorage", monkeypatch, batched=False)
    pooled = _run(tmp_path / "pooled", "PooledSqliteEventLogStorage", monkeypatch)
    assert pooled["materialized"] == stock["materialized"] == KEYS
    assert pooled["partitions"] == stock["partitions"] == KEYS
    assert pooled["checks"] == stock["checks"] and len(stock["checks"]) == len(KEYS)
    assert pooled["event_types"] == one_by_one["event_types"]
    # one planned event for the run's range instead of one per partition; every other event as Dagster's log has it
    planned = "ASSET_MATERIALIZATION_PLANNED"
    assert pooled["event_types"].count(planned) == 1 and stock["event_types"].count(planned) == len(KEYS)
    assert [t for t in pooled["event_types"] if t != planned] == [t for t in stock["event_types"] if t != planned]
    # the materialization events arrive in one batch of one per partition; stored one by one, each event takes a
    # transaction on the run's shard and more on the index, batched two per shard
    assert pooled["commits"] <= one_by_one["commits"] - len(KEYS)


def test_a_run_shard_is_a_whole_copy_of_one_dagster_initialized_never_listed_as_a_run(tmp_path) -> None:
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    with storage.run_connection("first-run"), storage.run_connection("second-run"):
        pass
    templates = [p for p in os.listdir(tmp_path) if p.startswith(".run-shard-template-")]
    assert templates == [f".run-shard-template-{dg.__version__}.sqlite"]
    assert sorted(storage.get_all_run_ids()) == ["first-run", "second-run"]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    reference = PooledSqliteEventLogStorage(str(tmp_path / "reference"))
    reference._copy_template = lambda run_id: False  # Dagster's own initialization, for comparison
    with reference.run_connection("first-run"):
        pass
    storage.dispose()
    reference.dispose()
    assert _schema(tmp_path / "first-run.db") == _schema(tmp_path / "reference" / "first-run.db")


def test_a_batch_that_fails_leaves_none_of_its_events_in_the_run_shard(tmp_path) -> None:
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    good = dg.EventLogEntry(
        error_info=None, level=20, user_message="kept", run_id="a-run", timestamp=1.0, step_key=None, job_name="job"
    )
    storage.store_event(good)

    class Unstorable(dg.EventLogEntry):
        @property
        def is_dagster_event(self) -> bool:
            raise RuntimeError("event 2 of the batch cannot be stored")

    bad = Unstorable(**{f: getattr(good, f) for f in good._fields})
    with pytest.raises(RuntimeError, match="event 2 of the batch"):
        storage.store_event_batch([good._replace(user_message="rolled back"), bad])
    messages = [r.event_log_entry.user_message for r in storage.get_records_for_run("a-run").records]
    storage.dispose()
    assert messages == ["kept"]


def _schema(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        tables = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        revision = db.execute("SELECT version_num FROM alembic_version").fetchall()
        journal = db.execute("PRAGMA journal_mode").fetchall()
    return [*tables, *revision, *journal]


def test_the_schema_is_asked_once_for_what_exists_and_again_for_what_does_not(tmp_path: Path) -> None:
    """Dagster asks before every asset event and check verdict whether a table exists; a table found stays found
    (migrations only add), a missing one is looked for again (another process may migrate meanwhile)."""
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    asked: list[str] = []
    ask = SqliteEventLogStorage.has_table

    def counted(self, name: str) -> bool:
        asked.append(name)
        return ask(self, name)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SqliteEventLogStorage, "has_table", counted)
        assert all(storage.has_table("asset_check_executions") for _ in range(3))
        assert not any(storage.has_table("no_such_table") for _ in range(2))
    assert asked == ["asset_check_executions", "no_such_table", "no_such_table"]
    storage.dispose()


#: what Dagster's own log, with a planned event per partition, says after each run of ``ranged_run_statuses``
RANGED_RUN_STATUSES = [
    dict.fromkeys(KEYS, "FAILED"),
    {KEYS[0]: "FAILED", KEYS[1]: "MATERIALIZED", KEYS[2]: "MATERIALIZED", KEYS[3]: "FAILED"},
    {KEYS[0]: "FAILED", KEYS[1]: "MATERIALIZED", KEYS[2]: "FAILED", KEYS[3]: "FAILED"},
]


def ranged_run_statuses(tmp_path: Path, event_log_storage: dict | None, monkeypatch) -> list[dict]:
    """Per-partition status (as the UI and automation conditions read it) after each of three ranged runs of
    ``fragile``: all four days failing, the middle two written, then the last two failing again."""
    tmp_path.mkdir()
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    overrides = {"event_log_storage": event_log_storage} if event_log_storage else {}
    out = []
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=overrides) as instance:
        for first, last, fail in ((0, 3, True), (1, 2, False), (2, 3, True)):
            result = dg.materialize(
                [fragile],
                instance=instance,
                resources={"io_manager": Discard()},
                run_config=dg.RunConfig({"fragile": FragileConfig(fail=fail)}),
                tags={
                    "dagster/asset_partition_range_start": KEYS[first],
                    "dagster/asset_partition_range_end": KEYS[last],
                },
                raise_on_error=False,
            )
            assert result.success is not fail
            status = instance.get_status_by_partition(fragile.key, PARTS.get_partition_keys(), PARTS) or {}
            out.append({k: v.value for k, v in status.items() if v is not None})
    return out


def test_a_runs_partitions_read_failed_or_materialized_as_with_dagsters_own_log(tmp_path, monkeypatch) -> None:
    """One planned event per run and asset (not per partition) loses no per-partition status: after each run every
    partition reads as Dagster's own log, with a planned event per partition, has it."""
    stock = ranged_run_statuses(tmp_path / "stock", None, monkeypatch)
    pooled = ranged_run_statuses(
        tmp_path / "pooled",
        {
            "module": "huracan_dagster.instance.sqlite_storage",
            "class": "PooledSqliteEventLogStorage",
            "config": {"base_dir": str(tmp_path / "pooled" / "history")},
        },
        monkeypatch,
    )
    assert pooled == stock == RANGED_RUN_STATUSES
