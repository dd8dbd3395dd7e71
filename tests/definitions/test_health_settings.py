"""The health monitors' thresholds are settings: ``HURACAN_ERRORS_*`` (the error monitor) and
``HURACAN_FRESH_WITHIN_HOURS`` (the freshness checks and ``huracan health``'s engine row). A bad value is one line
naming the variable; a changed value reaches the sensor, the checks and the row."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from huracan_core.health import State
from huracan_core.health.errors import ErrorPolicy, RunOutcome, error_alerts
from huracan_dagster.cli.main import main
from huracan_dagster.defs.alerts import SENSOR_NAME as ALERTS
from huracan_dagster.defs.definitions import build_definitions, daily_job_name
from huracan_dagster.health import instance as from_instance
from huracan_dagster.settings import Settings
from tests.e2e.test_one_line_errors import assert_one_line


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("HURACAN_ERRORS_WINDOW_DAYS", "a week", "give a whole number"),
        ("HURACAN_ERRORS_RECURRING_RUNS", "0", "recurring_runs must be at least 1, got 0"),
        ("HURACAN_ERRORS_SPIKE_RATE", "1", "spike_rate must be in [0, 1)"),
        ("HURACAN_ERRORS_SPIKE_RATE", "half", "give a number"),
        ("HURACAN_ERRORS_RECURING_DAYS", "2", "no such setting of the error monitor; known: HURACAN_ERRORS_WINDOW"),
        ("HURACAN_FRESH_WITHIN_HOURS", "-3", "give a number of hours above 0"),
    ],
)
def test_a_bad_threshold_is_one_line_naming_the_variable(huracan_home, capsys, monkeypatch, variable, value, reason):
    monkeypatch.setenv(variable, value)
    assert main(["status"]) == 2
    assert_one_line(capsys, "status", f"{variable}={value!r}", reason)


def test_changed_thresholds_reach_the_error_monitor_the_freshness_checks_and_the_engine_row(
    huracan_home, monkeypatch
) -> None:
    assert Settings.from_env().error_policy == ErrorPolicy() and Settings.from_env().fresh_within_hours == 26
    monkeypatch.setenv("HURACAN_SOURCE", "ccxt:binance")  # freshness checks exist for a live source only
    monkeypatch.setenv("HURACAN_ERRORS_RECURRING_RUNS", "4")
    monkeypatch.setenv("HURACAN_ERRORS_SPIKE_RATE", "0.25")
    monkeypatch.setenv("HURACAN_FRESH_WITHIN_HOURS", "30")
    settings = Settings.from_env()
    assert settings.error_policy == ErrorPolicy(recurring_runs=4, spike_rate=0.25)

    # a cause failing three nights running recurs by default, not at 4 runs
    now = datetime(2024, 12, 10, 6, tzinfo=UTC)
    runs = [RunOutcome(f"r{n}", "engine_15m", now - timedelta(days=n), True, ("boom",)) for n in range(3)]
    assert error_alerts(runs, now, ErrorPolicy()) and not error_alerts(runs, now, settings.error_policy)

    defs = build_definitions(settings)
    sensor = next(s for s in defs.sensors or () if s.name == ALERTS)
    assert "failing 4 runs" in str(sensor.description) and "more than 25%" in str(sensor.description)
    graph = defs.resolve_asset_graph()
    fresh = [graph.get_check_spec(k) for k in graph.asset_check_keys if "freshness" in k.name]
    assert fresh and {s.metadata["dagster/freshness_params"].value["lower_bound_delta_seconds"] for s in fresh} == {
        30 * 3600.0
    }

    # the engine row: a last success 28 hours ago is late at the default 26 hours, on time at 30
    @dg.job(name=daily_job_name("15m"))
    def daily() -> None:
        dg.op(name="step")(lambda: None)()

    with dg.DagsterInstance.ephemeral() as instance:
        assert daily.execute_in_process(instance=instance).success
        later = time.time() + 28 * 3600
        assert settings.automation  # on for a live source: the row judges lateness only then
        default = replace(settings, fresh_within_hours=Settings.from_env({}).fresh_within_hours)
        assert from_instance.engine(instance, default, "15m", now=later).state is State.DEGRADED
        assert from_instance.engine(instance, settings, "15m", now=later).state is State.OK
