"""The Dagster instance on PostgreSQL (dagster-postgres): runs and materializations land in the database."""

from __future__ import annotations

import dagster as dg
import psycopg2
import pytest
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from sqlalchemy import event

from huracan_dagster.cli.main import main
from huracan_dagster.defs.partitions import asset_key
from tests.definitions.test_sqlite_storage import RANGED_RUN_STATUSES, ranged_run_statuses
from tests.services.postgres import throwaway_database


def test_runs_and_materializations_are_recorded_in_postgres(huracan_home, monkeypatch, capsys):
    with throwaway_database("huracan_dagster") as url:
        monkeypatch.setenv("HURACAN_PG_URL", url)
        assert (
            main(
                [
                    "run",
                    "--start",
                    "2024-12-01",
                    "--end",
                    "2024-12-02",
                    "--symbols",
                    "BTC/USDT,ETH/USDT",
                    "--select",
                    "candles",
                ]
            )
            == 0
        )
        assert "postgres" in (huracan_home / "dagster" / "dagster.yaml").read_text()
        instance = dg.DagsterInstance.get()
        assert isinstance(instance.run_storage, PostgresRunStorage) and isinstance(
            instance.event_log_storage, PostgresEventLogStorage
        )
        assert instance.get_materialized_partitions(asset_key("15m", "candles")) == {
            "2024-12-01|BTC-USDT",
            "2024-12-01|ETH-USDT",
            "2024-12-02|BTC-USDT",
            "2024-12-02|ETH-USDT",
        }
        # partitioned checks: one verdict per check and partition, kept by the PostgreSQL event log as well
        for check in ("candles_valid", "no_gaps", "no_zero_volume_candles", "no_extreme_prints"):
            infos = instance.event_log_storage.get_asset_check_partition_info(
                [dg.AssetCheckKey(asset_key("15m", "candles"), check)]
            )
            assert {i.partition_key for i in infos} == {
                f"2024-12-0{d}|{s}" for d in (1, 2) for s in ("BTC-USDT", "ETH-USDT")
            }, check
        instance.dispose()
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("select count(*), min(status), max(status) from runs")
            assert cur.fetchone() == (1, "SUCCESS", "SUCCESS")  # one ranged run: the two neighbours' ranges joined
            cur.execute("select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'")
            assert cur.fetchone()[0] == 4
            cur.execute("select partition from dynamic_partitions order by id")
            assert [r[0] for r in cur.fetchall()] == ["BTC-USDT", "ETH-USDT"]
    assert "Exception while storing event batch" not in capsys.readouterr().err  # the verdicts' batches were taken


def test_the_instance_keeps_its_postgres_connection_instead_of_opening_one_per_event(huracan_home, monkeypatch):
    """dagster-postgres alone opens a connection (a PostgreSQL backend process) for every write: 5.5 ms each here."""
    from huracan_dagster.instance.prepare import prepare_dagster_home
    from huracan_dagster.settings import Settings

    with throwaway_database("huracan_pool") as url:
        monkeypatch.setenv("HURACAN_PG_URL", url)
        prepare_dagster_home(Settings.from_env())
        with dg.DagsterInstance.get() as instance:
            opened = []
            for storage in (instance.event_log_storage, instance.run_storage):
                event.listen(storage._engine, "connect", lambda *_: opened.append(1))
            for n in range(60):
                instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="pooled", partition=str(n)))
                instance.get_runs(limit=1)
            # opened once and kept: one per storage, and one while an index write overlaps its event's
            assert len(opened) <= 3, f"{len(opened)} connections opened for 60 events and 60 run queries"
            assert instance.fetch_materializations(dg.AssetKey("pooled"), limit=70).records[0].partition_key == "59"


def test_a_runs_partitions_read_failed_or_materialized_with_one_planned_event_per_run(tmp_path, monkeypatch):
    """The PostgreSQL event log also records one planned event per run and asset, and every partition's status
    after a failed, a successful and a failed ranged run is what Dagster's log with one per partition says."""
    with throwaway_database("huracan_planned") as url:
        storage = {
            "module": "huracan_dagster.instance.postgres_storage",
            "class": "PooledPostgresEventLogStorage",
            "config": {"postgres_url": url},
        }
        assert ranged_run_statuses(tmp_path / "pg", storage, monkeypatch) == RANGED_RUN_STATUSES
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION_PLANNED'")
            assert cur.fetchone()[0] == 3  # one per run


@pytest.mark.parametrize("chunk", [1000, 2])
def test_a_steps_verdicts_on_postgresql_leave_dagster_postgres_own_rows_in_two_statements(monkeypatch, chunk) -> None:
    """A step's verdicts stored as one batch (``verdict_batch``, a chunk of verdicts at a time) leave on PostgreSQL
    what dagster-postgres leaves storing them one by one: the same event rows, and the same check rows for a planned
    check, a passed and a failed verdict, and a verdict it did not plan (which goes to Dagster's own method). The
    planned ones take an insert and an update a chunk, and no NOTIFY."""
    from huracan_dagster.instance import verdict_batch
    from huracan_dagster.instance.postgres_storage import PooledPostgresEventLogStorage
    from tests.definitions.test_dagster_internals import check_rows, verdicts

    monkeypatch.setattr(verdict_batch, "CHUNK", chunk)
    rows, events, executed = {}, {}, []
    for name, kind in (("stock", PostgresEventLogStorage), ("pooled", PooledPostgresEventLogStorage)):
        with throwaway_database(f"huracan_verdicts_{name}") as url:
            storage = kind(url)
            planned, *judged = verdicts()
            storage.store_event(planned)
            if kind is PooledPostgresEventLogStorage:
                event.listen(storage._engine, "before_cursor_execute", lambda *a: executed.append(a[2]))
                storage.store_event_batch(judged)  # a step's verdicts come as one batch (dagster_internals use 15)
            else:
                for entry in judged:
                    storage.store_event(entry)
            rows[name] = check_rows(storage)
            with psycopg2.connect(url) as conn, conn.cursor() as cur:
                cur.execute("select * from event_logs order by id")
                events[name] = cur.fetchall()
            storage.dispose()
    assert rows["pooled"] == rows["stock"]
    assert [r["execution_status"] for r in rows["pooled"]] == ["SUCCEEDED", "FAILED", "PLANNED", "SUCCEEDED"]
    assert events["pooled"] == events["stock"] and len(events["pooled"]) == 4  # ids, run, types, text, keys, times
    chunks = -(-len(judged) // chunk)
    assert sum(s.startswith("INSERT INTO event_logs") for s in executed) == chunks
    assert sum(s.startswith("UPDATE asset_check_executions AS planned") for s in executed) == chunks
    assert not [s for s in executed if "NOTIFY" in s]
