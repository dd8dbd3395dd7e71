"""The Broadcaster in Dagster: a resource that sends, and sensors that decide when (docs/operations.md#the-broadcaster).

Sensors watch runs start, succeed and fail (run-status sensors, all code locations by default, so the in-process
runs of ``huracan run`` count too) and poll the event log for failed asset checks. Assets may send too (the
Mechanic's promotions, the daily summary) through ``broadcaster.send``. Sending never raises: a Telegram outage
or a rejected token is logged and the run goes on. The token comes from ``HURACAN_TELEGRAM_TOKEN`` through
``dg.EnvVar``, so it is resolved when a run or tick starts and never stored in run config or shown in the UI.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import dagster as dg

from huracan_core.broadcast import messages
from huracan_core.broadcast.telegram import (
    CHAT_VARIABLE,
    DEFAULT_BASE_URL,
    TOKEN_VARIABLE,
    URL_VARIABLE,
    TelegramClient,
)
from huracan_dagster.instance.failures import (
    FAILURE_EVENTS,
    RANGE_END_TAG,
    RANGE_START_TAG,
    failure_causes,
)

RESOURCE_KEY = "broadcaster"
#: the metadata key of a message a materialization could not send (its value: the cause)
NOT_SENT = "notification_not_sent"
PARTITION_TAG = "dagster/partition"
#: failed check evaluations read per tick; the cursor carries the rest to the next tick
CHECK_BATCH = 100


class BroadcasterResource(dg.ConfigurableResource):
    """Telegram bot and chat the Broadcaster writes to; off (sends nothing) while either is empty."""

    token: str = ""
    chat_id: str = ""
    base_url: str = DEFAULT_BASE_URL
    retries: int = 3
    backoff_s: float = 0.5

    def client(self, logger: logging.Logger | None = None) -> TelegramClient:
        return TelegramClient(
            self.token,
            self.chat_id,
            base_url=self.base_url,
            retries=self.retries,
            backoff_s=self.backoff_s,
            logger=logger,
        )

    def send(self, text: str, logger: logging.Logger | None = None) -> bool:
        """``True`` once Telegram accepted the message; ``False`` (logged) otherwise. Never raises."""
        return self.client(logger).send(text)

    def notify(self, text: str, logger: logging.Logger | None = None) -> dict[str, str]:
        """Send, and return the metadata that says a message could not be sent (``NOT_SENT``: the cause), or
        nothing: a run's summary lists every message its materializations could not send."""
        client = self.client(logger)
        client.send(text)
        return {NOT_SENT: client.last_failure} if client.last_failure else {}


def telegram_configured(env: Mapping[str, str]) -> bool:
    """Both the token and the chat id are set, so the sensors should start running."""
    return bool(env.get(TOKEN_VARIABLE, "").strip() and env.get(CHAT_VARIABLE, "").strip())


def broadcaster_from_env(env: Mapping[str, str]) -> BroadcasterResource:
    """The resource for these environment variables; the token (and chat id) as ``dg.EnvVar`` so their values
    are read at run time and never written into the definitions, run config or UI."""
    token = dg.EnvVar(TOKEN_VARIABLE) if env.get(TOKEN_VARIABLE, "").strip() else ""
    chat_id = dg.EnvVar(CHAT_VARIABLE) if env.get(CHAT_VARIABLE, "").strip() else ""
    return BroadcasterResource(
        token=token, chat_id=chat_id, base_url=env.get(URL_VARIABLE, "").strip() or DEFAULT_BASE_URL
    )


def broadcaster_sensors(enabled: bool, monitor_all_code_locations: bool = True) -> list[dg.SensorDefinition]:
    """The four Broadcaster sensors; running from the start only when Telegram is configured (``enabled``)."""
    status = dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED
    every = monitor_all_code_locations

    @dg.run_status_sensor(
        name="broadcast_run_started",
        run_status=dg.DagsterRunStatus.STARTED,
        default_status=status,
        monitor_all_code_locations=every,
        description="Telegram message when a run starts.",
    )
    def broadcast_run_started(context: dg.RunStatusSensorContext, broadcaster: BroadcasterResource):
        run = context.dagster_run
        broadcaster.send(messages.run_started(run.job_name, run.run_id, partitions_of(run.tags)), context.log)

    @dg.run_status_sensor(
        name="broadcast_run_succeeded",
        run_status=dg.DagsterRunStatus.SUCCESS,
        default_status=status,
        monitor_all_code_locations=every,
        description="Telegram message when a run succeeds.",
    )
    def broadcast_run_succeeded(context: dg.RunStatusSensorContext, broadcaster: BroadcasterResource):
        run = context.dagster_run
        stats = context.instance.get_run_stats(run.run_id)
        seconds = stats.end_time - stats.start_time if stats.start_time and stats.end_time else None
        text = messages.run_succeeded(run.job_name, run.run_id, seconds, stats.materializations)
        broadcaster.send(text, context.log)

    @dg.run_failure_sensor(
        name="broadcast_run_failed",
        default_status=status,
        monitor_all_code_locations=every,
        description="Telegram message when a run fails, with the cause in the words of the code that failed.",
    )
    def broadcast_run_failed(context: dg.RunFailureSensorContext, broadcaster: BroadcasterResource):
        run = context.dagster_run
        broadcaster.send(messages.run_failed(run.job_name, run.run_id, run_cause(context.instance, run)), context.log)

    @dg.sensor(
        name="broadcast_failed_checks",
        default_status=status,
        minimum_interval_seconds=60,
        description="One Telegram message per check that failed in a tick, naming its partitions and why.",
    )
    def broadcast_failed_checks(context: dg.SensorEvaluationContext, broadcaster: BroadcasterResource):
        return _broadcast_failed_checks(context, broadcaster)

    return [broadcast_run_started, broadcast_run_succeeded, broadcast_run_failed, broadcast_failed_checks]


def partitions_of(tags: Mapping[str, str]) -> str | None:
    """``2024-12-30|BTC-USDT..2024-12-31|XRP-USDT`` for a ranged run, the key for a single-partition run."""
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start:
        return f"{start}..{end}" if end and end != start else start
    return tags.get(PARTITION_TAG)


def run_cause(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    """The failed steps' own errors (``failures.failure_causes``), one per line."""
    events = [e.dagster_event for e in instance.all_logs(run.run_id, of_type=FAILURE_EVENTS) if e.dagster_event]
    return "\n".join(failure_causes(events, run.tags)) or "no failure recorded"


def _broadcast_failed_checks(context: dg.SensorEvaluationContext, broadcaster: BroadcasterResource) -> dg.SkipReason:
    """One message per check that failed on any partition stored after the cursor (an event-log storage id), naming
    the partitions. The first tick starts at the newest event, so switching the sensor on does not replay history."""
    storage = context.instance.event_log_storage
    if not context.cursor:
        newest = _newest_storage_id(storage)
        context.update_cursor(str(newest))
        return dg.SkipReason(f"starting after event {newest}: failed checks from now on are broadcast")
    after = int(context.cursor)
    entries = storage.get_logs_for_all_runs_by_log_id(
        after_cursor=after, dagster_event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=CHECK_BATCH
    )
    failures: dict[tuple[str, str, str], list[tuple[str | None, str | None]]] = {}
    for storage_id, entry in sorted(entries.items()):
        evaluation = entry.dagster_event.event_specific_data if entry.dagster_event else None
        after = max(after, storage_id)
        if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.passed:
            continue
        check = (evaluation.asset_key.to_user_string(), evaluation.check_name, evaluation.severity.value)
        failures.setdefault(check, []).append((evaluation.partition, evaluation.description))
    sent = sum(
        broadcaster.send(messages.checks_failed(*check, found), context.log) for check, found in failures.items()
    )
    failed = sum(map(len, failures.values()))
    context.update_cursor(str(after))
    return dg.SkipReason(f"{failed} failed checks, {sent} messages sent; next after event {after}")


def _newest_storage_id(storage) -> int:
    try:
        return int(storage.get_maximum_record_id() or 0)
    except NotImplementedError:  # a storage without one cross-run id sequence: start from the beginning
        return 0
