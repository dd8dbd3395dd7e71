"""Real anomalies that are reported, never dropped or filled: gaps, flat zero-volume candles, extreme prints.

These become warning asset checks. The data stays as the exchange published it; a model or filter downstream
decides what to do with it, knowing it is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from huracan_core.timeframes import timeframe_delta


@dataclass(frozen=True)
class ExtremePrint:
    timestamp: datetime
    bar_range: float
    trailing_atr: float

    @property
    def ratio(self) -> float:
        return self.bar_range / self.trailing_atr


@dataclass(frozen=True)
class CandleAnomalies:
    missing: list[datetime] = field(default_factory=list)
    zero_volume: list[datetime] = field(default_factory=list)
    extreme: list[ExtremePrint] = field(default_factory=list)


def find_anomalies(
    frame: pl.DataFrame,
    *,
    timeframe: str,
    window_start: datetime,
    window_end: datetime,
    series_start: datetime | None = None,
    extreme_ratio: float = 10.0,
    atr_period: int = 14,
) -> CandleAnomalies:
    """Anomalies of the candles whose open time lies in ``[window_start, window_end)``.

    ``frame`` may reach back before the window: those rows give the trailing ATR for the first bars of the day.
    Missing candles are counted from ``series_start`` (the listing) on, so a pair listed mid-day is no gap.
    A print is extreme when its range exceeds ``extreme_ratio`` × the mean true range of the ``atr_period``
    bars before it (the bar itself is excluded, or a crash would hide inside its own average).
    """
    step = timeframe_delta(timeframe)
    prev_close = pl.col("close").shift(1)
    true_range = pl.max_horizontal(
        pl.col("high") - pl.col("low"), (pl.col("high") - prev_close).abs(), (pl.col("low") - prev_close).abs()
    )
    scored = frame.sort("timestamp").with_columns(
        (pl.col("high") - pl.col("low")).alias("_range"),
        true_range.shift(1).rolling_mean(atr_period).alias("_atr"),
    )
    day = scored.filter((pl.col("timestamp") >= window_start) & (pl.col("timestamp") < window_end))

    grid_start = max(window_start, series_start) if series_start else window_start
    last_present = day["timestamp"].max() if day.height else None
    expected = (
        pl.datetime_range(grid_start, window_end - step, step, eager=True, time_zone="UTC")
        if grid_start < window_end
        else []
    )
    present = set(day["timestamp"].to_list())
    # candles after the last one received may simply not exist yet (today's partition): only inner holes count
    missing = [t for t in expected if t not in present and (last_present is None or t < last_present)]

    zero = day.filter(pl.col("volume") == 0)["timestamp"].to_list()
    extreme_rows = day.filter(
        pl.col("_atr").is_not_null() & (pl.col("_atr") > 0) & (pl.col("_range") > extreme_ratio * pl.col("_atr"))
    )
    extreme = [ExtremePrint(r["timestamp"], r["_range"], r["_atr"]) for r in extreme_rows.iter_rows(named=True)]
    return CandleAnomalies(missing=missing, zero_volume=zero, extreme=extreme)
