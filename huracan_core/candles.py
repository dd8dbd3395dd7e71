"""Turn a source's candles into validated day partitions: one fetch per symbol, one check per rule.

A whole range of days is fetched and validated per symbol in one pass (not day by day) because per-partition
overhead dominates short days; the result is still one frame and one anomaly report per (day, symbol).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import polars as pl

from huracan_core.sources.base import CandleFetchError, CandleSource
from huracan_core.symbols import to_key
from huracan_core.timeframes import timeframe_delta
from huracan_core.validation import (
    CandleAnomalies,
    CandleValidationError,
    Problem,
    find_anomalies,
    validate_candles,
)
from huracan_core.validation.drift import has_usable_timestamp
from huracan_core.validation.problems import abbreviated

#: trailing bars fetched before the first day so the extreme-print check has an ATR from the first bar on
HISTORY_BARS = 14


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class CandlePartition:
    day: date
    symbol: str
    frame: pl.DataFrame
    anomalies: CandleAnomalies

    def summary(self) -> dict[str, Any]:
        ts = self.frame["timestamp"]
        return {
            "rows": self.frame.height,
            "first_timestamp": cast(datetime, ts.min()).isoformat() if self.frame.height else None,
            "last_timestamp": cast(datetime, ts.max()).isoformat() if self.frame.height else None,
            "missing_candles": len(self.anomalies.missing),
            "zero_volume_candles": len(self.anomalies.zero_volume),
            "extreme_prints": len(self.anomalies.extreme),
        }


def load_candle_partitions(
    source: CandleSource,
    timeframe: str,
    days_by_symbol: Mapping[str, Iterable[date]],
    partition_key: Callable[[date, str], str],
) -> list[CandlePartition]:
    """Fetch, validate and split; raise ``CandleValidationError`` naming every bad partition, return nothing.

    All symbols are validated before anything is returned, so one bad partition fails the whole batch with
    every problem listed, and the caller writes either all partitions or none. A source that cannot deliver
    (an unreadable file, an exchange that keeps failing) raises ``CandleFetchError`` naming the partitions.
    """
    problems: list[Problem] = []
    partitions: list[CandlePartition] = []
    step = timeframe_delta(timeframe)
    for symbol, wanted in sorted(days_by_symbol.items()):
        name = to_key(symbol)
        days = sorted(set(wanted))
        keys = [partition_key(day, name) for day in days]
        start, end = day_start(days[0]), day_start(days[-1] + timedelta(days=1))
        try:
            extended = source.fetch(symbol, timeframe, start - HISTORY_BARS * step, end)
        except CandleFetchError as error:
            raise CandleFetchError(f"{abbreviated(keys)}: {error}") from error
        # a frame whose timestamps are no times cannot be cut into days: the rules judge it whole, on every day
        usable = has_usable_timestamp(extended)
        window = extended.filter(pl.col("timestamp").dt.date().is_in(days)) if usable else extended
        try:
            validate_candles(
                window, timeframe=timeframe, partition_of=lambda d, s=name: partition_key(d, s), partitions=keys
            )
        except CandleValidationError as error:
            problems.extend(error.problems)
            continue
        anomalies = find_anomalies(
            extended,
            timeframe=timeframe,
            window_start=start,
            window_end=end,
            series_start=source.first_timestamp(symbol, timeframe),
        )
        by_day = window.with_columns(pl.col("timestamp").dt.date().alias("_day")).partition_by(
            "_day", as_dict=True, include_key=False
        )
        frames = {key[0]: frame for key, frame in by_day.items()}
        for day in days:
            if day not in frames:
                problems.append(Problem(partition_key(day, name), "timestamp", f"no candles from {source.name}", ()))
                continue
            partitions.append(CandlePartition(day, name, frames[day], _anomalies_of_day(anomalies, day)))
    if problems:
        raise CandleValidationError(problems)
    return partitions


def _anomalies_of_day(anomalies: CandleAnomalies, day: date) -> CandleAnomalies:
    return CandleAnomalies(
        missing=[t for t in anomalies.missing if t.date() == day],
        zero_volume=[t for t in anomalies.zero_volume if t.date() == day],
        extreme=[e for e in anomalies.extreme if e.timestamp.date() == day],
    )
