"""Freshness checks exist for a live source only, and the ``health_alerts`` sensor turns the instance's failed
runs into one alert, said once, plus the daily health report, on the loopback Telegram Bot API.

No ``from __future__ import annotations``: Dagster reads the ``context`` annotation of the asset defined here.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from huracan_core.health.errors import ErrorPolicy
from huracan_core.health.pauses import PauseEvent, record
from huracan_core.storage.keys import daily_summary_key
from huracan_core.storage.local import LocalArtifactStore
from huracan_dagster.defs.alerts import health_alerts_sensor
from huracan_dagster.defs.broadcaster import BroadcasterResource
from huracan_dagster.defs.definitions import build_definitions, daily_job_name
from huracan_dagster.defs.freshness import CHECKED, SENSOR_NAME, freshness_checks
from huracan_dagster.defs.partitions import asset_key
from huracan_dagster.defs.resources import ArchiveResource
from huracan_dagster.settings import Settings
from tests.fake_telegram import FakeTelegram

TOKEN = "515:alerts-token"


@pytest.mark.parametrize("source", ["bundled", "ccxt:binance"])
def test_freshness_checks_only_for_a_live_source(huracan_home, monkeypatch, source: str) -> None:
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "15m,1h")
    monkeypatch.setenv("HURACAN_SOURCE", source)
    settings = Settings.from_env()
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    fresh = {k for k in graph.asset_check_keys if "freshness" in k.name}
    sensors = {s.name for s in defs.sensors or ()}
    assert "health_alerts" in sensors
    if source == "bundled":  # a recording ends where it ends: checking it against the clock would fail daily
        assert not fresh and SENSOR_NAME not in sensors
        return
    assert {k.asset_key for k in fresh} == {asset_key(tf, n) for tf in ("15m", "1h") for n in CHECKED}
    assert SENSOR_NAME in sensors
    for check in fresh:
        spec = graph.get_check_spec(check)
        assert (
            spec.metadata["dagster/freshness_params"].value["lower_bound_delta_seconds"]
            == settings.fresh_within_hours * 3600
        )
    # the run that writes the assets evaluates their check after them, so a write clears a failed check (Dagster's
    # freshness sensor does not evaluate a failed check again)
    job = defs.resolve_job_def(daily_job_name("15m"))
    [check_op] = [n for n in job.graph.node_dict if n.startswith("freshness_check")]
    upstream = {h.node_name for h in job.graph.dependency_structure.all_upstream_outputs_from_node(check_op)}
    assert upstream == {"15m__" + n for n in CHECKED if n != "daily_summary"}


DAYS_AND_COINS = dg.MultiPartitionsDefinition(
    {"date": dg.DailyPartitionsDefinition("2024-12-01"), "symbol": dg.StaticPartitionsDefinition(["BTC-USDT"])}
)


def stand_in(name: str) -> dg.AssetsDefinition:
    """An asset under the platform's key, partitioned date × symbol like it."""

    @dg.asset(key=asset_key("15m", name), partitions_def=DAYS_AND_COINS)
    def written() -> int:
        return 1

    return written


def test_a_freshness_check_passes_once_any_partition_was_written(huracan_home, monkeypatch) -> None:
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "")
    monkeypatch.setenv("HURACAN_SOURCE", "ccxt:binance")
    checks = freshness_checks(Settings.from_env())
    assets = {n: stand_in(n) for n in CHECKED}
    only_checks = dg.AssetSelection.checks(*checks)

    def verdicts(instance: dg.DagsterInstance) -> dict[str, bool]:
        result = dg.materialize([*assets.values(), *checks], selection=only_checks, instance=instance)
        return {e.asset_key.path[-1]: e.passed for e in result.get_asset_check_evaluations()}

    with dg.DagsterInstance.ephemeral() as instance:
        assert verdicts(instance) == dict.fromkeys(CHECKED, False)  # never written: overdue
        partition = dg.MultiPartitionKey({"date": "2024-12-05", "symbol": "BTC-USDT"})
        dg.materialize([assets["candles"]], partition_key=partition, instance=instance)
        assert verdicts(instance) == {n: n == "candles" for n in CHECKED}


class CandlesMissing(Exception):
    """Stands in for one of our errors naming partition and reason."""


@dg.asset
def broken() -> int:
    raise CandlesMissing("2024-12-05|BTC-USDT: candles file missing at candles/BTC-USDT/15m/2024-12-05.parquet")


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        yield fake


def test_failed_runs_raise_one_alert_said_once_and_the_report_quotes_the_summary(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    policy = ErrorPolicy(window_days=2, recurring_runs=2, recurring_days=1, spike_min_runs=4)
    sensor = health_alerts_sensor(["15m"], enabled=True, policy=policy, report_hour=0)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    store = LocalArtifactStore(str(tmp_path))
    store.write_json(daily_summary_key("15m", yesterday), {"trades": 4, "hit_rate_pct": 75.0, "net_pnl": 1.5})
    noon = datetime.combine(yesterday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    record(store, "15m", [PauseEvent("TREND:long:a", "pause", "cusum", noon, "collapsed")])
    resources = {
        "broadcaster": BroadcasterResource(token=TOKEN, chat_id="-1", base_url=telegram.url, retries=0),
        "archive": ArchiveResource(root=str(tmp_path)),
    }
    with dg.DagsterInstance.ephemeral() as instance:
        for _ in range(2):
            assert not dg.materialize([broken], instance=instance, raise_on_error=False).success
        with dg.build_sensor_context(instance=instance, resources=resources) as first:
            sensor(first)
        texts = telegram.texts()
        [warning] = [t for t in texts if "daily health report" not in t]
        assert "recurring failure: 2 runs" in warning and "candles file missing" in warning
        [report] = [t for t in texts if "daily health report" in t]
        assert f"daily health report {yesterday}" in report and "win rate 75.0%" in report
        assert "paused: 1 pattern\n  15m TREND:long:a since" in report  # the Archive's pause log, read by the tick
        assert "1 patterns paused" in report and "12:00 15m TREND:long:a paused by cusum: collapsed" in report
        with dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=resources) as second:
            sensor(second)
        assert telegram.texts() == texts  # nothing new: said once
