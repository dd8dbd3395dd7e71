"""The Broadcaster inside Dagster: a rejected token never fails a run or leaks, and the sensors send what
happened (run started / succeeded / failed, failed checks) to a loopback server shaped like the Telegram API.

No ``from __future__ import annotations``: Dagster reads the ``context`` annotations of the assets defined here.
"""

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from huracan_dagster.defs.broadcaster import (
    BroadcasterResource,
    broadcaster_from_env,
    broadcaster_sensors,
    telegram_configured,
)
from tests.fake_telegram import FakeTelegram
from tests.services.postgres import throwaway_database

TOKEN = "424242:accepted-token"
CHAT = "-100123"
PARTITION = "2024-12-05|BTC-USDT"
PARTITIONS = dg.StaticPartitionsDefinition([PARTITION, "2024-12-06|BTC-USDT"])


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN, chat_id=CHAT) as fake:
        yield fake


@pytest.fixture
def broadcaster(telegram: FakeTelegram) -> BroadcasterResource:
    return BroadcasterResource(token=TOKEN, chat_id=CHAT, base_url=telegram.url, retries=1, backoff_s=0.01)


def sensors() -> dict[str, dg.SensorDefinition]:
    return {s.name: s for s in broadcaster_sensors(enabled=True)}


@dg.asset(partitions_def=PARTITIONS)
def tiny() -> int:
    return 1


class CandlesMissing(Exception):
    """Stands in for one of our errors that names partition and reason."""


@dg.asset
def broken() -> int:
    raise CandlesMissing(f"{PARTITION}: candles file missing at candles/BTC-USDT/15m/2024-12-05.parquet")


def _partitioned_check(name: str) -> dg.AssetCheckSpec:
    with warnings.catch_warnings():  # partitioned checks are a preview in 1.13; the platform's checks use them
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset="checked", partitions_def=PARTITIONS)


@dg.asset(partitions_def=PARTITIONS, check_specs=[_partitioned_check("no_gaps"), _partitioned_check("sorted")])
def checked(context: dg.AssetExecutionContext):
    """Like the platform's checks (``assets/verdicts.py``): one evaluation per judged partition, not blocking."""
    yield dg.Output(1)
    for name, passed in [("no_gaps", False), ("sorted", True)]:
        yield dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("checked"),
            check_name=name,
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN,
            partition=context.partition_key,
            description="3 gaps of 15m between 02:00 and 03:00" if not passed else "ok",
        )
        output = context.assets_def.get_output_name_for_asset_check_key(dg.AssetCheckKey(dg.AssetKey("checked"), name))
        yield dg.Output(None, output_name=output)


def test_rejected_token_logs_a_clear_error_and_the_run_succeeds(
    telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rejected = "777777:REJECTED-secret-token"
    for name, value in {
        "HURACAN_TELEGRAM_TOKEN": rejected,
        "HURACAN_TELEGRAM_CHAT_ID": CHAT,
        "HURACAN_TELEGRAM_URL": telegram.url,
    }.items():
        monkeypatch.setenv(name, value)
    resource = broadcaster_from_env(os.environ)
    assert telegram_configured(os.environ)

    @dg.asset
    def announce(context: dg.AssetExecutionContext, broadcaster: BroadcasterResource) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"sent": broadcaster.send("[huracan] hello", context.log)})

    caplog.set_level(logging.DEBUG)
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([announce], resources={"broadcaster": resource}, instance=instance)
        assert result.success
        [materialization] = result.get_asset_materialization_events()
        assert materialization.materialization.metadata["sent"].value is False
        entries = instance.all_logs(result.run_id)
        errors = [e.user_message for e in entries if e.level >= logging.ERROR and "Telegram" in e.user_message]
        assert len(errors) == 1
        assert "rejected the bot token" in errors[0] and "HURACAN_TELEGRAM_TOKEN" in errors[0]
        # nowhere: not in a log line, an event, the run config, the job snapshot, nor Python's log records
        assert all(rejected not in dg.serialize_value(e) for e in entries)
        assert rejected not in dg.serialize_value(result.dagster_run)
        assert rejected not in dg.serialize_value(instance.get_job_snapshot(result.dagster_run.job_snapshot_id))
        assert all(rejected not in r.getMessage() for r in caplog.records)
    assert telegram.messages == [] and telegram.requests == 1


def test_off_without_environment() -> None:
    resource = broadcaster_from_env({})
    assert resource.token == "" and not telegram_configured({})
    assert resource.send("nobody") is False
    assert {s.default_status for s in broadcaster_sensors(enabled=False)} == {dg.DefaultSensorStatus.STOPPED}
    assert set(sensors()) == {
        "broadcast_run_started",
        "broadcast_run_succeeded",
        "broadcast_run_failed",
        "broadcast_failed_checks",
    }


def test_run_status_sensors_name_the_job(telegram: FakeTelegram, broadcaster: BroadcasterResource) -> None:
    resources = {"broadcaster": broadcaster}
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([tiny], partition_key=PARTITION, instance=instance)
        assert result.success
        run, job = result.dagster_run, result.dagster_run.job_name
        [started] = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_START)
        for name, event in [
            ("broadcast_run_started", started.dagster_event),
            ("broadcast_run_succeeded", result.get_run_success_event()),
        ]:
            with dg.build_run_status_sensor_context(
                sensor_name=name, dagster_event=event, dagster_instance=instance, dagster_run=run, resources=resources
            ) as context:
                sensors()[name](context)
    first, second = telegram.texts()
    assert first.startswith("[huracan] run started") and job in first and PARTITION in first
    assert second.startswith("[huracan] run succeeded") and job in second and run.run_id[:8] in second
    assert "1 materialization" in second


def test_failure_sensor_sends_the_cause_not_the_wrapper(
    telegram: FakeTelegram, broadcaster: BroadcasterResource
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([broken], instance=instance, raise_on_error=False)
        assert not result.success
        with dg.build_run_status_sensor_context(
            sensor_name="broadcast_run_failed",
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"broadcaster": broadcaster},
        ) as context:
            sensors()["broadcast_run_failed"](context)
    [text] = telegram.texts()
    assert text.startswith("[huracan] run FAILED") and result.dagster_run.job_name in text
    assert "candles file missing" in text and PARTITION in text
    assert "Error occurred while executing" not in text


@contextmanager
def platform_instance(kind: str, tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A persistent instance on the platform's storages: its run-sharded SQLite event log, or PostgreSQL."""
    if kind == "sqlite":
        overrides = {
            "event_log_storage": {
                "module": "huracan_dagster.instance.sqlite_storage",
                "class": "PooledSqliteEventLogStorage",
                "config": {"base_dir": str(tmp_path / "history")},
            }
        }
        with dg.instance_for_test(temp_dir=str(tmp_path), overrides=overrides) as instance:
            yield instance
        return
    with (
        throwaway_database("huracan_broadcast") as url,
        dg.instance_for_test(
            temp_dir=str(tmp_path), overrides={"storage": {"postgres": {"postgres_url": url}}}
        ) as instance,
    ):
        yield instance


@pytest.mark.parametrize("storage", ["sqlite", "postgres"])
def test_failed_check_sensor_sends_once_per_failure(
    telegram: FakeTelegram, broadcaster: BroadcasterResource, tmp_path: Path, storage: str
) -> None:
    sensor = sensors()["broadcast_failed_checks"]
    resources = {"broadcaster": broadcaster}
    with platform_instance(storage, tmp_path) as instance:
        assert type(instance.event_log_storage).__name__ in {"PooledSqliteEventLogStorage", "PostgresEventLogStorage"}
        earlier = dg.materialize([checked], partition_key=PARTITION, instance=instance)
        assert earlier.success
        with dg.build_sensor_context(instance=instance, resources=resources) as first:
            sensor(first)  # no cursor: starts after the newest event, history is not replayed
        assert first.cursor and telegram.texts() == []

        for partition in PARTITIONS.get_partition_keys():
            result = dg.materialize([checked], partition_key=partition, instance=instance)
            assert result.success  # the check does not block
        with dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=resources) as second:
            sensor(second)
        [text] = telegram.texts()  # one check failing on two partitions: one message, the shared reason once
        assert text.startswith("[huracan] check FAILED (WARN)") and "checked" in text and "no_gaps" in text
        assert all(p in text for p in PARTITIONS.get_partition_keys()) and text.count("3 gaps") == 1
        assert "sorted" not in text
        assert int(second.cursor) > int(first.cursor)

        with dg.build_sensor_context(instance=instance, cursor=second.cursor, resources=resources) as third:
            sensor(third)
        assert len(telegram.texts()) == 1 and third.cursor == second.cursor
