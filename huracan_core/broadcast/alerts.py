"""Alerts that page once: each standing condition is sent when it first appears and again only after it cleared.

A monitor (the error monitor, the freshness checks) says every tick which conditions stand now, each with a key
that names the condition, not the tick. Comparing with what was already sent (``AlertState``, kept in the sensor's
cursor so it is saved with the tick, atomically) gives what is new and what cleared. Critical alerts go out at
once, one message each; warnings and clearances of one tick go out as one message. A condition is marked sent only
once Telegram accepted its message, so a Telegram outage delays an alert to the next tick instead of losing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

#: how long the actions log keeps an entry: the daily report lists the last day's
ACTIONS_KEPT = timedelta(days=2)


class Severity(StrEnum):
    #: sent at once, one message each
    CRITICAL = "critical"
    #: sent with the other warnings of the tick, in one message
    WARNING = "warning"


@dataclass(frozen=True)
class Alert:
    """A condition standing now. ``key`` names the condition (``errors/recurring/<cause>``), so the same
    condition on the next tick has the same key."""

    key: str
    severity: Severity
    text: str


@dataclass(frozen=True)
class Action:
    """What the alert layer did, for the daily report: ``raised`` or ``cleared`` a key, when."""

    at: str
    action: str
    key: str
    text: str


@dataclass(frozen=True)
class AlertState:
    """The conditions already sent and not cleared (key → the alert as sent), the actions of the last days, and
    the day of the last daily report."""

    active: dict[str, Alert] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
    last_report: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "active": {k: asdict(a) for k, a in self.active.items()},
                "actions": [asdict(a) for a in self.actions],
                "last_report": self.last_report,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> AlertState:
        """The state a previous tick saved; an empty cursor is a fresh state. A cursor that is not this state's JSON
        raises ``ValueError`` naming what is wrong (the caller decides whether to start afresh)."""
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            active = {k: Alert(v["key"], Severity(v["severity"]), v["text"]) for k, v in raw["active"].items()}
            actions = tuple(Action(**a) for a in raw["actions"])
            return cls(active, actions, raw.get("last_report"))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"alert state is not the alert layer's JSON ({type(error).__name__}: {error})") from error


@dataclass(frozen=True)
class Changes:
    """What one tick found: conditions not yet sent, by severity, and sent conditions that no longer stand."""

    critical: list[Alert]
    warnings: list[Alert]
    cleared: list[Alert]


def changes(state: AlertState, standing: Sequence[Alert]) -> Changes:
    """New conditions (standing, not active) and cleared ones (active, no longer standing). A condition whose
    severity rose while it stood is new again at the higher severity; one that fell stays sent."""
    now = {a.key: a for a in standing}
    new = [
        a
        for a in now.values()
        if a.key not in state.active
        or (a.severity is Severity.CRITICAL and state.active[a.key].severity is Severity.WARNING)
    ]
    return Changes(
        critical=[a for a in new if a.severity is Severity.CRITICAL],
        warnings=[a for a in new if a.severity is Severity.WARNING],
        cleared=[a for k, a in state.active.items() if k not in now],
    )


def dispatch(
    state: AlertState,
    standing: Sequence[Alert],
    now: datetime,
    send: Callable[[str], bool],
    batch_text: Callable[[Sequence[Alert], Sequence[Alert]], str],
    critical_text: Callable[[Alert], str],
) -> AlertState:
    """Send what changed and return the state to save. ``send`` returns whether Telegram accepted the message;
    what was not accepted stays unsent (or uncleared) and is tried again next tick."""
    found = changes(state, standing)
    active = dict(state.active)
    actions = list(state.actions)
    stamp = now.isoformat()
    for alert in found.critical:
        if send(critical_text(alert)):
            active[alert.key] = alert
            actions.append(Action(stamp, "raised", alert.key, alert.text))
    if (found.warnings or found.cleared) and send(batch_text(found.warnings, found.cleared)):
        for alert in found.warnings:
            active[alert.key] = alert
            actions.append(Action(stamp, "raised", alert.key, alert.text))
        for alert in found.cleared:
            del active[alert.key]
            actions.append(Action(stamp, "cleared", alert.key, alert.text))
    kept = tuple(a for a in actions if datetime.fromisoformat(a.at) >= now - ACTIONS_KEPT)
    return replace(state, active=active, actions=kept)
