"""``system_health``: an unpartitioned asset that no run materializes, recorded by a sensor every 5 minutes with
the table and the figures the UI plots — as the daemon records a tick's asset events."""

from __future__ import annotations

import dagster as dg

from huracan_dagster.defs.assets.system_health import SENSOR_NAME, SYSTEM_HEALTH
from huracan_dagster.defs.definitions import build_definitions
from huracan_dagster.settings import Settings


def test_the_sensor_records_a_materialization_with_the_table_and_figures(huracan_home):
    defs = build_definitions(Settings.from_env())
    graph = defs.resolve_asset_graph()
    node = graph.get(SYSTEM_HEALTH)
    assert node.partitions_def is None and not node.is_materializable  # no run, no job, no backfill reaches it
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    assert sensor.minimum_interval_seconds == 300 and sensor.default_status == dg.DefaultSensorStatus.RUNNING
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def())
        result = sensor.evaluate_tick(context)
        assert not result.run_requests and result.skip_message and "recorded system_health" in result.skip_message
        [event] = result.asset_events
        for recorded in result.asset_events:  # what the daemon does with a tick's asset events
            instance.report_runless_asset_event(recorded)
        latest = instance.get_latest_materialization_event(SYSTEM_HEALTH)
        assert latest is not None and latest.asset_materialization is not None
        metadata = latest.asset_materialization.metadata
    assert isinstance(event, dg.AssetMaterialization) and event.asset_key == SYSTEM_HEALTH
    table = metadata["status"].value
    assert isinstance(table, str) and table.startswith("| component | state | ms | detail |")
    for component in ("instance storage", "daemon", "engine 15m", "stale assets", "archive", "mlflow store"):
        assert f"| {component} |" in table, component
    states = {key: metadata[key].value for key in metadata if key.startswith("components ")}
    assert set(states) == {f"components {s}" for s in ("ok", "degraded", "down", "off", "unknown")}
    assert sum(states.values()) == table.count("\n") - 1  # every row counted once
    assert states["components down"] == 0
    assert isinstance(metadata["instance storage ms"].value, float)
