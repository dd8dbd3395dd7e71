"""One tick of the health alerts: the error monitor's conditions sent once each, and the daily health report.

The Broadcaster's ``health_alerts`` sensor calls ``alert_tick`` with the instance's recent runs and the state its
previous tick saved, and saves what comes back. Everything that decides is here, so it is tested on planted run
histories without Dagster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from huracan_core.broadcast import messages
from huracan_core.broadcast.alerts import AlertState, dispatch
from huracan_core.health.errors import ErrorPolicy, RunOutcome, cause_groups, error_alerts, failure_rates
from huracan_core.health.pauses import PauseBook

#: the UTC hour from which the daily health report of the day before is sent: after the nightly Engine
#: (``ENGINE_CRON``, 02:00) and its summary, before people start their day
REPORT_HOUR = 7

#: a timeframe's daily summaries of a day and the day before (None where there is none)
Trading = Mapping[str, tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]]


def alert_tick(
    state: AlertState,
    runs: Sequence[RunOutcome],
    now: datetime,
    send: Callable[[str], bool],
    policy: ErrorPolicy,
    trading: Callable[[date], Trading],
    pauses: Callable[[], Mapping[str, PauseBook]],
    report_hour: int = REPORT_HOUR,
    breakers: Callable[[], Mapping[str, str]] = dict,
) -> AlertState:
    """Send what changed since ``state`` (critical alerts one by one, warnings and clearances batched), then, once
        a day from ``report_hour``, the health report of the day before. ``trading``: each timeframe's daily summaries
        of a day and the day before; ``pauses``: each timeframe's pattern pause log, and ``breakers`` Hamilton's breakers
    per timeframe, both read only when a report is due.
        Returns the state to save; a report Telegram did not accept is tried again next tick."""
    standing = error_alerts(runs, now, policy)
    state = dispatch(state, standing, now, send, messages.alert_batch, messages.critical_alert)
    today = now.date()
    if now.hour < report_hour or state.last_report == today.isoformat():
        return state
    day = today - timedelta(days=1)
    of_day = [r for r in runs if r.ended.date() == day]
    text = messages.health_report(
        day,
        list(state.active.values()),
        next(iter(failure_rates(of_day)), None),
        cause_groups(of_day),
        [a for a in state.actions if datetime.fromisoformat(a.at).date() == day],
        trading(day),
        {tf: _pauses_of(book, day) for tf, book in pauses().items()},
        breakers(),
    )
    return replace(state, last_report=today.isoformat()) if send(text) else state


def _pauses_of(book: PauseBook, day: date) -> messages.Pauses:
    """The patterns paused or resumed on ``day`` (UTC), and those paused as recorded now."""
    acted = [e for e in book.events if e.at.astimezone(UTC).date() == day]
    return acted, list(book.paused().values())


def history_start(now: datetime, policy: ErrorPolicy) -> datetime:
    """The oldest run end a tick needs: the error window, and the whole of yesterday for the report."""
    days = max(policy.window_days, 2)
    return datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time(), tzinfo=now.tzinfo)
