"""The instance's SQLite run storage (``huracan_dagster/instance/sqlite_run_storage.py``) keeps one connection where
Dagster's own opens one for every read and write, commits without an fsync, and leaves the runs Dagster's own
storage reads: the same rows, statuses and tags in the same file."""

import sqlite3
from pathlib import Path

import dagster as dg
from sqlalchemy import event

from huracan_dagster.dagster_internals import SqliteRunStorage
from huracan_dagster.instance.prepare import prepare_dagster_home
from huracan_dagster.instance.sqlite_run_storage import PooledSqliteRunStorage
from huracan_dagster.settings import Settings
from tests.conftest import use_home


@dg.asset
def thing() -> int:
    return 1


@dg.asset
def broken() -> int:
    raise RuntimeError("not written")


def _runs(instance: dg.DagsterInstance) -> list[tuple]:
    return sorted((r.run_id, r.status, r.job_name, dict(r.tags)) for r in instance.get_runs())


def test_runs_are_stored_as_dagsters_own_storage_stores_them_over_one_connection(tmp_path: Path, monkeypatch) -> None:
    use_home(tmp_path / "home", monkeypatch)  # every variable, DAGSTER_HOME too, undone after the test
    prepare_dagster_home(Settings.from_env())  # the instance ``huracan`` and the UI use
    opened: list[object] = []
    with dg.DagsterInstance.get() as instance:
        storage = instance.run_storage
        assert isinstance(storage, PooledSqliteRunStorage)
        event.listen(storage._kept, "connect", lambda *_: opened.append(1))
        assert dg.materialize([thing], instance=instance, tags={"who": "test"}).success
        assert not dg.materialize([broken], instance=instance, raise_on_error=False).success
        assert dg.materialize([thing], instance=instance).success
        pooled = _runs(instance)
        with storage._kept.connect() as conn:  # what every commit of this storage runs under
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    # dozens of reads and writes for three runs (creation, snapshots, each status change), over one connection
    assert len(opened) == 1
    assert [status for _, status, _, _ in pooled].count(dg.DagsterRunStatus.FAILURE) == 1
    runs_db = tmp_path / "home" / "dagster" / "history" / "runs.db"
    assert runs_db.is_file()  # where Dagster's default instance keeps it
    with dg.instance_for_test(overrides={"run_storage": _stock_config(runs_db.parent)}) as reader:
        assert isinstance(reader.run_storage, SqliteRunStorage) and not isinstance(
            reader.run_storage, PooledSqliteRunStorage
        )
        assert _runs(reader) == pooled  # Dagster's own storage reads the same runs, statuses and tags
    with sqlite3.connect(runs_db) as raw:  # and the file is Dagster's WAL database
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _stock_config(base_dir: Path) -> dict:
    return {
        "module": "dagster._core.storage.runs",
        "class": "SqliteRunStorage",
        "config": {"base_dir": str(base_dir)},
    }
