"""``huracan health patterns|review|pause|resume``: the pattern pauses, reviewed by their tests or changed by hand.

Each change is one more event in the Archive's pause log (``health.pauses``), effective from the next UTC day, and
undone by the opposite command; nothing is ever deleted. A pattern that is not in the state the command expects is
one line saying so, exit status 1.
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime

from huracan_core.health.pattern_review import review_archive
from huracan_core.health.pauses import PauseEvent, load_book, record
from huracan_dagster.health.services import archive_store
from huracan_dagster.settings import Settings


def pattern_command(settings: Settings, action: str, pattern: str | None, reason: str, timeout_s: float) -> int:
    store = archive_store(settings, timeout_s)
    timeframe = settings.timeframe
    if action == "patterns":
        book = load_book(store, timeframe)
        paused = book.paused()
        print(f"{len(paused)} pattern(s) paused ({timeframe}; {len(book.events)} events in the log)")
        for event in book.events:
            print(f"{event.at.isoformat()}  {event.action:6}  {event.pattern}  by {event.by}: {event.reason}")
        return 0
    now = datetime.now(UTC)
    if action == "review":
        book, events = review_archive(store, timeframe, now)
        for event in events:
            print(f"{event.pattern}: {event.action}d by {event.by}, from {event.effective_from}: {event.reason}")
        print(f"{len(events)} change(s); {len(book.paused())} pattern(s) paused ({timeframe})")
        return 0
    assert pattern is not None  # the parser requires it for pause and resume
    event = PauseEvent(pattern, "pause" if action == "pause" else "resume", f"cli:{getpass.getuser()}", now, reason)
    try:
        record(store, timeframe, [event])
    except ValueError as error:
        print(f"huracan health {action}: {error}", file=sys.stderr)
        return 1
    print(f"{pattern} ({timeframe}): {event.action}d, effective from {event.effective_from.isoformat()} (UTC)")
    return 0
