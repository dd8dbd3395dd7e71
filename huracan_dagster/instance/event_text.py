"""An event's serialized text, kept from its event row for the rows that repeat it.

Dagster stores a check event twice: its row in the event table, then the check executions row(s), which hold the
same event serialized again (a verdict ~0.3 ms, profiled). The storage's ``_event_to_row`` remembers the text it
wrote for the last event of this thread; a check row of that same event object reuses it, and any other event is
serialized as Dagster does. Events are immutable, so the same object means the same text.
"""

from __future__ import annotations

import threading

import dagster as dg

_last = threading.local()


def remember(event: dg.EventLogEntry, text: str) -> None:
    """``text``: what this thread's storage just wrote ``event``'s row with."""
    _last.event, _last.text = event, text


def text_of(event: dg.EventLogEntry) -> str:
    return _last.text if getattr(_last, "event", None) is event else dg.serialize_value(event)
