"""The Dagster instance on PostgreSQL (dagster-postgres): runs and materializations land in the database."""

from __future__ import annotations

import dagster as dg
import psycopg2

from huracan_dagster.cli import main
from huracan_dagster.partitions import asset_key
from tests.services.postgres import throwaway_database


def test_runs_and_materializations_are_recorded_in_postgres(huracan_home, monkeypatch, capsys):
    with throwaway_database("huracan_dagster") as url:
        monkeypatch.setenv("HURACAN_PG_URL", url)
        assert main(["run", "--start", "2024-12-01", "--end", "2024-12-02", "--symbols", "BTC/USDT,ETH/USDT", "--select", "candles"]) == 0
        assert "postgres" in (huracan_home / "dagster" / "dagster.yaml").read_text()
        instance = dg.DagsterInstance.get()
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.get_materialized_partitions(asset_key("15m", "candles")) == {
            "2024-12-01|BTC-USDT", "2024-12-01|ETH-USDT", "2024-12-02|BTC-USDT", "2024-12-02|ETH-USDT"
        }
        # partitioned checks: one verdict per check and partition, kept by the PostgreSQL event log as well
        for check in ("candles_valid", "no_gaps", "no_zero_volume_candles", "no_extreme_prints"):
            infos = instance.event_log_storage.get_asset_check_partition_info([dg.AssetCheckKey(asset_key("15m", "candles"), check)])
            assert {i.partition_key for i in infos} == {f"2024-12-0{d}|{s}" for d in (1, 2) for s in ("BTC-USDT", "ETH-USDT")}, check
        instance.dispose()
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("select count(*), min(status), max(status) from runs")
            assert cur.fetchone() == (2, "SUCCESS", "SUCCESS")  # a ranged run per symbol, as a UI backfill cuts it
            cur.execute("select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'")
            assert cur.fetchone()[0] == 4
            cur.execute("select partition from dynamic_partitions order by id")
            assert [r[0] for r in cur.fetchall()] == ["BTC-USDT", "ETH-USDT"]
