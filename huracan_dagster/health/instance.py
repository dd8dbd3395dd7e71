"""What the Dagster instance knows about the platform's health: the daemon's heartbeats, the Engine's newest runs,
and assets materialized by older code. Each reads a few rows; none changes anything."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import dagster as dg

from huracan_core.health import Finding, State
from huracan_core.health.status import age_text
from huracan_dagster.defs.automation import ENGINE_CRON
from huracan_dagster.defs.definitions import daily_job_name
from huracan_dagster.defs.partitions import WINDOW_TAG
from huracan_dagster.settings import Settings

#: the daemon beats every 30 s; four missed beats and it is taken to be gone (Dagster's own tolerance is 30 min)
HEARTBEAT_GONE_S = 120.0
#: the tag Dagster writes on every materialization: the code version of the asset that wrote it
CODE_VERSION_TAG = "dagster/code_version"
#: stale assets named in the detail; the count says how many there are
NAMED = 5


def daemon(instance: dg.DagsterInstance, automation: bool, now: float | None = None) -> Finding:
    """Every daemon the instance needs beat within ``HEARTBEAT_GONE_S``. None beating is ``down`` when the Engine's
    schedules are meant to run (``HURACAN_AUTOMATION``), and ``off`` otherwise: ``huracan run`` needs no daemon."""
    now = time.time() if now is None else now
    beats = instance.get_daemon_heartbeats()
    newest = max((b.timestamp for b in beats.values()), default=None)
    if newest is None or now - newest > HEARTBEAT_GONE_S:
        since = (
            "no daemon has run on this instance" if newest is None else f"last heartbeat {age_text(now - newest)} ago"
        )
        if automation:
            return Finding(
                State.DOWN,
                f"not running ({since}): HURACAN_AUTOMATION is on and the Engine's schedules do not fire without it; "
                "`huracan ui` or dagster-daemon runs one",
            )
        return Finding(
            State.OFF,
            f"not running ({since}); nothing scheduled waits on it (HURACAN_AUTOMATION is off); `huracan ui` runs one",
        )
    required = instance.get_required_daemon_types()
    silent = [t for t in required if t not in beats or now - beats[t].timestamp > HEARTBEAT_GONE_S]
    if silent:
        return Finding(State.DEGRADED, f"{', '.join(sorted(silent))}: no heartbeat for {HEARTBEAT_GONE_S:.0f} s")
    for kind, beat in sorted(beats.items()):
        if beat.errors:
            first = next((line for line in beat.errors[0].message.splitlines() if line.strip()), "an error")
            return Finding(State.DEGRADED, f"{kind} reports: {first.strip()}")
    return Finding(State.OK, f"{len(required)} daemons beating, the newest {age_text(now - newest)} ago")


def engine(instance: dg.DagsterInstance, settings: Settings, timeframe: str, now: float | None = None) -> Finding:
    """The newest successful run of the timeframe's daily job (``huracan run``'s or the schedule's): ``degraded``
    when there is none, when a newer run failed, or — on a live exchange with the schedules on — when it is older
    than ``HURACAN_FRESH_WITHIN_HOURS`` (a day and a bit: the Engine runs daily), as the freshness checks judge."""
    now = time.time() if now is None else now
    job = daily_job_name(timeframe)
    newest = instance.get_run_records(dg.RunsFilter(job_name=job), limit=1)
    if not newest:
        return Finding(
            State.DEGRADED, f"no run of {job} yet: `huracan run` (or the engine_{timeframe} schedule) starts one"
        )
    succeeded = instance.get_run_records(dg.RunsFilter(job_name=job, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1)
    latest = newest[0].dagster_run
    if not succeeded:
        return Finding(
            State.DEGRADED, f"no successful run of {job} yet; the newest ({_run(newest[0])}) is {_status(latest)}"
        )
    success = succeeded[0]
    ended = success.end_time or success.update_timestamp.timestamp()
    last = f"last success {_when(ended)} ({_run(success)})"
    if latest.run_id != success.dagster_run.run_id and latest.status in (
        dg.DagsterRunStatus.FAILURE,
        dg.DagsterRunStatus.CANCELED,
    ):
        return Finding(State.DEGRADED, f"the newest run ({_run(newest[0])}) is {_status(latest)}; {last}")
    if settings.automation and now - ended > settings.fresh_within_hours * 3600:
        return Finding(
            State.DEGRADED,
            f"{last}, {age_text(now - ended)} ago, and engine_{timeframe} runs daily ({ENGINE_CRON} UTC)",
        )
    running = "" if latest.run_id == success.dagster_run.run_id else f"; newest ({_run(newest[0])}) {_status(latest)}"
    return Finding(State.OK, last + running)


def code_versions(repository: dg.RepositoryDefinition) -> dict[dg.AssetKey, str]:
    """Each asset's code version in the definitions of now (assets without one are left out)."""
    return {
        key: version
        for assets in repository.assets_defs_by_key.values()
        for key, version in assets.code_versions_by_key.items()
        if version is not None
    }


def stale_assets(instance: dg.DagsterInstance, current: Mapping[dg.AssetKey, str]) -> Finding:
    """Assets whose newest materialization was written by another code version than ``current`` — the UI's "stale"
    after a change of costs, recipe or code. The newest materialization of each asset is read (one query for all);
    the UI shows each partition's."""
    events = instance.get_latest_materialization_events(list(current))
    written = {
        key: (event.asset_materialization.tags or {}).get(CODE_VERSION_TAG)
        for key, event in events.items()
        if event is not None and event.asset_materialization is not None
    }
    stale = sorted(k.to_user_string() for k, v in written.items() if v is not None and v != current[k])
    if not stale:
        return Finding(State.OK, f"none: {len(written)} materialized assets, each newest by the code of now")
    more = f" and {len(stale) - NAMED} more" if len(stale) > NAMED else ""
    return Finding(
        State.DEGRADED,
        f"{len(stale)} of {len(written)} materialized by an older code version: {', '.join(stale[:NAMED])}{more}; "
        "materializing their days again brings them up to date",
    )


def instance_components(settings: Settings) -> Sequence[str]:
    """The rows read from the instance, in order (``unknown`` when it cannot be opened)."""
    return ["daemon", *(f"engine {tf}" for tf in settings.timeframes), "stale assets"]


def _run(record: dg.RunRecord) -> str:
    run = record.dagster_run
    window = run.tags.get(WINDOW_TAG)
    return f"run {run.run_id[:8]}" + (f", window {window}" if window else "")


def _status(run: dg.DagsterRun) -> str:
    return run.status.value.lower()


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
