"""``system_health``: what ``huracan health`` prints, recorded every 5 minutes so the UI shows its history.

The asset is not partitioned: its history is the list of its materializations, each with the table and figures
the UI plots (a time partition every 5 minutes would be 105,000 partitions a year, past Dagster's advice).

A sensor records it, not a scheduled run: a run every 5 minutes would start a process and load the code location
288 times a day, hold one of the run queue's slots the Engine's runs wait for, and fill the Runs page and the
Overview timeline with health checks. The sensor's tick reports the materialization itself (no run), in the
daemon's sensor loop, so it can start running by default everywhere: nothing the daily job waits on is taken.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from huracan_core.health import ComponentStatus
from huracan_core.health.status import counts, format_markdown
from huracan_dagster.settings import Settings

SYSTEM_HEALTH = dg.AssetKey("system_health")
SENSOR_NAME = "system_health_every_5m"
INTERVAL_S = 300


def system_health_asset() -> dg.AssetSpec:
    return dg.AssetSpec(
        SYSTEM_HEALTH,
        description=(
            "The platform's health every 5 minutes (the `system_health_every_5m` sensor; `huracan health` prints the "
            "same): the instance storage, the daemon, the Engine's last run per timeframe, stale assets, the Archive, "
            "the MLflow store, the exchange and Telegram — each ok, degraded, down, off or unknown, with one line "
            "and its latency. Each materialization's metadata holds the table; the plots show the counts and latencies."
        ),
        group_name="operations",
    )


def health_metadata(statuses: Sequence[ComponentStatus]) -> dict[str, dg.MetadataValue]:
    """The table, each state's count and each component's latency: numbers the asset's plots draw over time."""
    metadata: dict[str, dg.MetadataValue] = {"status": dg.MetadataValue.md(format_markdown(statuses))}
    metadata |= {f"components {state}": dg.MetadataValue.int(n) for state, n in counts(statuses).items()}
    metadata |= {
        f"{s.component} ms": dg.MetadataValue.float(s.latency_ms) for s in statuses if s.latency_ms is not None
    }
    return metadata


def system_health_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Every 5 minutes: checks the platform's components as `huracan health` does and records the result as a "
            "materialization of system_health (no run is started)."
        ),
    )
    def record_system_health(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        # imported when a tick runs: the checks read the job names of the definitions this module is part of
        from huracan_dagster.health import PROBE_TIMEOUT_S, system_health

        repository = context.repository_def
        if repository is None:
            raise dg.DagsterInvariantViolationError(f"{SENSOR_NAME} needs its code location's definitions")
        statuses = system_health(settings, lambda: context.instance, lambda: repository, PROBE_TIMEOUT_S)
        summary = ", ".join(f"{n} {state}" for state, n in counts(statuses).items() if n)
        return dg.SensorResult(
            asset_events=[dg.AssetMaterialization(SYSTEM_HEALTH, metadata=health_metadata(statuses))],
            skip_reason=f"recorded system_health: {summary}",
        )

    return record_system_health
