"""The Broadcaster's ``health_alerts`` sensor: the error monitor over the instance's runs, alerts said once until
they clear, and the daily health report (docs/operations.md#health-alerts).

The tick reads the finished runs of the error window, and the daily summaries and pattern pause logs the report
quotes, and hands them to ``huracan_core.health.monitor.alert_tick``. What was already sent lives in the sensor's
cursor: Dagster saves it with the tick, in the instance's storage, so it is written atomically and survives a
daemon restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from huracan_core.broadcast.alerts import AlertState
from huracan_core.health.errors import ErrorPolicy, RunOutcome
from huracan_core.health.monitor import REPORT_HOUR, Trading, alert_tick, history_start
from huracan_core.health.pauses import load_book
from huracan_core.paper import holds
from huracan_core.paper.home import kill_reason
from huracan_core.risk.settings import RiskSettings
from huracan_core.storage.keys import daily_summary_key
from huracan_core.storage.store import ArtifactStore
from huracan_dagster.defs.broadcaster import BroadcasterResource, run_cause
from huracan_dagster.defs.resources import ArchiveResource

SENSOR_NAME = "health_alerts"
INTERVAL_S = 60
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]


def health_alerts_sensor(
    timeframes: Sequence[str],
    enabled: bool,
    policy: ErrorPolicy,
    report_hour: int = REPORT_HOUR,
    *,
    risk: RiskSettings = RiskSettings(),
    home: Path | None = None,
) -> dg.SensorDefinition:
    """Running from the start when Telegram is configured (``enabled``), like the other Broadcaster sensors; the
    error monitor judges by ``policy`` (``Settings.error_policy``: ``HURACAN_ERRORS_*``); the daily health report
    goes out at the first tick from ``report_hour`` (UTC), with Hamilton's breakers as ``huracan health`` reads
    them (``risk``: its settings; ``home``: where its kill switch file is pressed)."""

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED,
        description=(
            f"Error trends over the last {policy.window_days} days of runs (a cause failing {policy.recurring_runs} "
            f"runs on {policy.recurring_days} days: a warning; more than {100 * policy.spike_rate:.0f}% of today's "
            f"runs failed, over at least {policy.spike_min_runs}: critical; HURACAN_ERRORS_* set these), each sent "
            "once until it clears, and the daily health report at "
            f"{report_hour:02d}:00 UTC."
        ),
    )
    def health_alerts(
        context: dg.SensorEvaluationContext, broadcaster: BroadcasterResource, archive: ArchiveResource
    ) -> dg.SkipReason:
        now = datetime.now(UTC)
        try:
            state = AlertState.from_json(context.cursor)
        except ValueError as error:  # a cursor from another version: start afresh (standing alerts are resent)
            context.log.warning(f"{SENSOR_NAME}: starting afresh, the saved cursor is unreadable: {error}")
            state = AlertState()
        runs = run_outcomes(context.instance, history_start(now, policy))
        after = alert_tick(
            state,
            runs,
            now,
            lambda text: broadcaster.send(text, context.log),
            policy,
            lambda day: daily_summaries(archive, timeframes, day),
            lambda: {tf: load_book(archive.store(), tf) for tf in timeframes},
            report_hour,
            lambda: {tf: _breakers(archive.store(), tf, risk, home) for tf in timeframes},
        )
        context.update_cursor(after.to_json())
        return dg.SkipReason(
            f"{len(runs)} runs judged; {len(after.active)} alerts active; last report {after.last_report or 'none'}"
        )

    return health_alerts


#: a finished run's causes never change: kept per run id across ticks (the code server keeps the module), so a
#: tick reads the event log of the runs that failed since the last one, not of every failure in the window
_CAUSES: dict[str, tuple[str, ...]] = {}
CAUSES_KEPT = 5000


def run_outcomes(instance: dg.DagsterInstance, since: datetime) -> list[RunOutcome]:
    """The runs that finished since ``since``, with a failed run's causes as its failure message says them."""
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=FINISHED, updated_after=since))
    outcomes = []
    for record in records:
        ended = record.end_time or record.update_timestamp.timestamp()
        failed = record.dagster_run.status == dg.DagsterRunStatus.FAILURE
        causes = failure_lines(instance, record.dagster_run) if failed else ()
        outcome = RunOutcome(
            record.dagster_run.run_id, record.dagster_run.job_name, datetime.fromtimestamp(ended, UTC), failed, causes
        )
        if outcome.ended >= since:
            outcomes.append(outcome)
    return outcomes


def failure_lines(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[str, ...]:
    if run.run_id not in _CAUSES:
        if len(_CAUSES) >= CAUSES_KEPT:
            del _CAUSES[next(iter(_CAUSES))]  # the oldest read: long out of the window
        _CAUSES[run.run_id] = tuple(run_cause(instance, run).splitlines())
    return _CAUSES[run.run_id]


def daily_summaries(archive: ArchiveResource, timeframes: Sequence[str], day: date) -> Trading:
    """Each timeframe's daily summary of ``day`` and of the day before, None where the Archive has none."""
    store = archive.store()

    def read(timeframe: str, which: date):
        key = daily_summary_key(timeframe, which)
        return store.read_json(key) if store.exists(key) else None

    return {tf: (read(tf, day), read(tf, day - timedelta(days=1))) for tf in timeframes}


def _breakers(store: ArtifactStore, timeframe: str, risk: RiskSettings, home: Path | None) -> str:
    """Hamilton's breakers from its committed state, in the words of ``huracan health``'s hamilton row."""
    found = holds.hamilton(store, timeframe, risk, kill_reason(home) if home else None)
    return f"{found.state.value}, {found.detail}"
