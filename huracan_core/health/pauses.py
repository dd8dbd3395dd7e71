"""Pattern pauses as an append-only log in the Archive: every pause and every lift, by whom, why, with the figures.

Nothing is ever removed: the state of a pattern is its newest event, so every action stays in the record and is
undone by the opposite action (a pause by a resume, a resume by a pause). The log is one JSON object rewritten
whole under the store's lock (atomic: a reader sees the old log or the new one).

An action takes effect on the first UTC day that starts after it: a day is traded whole by what was known at its
start, so a pause decided from a day's trades never changes that day, and a backfill of past days is never changed
by a pause decided later (no lookahead).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import numpy as np
import polars as pl

from huracan_core.health.patterns import (
    PatternHealthConfig,
    ledger_patterns,
    pause_alarm,
    recovery_at,
)
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore

Action = Literal["pause", "resume"]


def pauses_key(timeframe: str) -> str:
    return f"health/pattern_pauses/{timeframe}.json"


@dataclass(frozen=True)
class PauseEvent:
    pattern: str
    action: Action
    #: ``cusum`` (the pause test), ``recovery`` (the recovery test), or who acted by hand (``cli:<user>``)
    by: str
    at: datetime
    reason: str
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def effective_from(self) -> date:
        return self.at.astimezone(UTC).date() + timedelta(days=1)

    def to_json(self) -> dict:
        return {**asdict(self), "at": self.at.astimezone(UTC).isoformat()}

    @classmethod
    def from_json(cls, row: dict) -> PauseEvent:
        return cls(**{**row, "at": datetime.fromisoformat(row["at"])})


@dataclass(frozen=True)
class PauseBook:
    events: tuple[PauseEvent, ...] = ()

    def latest(self, pattern: str, on: date | None = None) -> PauseEvent | None:
        """The pattern's newest event (in effect on ``on``, when given)."""
        mine = [e for e in self.events if e.pattern == pattern and (on is None or e.effective_from <= on)]
        return mine[-1] if mine else None

    def paused(self, on: date | None = None) -> dict[str, PauseEvent]:
        """Each paused pattern's pause: in effect on ``on``, or (None) as recorded now."""
        latest = {p: self.latest(p, on) for p in {e.pattern for e in self.events}}
        return {p: e for p, e in sorted(latest.items()) if e is not None and e.action == "pause"}


def load_book(store: ArtifactStore, timeframe: str) -> PauseBook:
    try:
        rows = store.read_json(pauses_key(timeframe))
    except ArtifactNotFound:
        return PauseBook()
    return PauseBook(tuple(PauseEvent.from_json(r) for r in rows["events"]))


def record(store: ArtifactStore, timeframe: str, events: Iterable[PauseEvent]) -> PauseBook:
    """Append ``events`` to the log, each only if it changes its pattern's state (a pause of a paused pattern is
    refused with ``ValueError`` naming the pattern, so a repeated command cannot pile up records)."""
    key = pauses_key(timeframe)
    with store.lock(key):
        book = load_book(store, timeframe)
        added = list(book.events)
        for event in events:
            now = PauseBook(tuple(added)).latest(event.pattern)
            state = now.action if now is not None else "resume"
            if state == event.action:
                raise ValueError(
                    f"pattern {event.pattern} ({timeframe}): already {'paused' if state == 'pause' else 'trading'}"
                    f"{f' since {now.at.isoformat()} by {now.by}' if now else ''}; nothing to {event.action}"
                )
            added.append(event)
        store.write_json(key, {"events": [e.to_json() for e in added]})
        return PauseBook(tuple(added))


def review(
    trades: pl.DataFrame,
    would_be: pl.DataFrame,
    book: PauseBook,
    now: datetime,
    config: PatternHealthConfig = PatternHealthConfig(),
) -> list[PauseEvent]:
    """What the tests decide at ``now``: a pause for each trading pattern whose record since its last lift alarms,
    a lift for each paused pattern whose would-be trades since its pause have recovered.

    ``trades``: the shadow trades that exited before ``now`` (ledger columns); ``would_be``: the trades paused
    patterns would have taken (the same columns). Only trades exited at or before ``now`` are read."""
    out: list[PauseEvent] = []
    paused = book.paused()
    for pattern, net, exits in _records(trades, now):
        if pattern in paused:
            continue
        last = book.latest(pattern)
        start = int(np.searchsorted(exits, _naive_utc(last.at), "right")) if last else 0
        alarm = pause_alarm(net, config, start)
        if alarm is not None:
            figures = {k: float(v) for k, v in asdict(alarm).items() if k != "at"}
            out.append(PauseEvent(pattern, "pause", "cusum", now, alarm.describe(), figures))
    would = {pattern: (net, exits) for pattern, net, exits in _records(would_be, now)}
    for pattern, pause in paused.items():
        if pattern not in would or "history_mean_bps" not in pause.figures:
            continue  # paused by hand: only a hand lifts it
        net, exits = would[pattern]
        since = net[exits > _naive_utc(pause.at)]
        mean, sd = pause.figures["history_mean_bps"], pause.figures["history_sd_bps"]
        at = recovery_at(since, mean, sd, config)
        if at is not None:
            recent = float(since[: at + 1].mean())
            out.append(
                PauseEvent(
                    pattern,
                    "resume",
                    "recovery",
                    now,
                    f"{at + 1} would-be trades since the pause {recent:.1f} bps net on average, back to its history "
                    f"{mean:.1f} ± {sd:.1f}",
                    {"would_be_trades": at + 1, "would_be_mean_bps": recent, "history_mean_bps": mean},
                )
            )
    return out


def _records(trades: pl.DataFrame, now: datetime) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Each pattern's after-cost bps and exit times (UTC, naive) in exit order, of trades exited by ``now``."""
    if trades.height == 0:
        return []
    frame = (
        trades.with_columns(pattern=ledger_patterns(trades), exit_utc=pl.col("exit_time").dt.replace_time_zone(None))
        .filter(pl.col("exit_utc") <= now.astimezone(UTC).replace(tzinfo=None))
        .sort("exit_utc", "trade_id")
    )
    return [
        (str(pattern), group["net_bps"].to_numpy(), group["exit_utc"].to_numpy())
        for (pattern,), group in frame.group_by("pattern", maintain_order=True)
    ]


def _naive_utc(moment: datetime) -> np.datetime64:
    """``moment`` in UTC without its zone: how the records hold exit times."""
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None))
