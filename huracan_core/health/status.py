"""One component's health as a record, the probe that times it, and the table and JSON people and the UI read.

A probe never raises: whatever goes wrong in a check becomes ``down`` with one line naming the cause, so a dead
service is one row of the table, never a traceback, and the rows after it are still checked. Each check bounds its
own waiting (the clients' timeouts), so a service that does not answer cannot hang the command either.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    #: answered, and nothing needs a look
    OK = "ok"
    #: answered, but something needs a look (a stale asset, a failed newest run): ``huracan health`` still exits 0
    DEGRADED = "degraded"
    #: unreachable, refusing, or not doing its job: ``huracan health`` exits 1
    DOWN = "down"
    #: not configured, and nothing waits on it (no Telegram token, a recorded candle source)
    OFF = "off"
    #: not checked, because what it is read from is down (the daemon's heartbeats when the instance is)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Finding:
    """What a check found, before it is timed: the state and one line a person can act on."""

    state: State
    detail: str


@dataclass(frozen=True)
class ComponentStatus:
    component: str
    state: State
    detail: str
    #: how long the check took; None for a component that was not called (off, unknown)
    latency_ms: float | None


def probe(component: str, check: Callable[[], Finding]) -> ComponentStatus:
    """Run ``check``, timed. Any exception is the component's failure, whatever its type — a driver's, a client's
    or the network's — and becomes ``down`` with its first line: a health check that raised would hide every row
    after it."""
    start = time.perf_counter()
    try:
        found = check()
    except Exception as error:
        found = Finding(State.DOWN, one_line(error))
    elapsed = round((time.perf_counter() - start) * 1000, 1)
    called = found.state not in (State.OFF, State.UNKNOWN)
    return ComponentStatus(component, found.state, found.detail, elapsed if called else None)


def one_line(error: BaseException) -> str:
    """``Type: first line of the message``: drivers put hints and the failing SQL on later lines."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def age_text(seconds: float) -> str:
    """A duration as people say it: ``45 s``, ``12 min``, ``5.5 h``, ``3 days``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 172800 else f"{seconds / 86400:.0f} days"


def any_down(statuses: Sequence[ComponentStatus]) -> bool:
    return any(s.state is State.DOWN for s in statuses)


def counts(statuses: Sequence[ComponentStatus]) -> dict[str, int]:
    """How many components are in each state, every state named (a zero is a figure the UI can plot)."""
    return {state.value: sum(s.state is state for s in statuses) for state in State}


def format_table(statuses: Sequence[ComponentStatus]) -> str:
    """A fixed-width table for the terminal: component, state, latency, detail."""
    width = max([len("component"), *(len(s.component) for s in statuses)])
    rows = [f"{'component':<{width}}  {'state':<8}  {'ms':>7}  detail"]
    for s in statuses:
        latency = f"{s.latency_ms:.1f}" if s.latency_ms is not None else "-"
        rows.append(f"{s.component:<{width}}  {s.state.value:<8}  {latency:>7}  {s.detail}")
    return "\n".join(rows)


def format_markdown(statuses: Sequence[ComponentStatus]) -> str:
    """The same table in markdown, for the UI (a ``|`` in a detail would end its cell)."""
    rows = ["| component | state | ms | detail |", "|---|---|---:|---|"]
    for s in statuses:
        latency = f"{s.latency_ms:.1f}" if s.latency_ms is not None else "-"
        rows.append(f"| {s.component} | {s.state.value} | {latency} | {s.detail.replace('|', '/')} |")
    return "\n".join(rows)


def to_json(statuses: Sequence[ComponentStatus]) -> str:
    return json.dumps(
        {
            "down": any_down(statuses),
            "components": [
                {"component": s.component, "state": s.state.value, "detail": s.detail, "latency_ms": s.latency_ms}
                for s in statuses
            ],
        },
        indent=2,
    )
