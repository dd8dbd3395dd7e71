"""``pattern_health``: the pattern review run every hour by a sensor, its pauses and lifts recorded in the UI.

Like ``system_health`` it is an external asset reported by the sensor's tick (no run): the review reads the
Archive's ledgers and appends to the pause log (``huracan_core.health.pattern_review``), which takes no slot the
Engine's runs wait for. Its decisions take effect from the next UTC day, so when in the day it runs changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from huracan_core.health.pauses import PauseEvent
from huracan_dagster.settings import Settings

PATTERN_HEALTH = dg.AssetKey("pattern_health")
SENSOR_NAME = "pattern_review_hourly"
INTERVAL_S = 3600
ARCHIVE_TIMEOUT_S = 10.0


def pattern_health_asset() -> dg.AssetSpec:
    return dg.AssetSpec(
        PATTERN_HEALTH,
        description=(
            "The pattern review every hour (the `pattern_review_hourly` sensor; `huracan health review` runs the "
            "same): each pattern's after-cost record from the shadow trades, paused by its CUSUM or lifted by its "
            "recovery, every decision appended to `health/pattern_pauses/<timeframe>.json` in the Archive. Each "
            "materialization lists the pauses in force and what this review decided."
        ),
        group_name="operations",
    )


def _lines(events: list[PauseEvent]) -> str:
    return "\n".join(f"- `{e.pattern}` {e.action} by {e.by} from {e.effective_from}: {e.reason}" for e in events)


def pattern_review_sensor(settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Every hour: the pattern pause and recovery tests over the Archive's shadow trades, their decisions "
            "logged in the Archive and recorded as a materialization of pattern_health (no run is started)."
        ),
    )
    def review_patterns(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        from huracan_core.health.pattern_review import review_archive
        from huracan_dagster.health.services import archive_store

        store = archive_store(settings, ARCHIVE_TIMEOUT_S)
        now = datetime.now(UTC)
        metadata: dict[str, dg.MetadataValue] = {}
        changes = 0
        for timeframe in settings.timeframes:
            book, events = review_archive(store, timeframe, now)
            changes += len(events)
            metadata[f"{timeframe} paused"] = dg.MetadataValue.int(len(book.paused()))
            metadata[f"{timeframe} pauses in force"] = dg.MetadataValue.md(
                _lines(list(book.paused().values())) or "none"
            )
            metadata[f"{timeframe} decided now"] = dg.MetadataValue.md(_lines(events) or "nothing")
        return dg.SensorResult(
            asset_events=[dg.AssetMaterialization(PATTERN_HEALTH, metadata=metadata)],
            skip_reason=f"reviewed patterns: {changes} change(s)",
        )

    return review_patterns
