"""The error monitor: failure rate per day and causes grouped over the instance's finished runs, and the few
conditions worth one alert each — a cause that recurs, a day whose failure rate spikes.

A failed run already gets its own message (the Broadcaster's run-failure sensor). What that message cannot say is
that the same cause failed the nightly run three nights running, or that half of today's runs failed: a trend is
visible only over the history, so it is judged here, as one condition with a stable key, and the alert layer
(``huracan_core.broadcast.alerts``) sends it once until it clears. Pure: the caller hands in the run records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from huracan_core.broadcast.alerts import Alert, Severity

#: a partition key (``2024-12-05|BTC-USDT``, ``2024-12-05``) or a date or time inside a cause: the same failure on
#: another day or coin is the same cause
_PARTITION = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?:\|[A-Za-z0-9_.-]+)?")
_SYMBOL = re.compile(r"\b[A-Z0-9]{2,10}[-_/][A-Z0-9]{2,10}\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_RANGE = re.compile(r" \(partitions? [^)]*\)$")


@dataclass(frozen=True)
class RunOutcome:
    """One finished run as the monitor needs it: when it ended, whether it failed, and its causes (one per failed
    step, ``huracan_dagster.instance.failures.failure_causes``)."""

    run_id: str
    job: str
    ended: datetime
    failed: bool
    causes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorPolicy:
    """When a trend becomes an alert. ``window_days``: the history judged (a cause that stopped recurring clears
    once its runs fall out of it). A cause recurs when it failed at least ``recurring_runs`` runs on at least
    ``recurring_days`` distinct UTC days (one bad backfill that failed ten runs in an hour is one run's story, not a
    trend). A day spikes when at least ``spike_min_runs`` runs finished and the share that failed exceeds
    ``spike_rate`` (two runs, one failed, is not a spike)."""

    window_days: int = 7
    recurring_runs: int = 3
    recurring_days: int = 2
    spike_rate: float = 0.5
    spike_min_runs: int = 4

    def __post_init__(self) -> None:
        for name in ("window_days", "recurring_runs", "recurring_days", "spike_min_runs"):
            if getattr(self, name) < 1:
                raise ValueError(f"error monitor policy: {name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.spike_rate < 1.0:
            raise ValueError(
                f"error monitor policy: spike_rate must be in [0, 1) (at 1 no day could spike), got {self.spike_rate}"
            )


@dataclass(frozen=True)
class DayRate:
    day: date
    runs: int
    failed: int

    @property
    def rate(self) -> float:
        return self.failed / self.runs if self.runs else 0.0


@dataclass(frozen=True)
class CauseGroup:
    """Every failure of one cause (its normalised text) in the window: the runs, the days and an example in full."""

    cause: str
    example: str
    run_ids: tuple[str, ...]
    days: tuple[date, ...]
    jobs: tuple[str, ...]


def cause_key(cause: str) -> str:
    """The cause with its partitions, dates, coins and numbers replaced, so one failure on several days or coins is
    one cause: ``15m/candles: <partition>: candles file missing at candles/<symbol>/#m/<partition>.parquet``."""
    text = _RANGE.sub("", cause.strip())
    text = _PARTITION.sub("<partition>", text)
    text = _SYMBOL.sub("<symbol>", text)
    return _NUMBER.sub("#", text)


def in_window(runs: Iterable[RunOutcome], now: datetime, policy: ErrorPolicy) -> list[RunOutcome]:
    """The runs that ended in the last ``window_days`` UTC days, today included."""
    first = now.date() - timedelta(days=policy.window_days - 1)
    return [r for r in runs if first <= r.ended.date() <= now.date()]


def failure_rates(runs: Iterable[RunOutcome]) -> list[DayRate]:
    """Runs and failures per UTC day, oldest first (only days with runs)."""
    per_day: dict[date, list[bool]] = {}
    for run in runs:
        per_day.setdefault(run.ended.date(), []).append(run.failed)
    return [DayRate(day, len(outcomes), sum(outcomes)) for day, outcomes in sorted(per_day.items())]


def cause_groups(runs: Iterable[RunOutcome]) -> list[CauseGroup]:
    """The failed runs' causes grouped by ``cause_key``, most runs first. A run counts once per distinct cause."""
    found: dict[str, list[tuple[RunOutcome, str]]] = {}
    for run in sorted((r for r in runs if r.failed), key=lambda r: r.ended):
        causes = run.causes or ("no failure recorded",)
        for key in dict.fromkeys(cause_key(c) for c in causes):
            example = next(c for c in causes if cause_key(c) == key)
            found.setdefault(key, []).append((run, example))
    groups = [
        CauseGroup(
            cause=key,
            example=hits[-1][1],
            run_ids=tuple(r.run_id for r, _ in hits),
            days=tuple(sorted({r.ended.date() for r, _ in hits})),
            jobs=tuple(sorted({r.job for r, _ in hits})),
        )
        for key, hits in found.items()
    ]
    return sorted(groups, key=lambda g: (-len(g.run_ids), g.cause))


def error_alerts(runs: Sequence[RunOutcome], now: datetime, policy: ErrorPolicy) -> list[Alert]:
    """The conditions standing now: one warning per recurring cause, one critical alert while today's failure rate
    spikes. Their keys depend on the cause or the day only, never on the runs, so a condition that stands for a week
    is the same condition every tick (the alert layer sends it once)."""
    recent = in_window(runs, now, policy)
    alerts = []
    for group in cause_groups(recent):
        if len(group.run_ids) >= policy.recurring_runs and len(group.days) >= policy.recurring_days:
            alerts.append(
                Alert(
                    key=f"errors/recurring/{group.cause}",
                    severity=Severity.WARNING,
                    text=(
                        f"recurring failure: {len(group.run_ids)} runs on {len(group.days)} day{'s' if len(group.days) != 1 else ''} "
                        f"({group.days[0]}..{group.days[-1]}; {', '.join(group.jobs)}): {group.example}"
                    ),
                )
            )
    today = next((d for d in failure_rates(recent) if d.day == now.date()), None)
    if today and today.runs >= policy.spike_min_runs and today.rate > policy.spike_rate:
        alerts.append(
            Alert(
                key=f"errors/spike/{today.day}",
                severity=Severity.CRITICAL,
                text=(
                    f"failure spike on {today.day}: {today.failed} of {today.runs} runs failed "
                    f"({100 * today.rate:.0f}% > {100 * policy.spike_rate:.0f}%)"
                ),
            )
        )
    return alerts
