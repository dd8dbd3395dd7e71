"""How often the coin models (and the shared encoder they read) are retrained.

A model of every coin for every day is the most responsive, and over a year's backfill the most expensive: 365
trainings per coin. At a cadence of N days, only the retrain days train; on the days between, the champion in
force simply stays (the champion decision of such a day has no challenger), and the shadow trader keeps trading
it. Retrain days are counted from a Monday (0001-01-01), so a cadence of 7 retrains every Monday, and they are
the same days whichever window a run or backfill covers: a day's partition never depends on where a run began.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

#: 0001-01-01, a Monday: the day retrain days are counted from
_ANCHOR = date.min.toordinal()


@dataclass(frozen=True)
class RetrainCadence:
    every_days: int = 1

    def __post_init__(self) -> None:
        if self.every_days < 1:
            raise ValueError(f"retrain cadence: every {self.every_days} days is not a cadence (give 1 or more)")

    def is_retrain_day(self, day: date) -> bool:
        return (day.toordinal() - _ANCHOR) % self.every_days == 0

    def last_retrain_day(self, day: date) -> date:
        """The retrain day at or before ``day``: whose model is the newest challenger the day could have had."""
        return day - timedelta(days=(day.toordinal() - _ANCHOR) % self.every_days)

    def next_retrain_day(self, day: date) -> date:
        """The first retrain day after ``day``."""
        return self.last_retrain_day(day) + timedelta(days=self.every_days)

    def why_not(self, day: date) -> str:
        """Said by a day that trains nothing, so the UI tells why there is no model."""
        return f"not a retrain day (every {self.every_days} days; last {self.last_retrain_day(day)}, next {self.next_retrain_day(day)})"

    def describe(self) -> str:
        if self.every_days == 1:
            return "every day"
        if self.every_days == 7:
            return "every 7 days (Mondays)"
        return f"every {self.every_days} days"
