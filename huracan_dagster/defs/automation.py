"""What runs by itself: the Engine's schedule (02:00 UTC), the shared encoder's schedule ahead of it, the hourly
Mechanic sensor, the weekly research search, and the conditions under which waiting assets catch up when later data
arrives.

The Engine's daily chain and the shared encoder have different partitions (date × symbol, date), and one run
covers one partitions definition, so the encoder of yesterday runs at 01:00 (it reads only features months old)
and the chain at 02:00 as one ranged run per block of registered symbols. Both skip, saying so, a day that is no
partition: outside a recorded source's days (the bundled sample ends on 2024-12-31, and its schedules would
otherwise ask for days it cannot have). The roster and the daily summary
(date partitions) follow by their automation condition once the day's champions and trades are in; labels and the
trade analysis of the day before materialize again by theirs when the next day's candles arrive.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from huracan_dagster.defs.partitions import (
    SYMBOL_DIMENSION,
    SYMBOLS_TAG,
    WINDOW_TAG,
    PartitionSpace,
    ResearchWeeks,
    asset_key,
    symbol_blocks,
    week_of,
)
from huracan_dagster.instance.failures import RANGE_END_TAG, RANGE_START_TAG

ENGINE_CRON = "0 2 * * *"
ENCODER_CRON = "0 1 * * *"
#: labels and post-exit analysis of the day before the newest wait for its candles: they may run again then
CATCH_UP = timedelta(days=2)


def when_later_data_arrives() -> dg.AutomationCondition:
    """Dagster's eager condition over the last two days instead of the latest one: a partition whose next day's
    candles arrive (its declared input) materializes again, once nothing it reads is missing or in progress."""
    return (
        dg.AutomationCondition.eager()
        .replace("in_latest_time_window", dg.AutomationCondition.in_latest_time_window(CATCH_UP))
        .with_label("when later data arrives (last 2 days)")
    )


def engine_schedule(
    timeframe: str, job: dg.UnresolvedAssetJobDefinition, running: bool, *, space: PartitionSpace, source: str
) -> dg.ScheduleDefinition:
    """Yesterday's date × symbol partitions of ``job`` (``space``: the days of ``source``, named when it skips)."""

    @dg.schedule(
        name=f"engine_{timeframe}",
        cron_schedule=ENGINE_CRON,
        execution_timezone="UTC",
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"The Engine, daily at 02:00 UTC: yesterday's {timeframe} partitions of every registered symbol, "
            "candles → features → regimes → signals → labels → coin models → champion decisions → shadow trades "
            "→ analysis (the roster and the daily summary follow by themselves). One ranged run per block of symbols."
        ),
    )
    def engine(context: dg.ScheduleEvaluationContext):
        day = _yesterday(context.scheduled_execution_time)
        if not space.holds(day):
            return _no_partition(day, space, source, timeframe)
        symbols = context.instance.get_dynamic_partitions(SYMBOL_DIMENSION)
        if not symbols:
            return dg.SkipReason("no symbols registered yet: run `huracan run` once to register the universe")
        return [
            dg.RunRequest(
                run_key=f"engine-{timeframe}-{day}-{block[0]}",
                tags={
                    RANGE_START_TAG: f"{day}|{block[0]}",
                    RANGE_END_TAG: f"{day}|{block[-1]}",
                    WINDOW_TAG: f"{day}..{day}",
                    SYMBOLS_TAG: ",".join(block),
                },
            )
            for block in symbol_blocks(symbols, symbols)
        ]

    return engine


def encoder_schedule(
    timeframe: str, job: dg.UnresolvedAssetJobDefinition, running: bool, *, space: PartitionSpace, source: str
) -> dg.ScheduleDefinition:
    """Yesterday's shared encoder. Dagster's partitioned schedule would ask for the last partition instead, which on
    a recorded source is its last day, every day after it; the run key stays the day, as that schedule's was."""

    @dg.schedule(
        name=f"shared_encoder_{timeframe}_daily",
        cron_schedule=ENCODER_CRON,
        execution_timezone="UTC",
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description=f"Yesterday's {timeframe} shared encoder at 01:00 UTC, ready for the Engine's coin models at 02:00.",
    )
    def shared_encoder(context: dg.ScheduleEvaluationContext):
        day = _yesterday(context.scheduled_execution_time)
        if not space.holds(day):
            return _no_partition(day, space, source, timeframe)
        return dg.RunRequest(run_key=day.isoformat(), partition_key=day.isoformat(), tags={WINDOW_TAG: f"{day}..{day}"})

    return shared_encoder


def research_schedule(
    job: dg.UnresolvedAssetJobDefinition, cron: str, running: bool, *, weeks: ResearchWeeks, source: str
) -> dg.ScheduleDefinition:
    """The search of the week under way (on a Monday, the week starting that day: the days before it are all in);
    a week that is no partition is skipped, saying why. Not Dagster's partitioned schedule, for the encoder's reason: on a
    recorded source it would ask for the last week again every week."""

    @dg.schedule(
        name="research_weekly",
        cron_schedule=cron,
        execution_timezone="UTC",
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"The research search at `{cron}` UTC (HURACAN_RESEARCH_CRON): the partition of the week under way of "
            f"`research_search`, over the {weeks.window_days} days before that week."
        ),
    )
    def research_weekly(context: dg.ScheduleEvaluationContext):
        week = week_of(context.scheduled_execution_time)
        if not weeks.holds(week):
            return _no_week(week, weeks, source)
        start, end = weeks.window(week)
        key = week.isoformat()
        return dg.RunRequest(run_key=f"research-{key}", partition_key=key, tags={WINDOW_TAG: f"{start}..{end}"})

    return research_weekly


def _no_week(week: date, weeks: ResearchWeeks, source: str) -> dg.SkipReason:
    """Why a week is no partition: before the first whose window the source holds, or past a recorded source's days."""
    if weeks.end == weeks.first:
        return dg.SkipReason(
            f"{source} holds no whole week after {weeks.window_days} days of candles (HURACAN_RESEARCH_DAYS): "
            "there is no research week"
        )
    if week < weeks.first:
        return dg.SkipReason(
            f"the week of {week} is before {weeks.first}, the first week with {weeks.window_days} days of {source}'s "
            "candles before it"
        )
    last = (weeks.end or week) - timedelta(days=7)
    return dg.SkipReason(
        f"the week of {week} starts after {source}'s last day and the day after it (its research weeks: "
        f"{weeks.first}..{last}): nothing to run"
    )


def _no_partition(day: date, space: PartitionSpace, source: str, timeframe: str) -> dg.SkipReason:
    """Why a scheduled day is no partition: before the source's first day, or after a recorded source's last."""
    if day < space.first:
        return dg.SkipReason(f"{day} is before {space.first}, the first day of the {timeframe} partitions ({source})")
    return dg.SkipReason(
        f"{day} is after {space.last}, the last day {source} holds {timeframe} candles for "
        f"(its days: {space.first}..{space.last}): nothing to run"
    )


def mechanic_sensor(
    timeframe: str,
    job: dg.UnresolvedAssetJobDefinition,
    running: bool,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dg.SensorDefinition:
    """Hourly; a run only when labels were materialized since the last run it requested, at most one per hour
    (``run_key`` ``mechanic-<tf>-<hour>``). Labels, not candles: the Mechanic learns from the newest labelled day,
    and a run fired by a day's candles before its labels exist would find that day already judged and skip it.
    The cursor (JSON: the newest labels event seen, the hour of the last request) lives in the instance, so a
    restarted daemon carries on where it was."""
    labels = asset_key(timeframe, "labels")

    @dg.sensor(
        name=f"mechanic_{timeframe}",
        job=job,
        minimum_interval_seconds=3600,
        default_status=dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED,
        description=(
            "The Mechanic: every hour, when new labels have been materialized since its last run, trains a "
            "challenger per coin from the freshest labelled day and applies the promotion rule (asset challengers)."
        ),
    )
    def mechanic(context: dg.SensorEvaluationContext):
        cursor = json.loads(context.cursor) if context.cursor else {}
        records = context.instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=labels), limit=1).records
        if not records:
            return dg.SkipReason(f"no {labels.to_user_string()} materialized yet")
        newest, hour = records[0].storage_id, clock().astimezone(UTC).strftime("%Y-%m-%dT%H")
        if newest <= cursor.get("labels_event", -1):
            return dg.SkipReason(f"no new labels since event {cursor['labels_event']}")
        if cursor.get("hour") == hour:
            return dg.SkipReason(f"already requested a run in hour {hour}; new labels wait for the next hour")
        context.update_cursor(json.dumps({"labels_event": newest, "hour": hour}))
        return dg.RunRequest(run_key=f"mechanic-{timeframe}-{hour}", tags={"huracan/labels_event": str(newest)})

    return mechanic


def automation_sensor(timeframe: str, assets: Sequence[dg.AssetsDefinition]) -> dg.AutomationConditionSensorDefinition:
    """Targets, by key, the timeframe's assets that have an automation condition: the sensor's page shows the target
    in Dagster's selection syntax (``key:"15m/labels" or …``) and names what the sensor evaluates. A key-prefix
    selection has no text form there: the page printed its Python repr."""
    keys = sorted(
        (
            k
            for a in assets
            for k, c in a.automation_conditions_by_key.items()
            if c is not None and k.path[0] == timeframe
        ),
        key=lambda k: k.to_user_string(),
    )
    return dg.AutomationConditionSensorDefinition(
        f"automation_{timeframe}",
        target=dg.AssetSelection.assets(*keys),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Evaluates the automation conditions of {', '.join(k.path[-1] for k in keys)} ({timeframe}).",
    )


def _yesterday(moment: datetime) -> date:
    return moment.astimezone(UTC).date() - timedelta(days=1)
