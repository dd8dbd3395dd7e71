"""Features of day partitions, computed with trailing history so a day equals one continuous computation.

Each (day, symbol) partition gets the features of its own bars, computed over ``recipe.history_bars`` of earlier
candles (enough for every recursive indicator to converge to 1e-9) and with the other symbols of the same dates
as the cross-asset universe. Too little history is not an error: the values that cannot be defined are null,
and the partition says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey, require
from huracan_core.features.causality import CausalityReport, check_causality
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.symbols import to_key
from huracan_core.timeframes import timeframe_delta


@dataclass(frozen=True)
class FeaturePartition:
    day: date
    symbol: str
    frame: pl.DataFrame
    history_bars: int
    null_reasons: dict[str, str]


@dataclass(frozen=True)
class FeatureBatch:
    """The partitions of one run, and the stitched candle series they were computed from (for the proof)."""

    parts: list[FeaturePartition]
    series: dict[str, pl.DataFrame]


def history_days(recipe: FeatureRecipe) -> int:
    """Whole days of earlier candle partitions that cover ``recipe.history_bars``."""
    span = timeframe_delta(recipe.timeframe) * recipe.history_bars
    return -(-span // timedelta(days=1))


def stitch(candles: Mapping[DayKey, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Day frames -> one sorted frame per symbol."""
    by_symbol: dict[str, list[pl.DataFrame]] = {}
    for (_, symbol), frame in sorted(candles.items()):
        by_symbol.setdefault(to_key(symbol), []).append(frame)
    return {s: pl.concat(frames, how="diagonal_relaxed").sort("timestamp") for s, frames in by_symbol.items()}


def compute_feature_partitions(
    recipe: FeatureRecipe,
    candles: Mapping[DayKey, pl.DataFrame],
    wanted: Sequence[DayKey],
) -> FeatureBatch:
    """Features for every ``wanted`` (day, symbol); ``candles`` holds those days plus their history days.

    Raises ``MissingPartitionError`` listing every wanted partition whose own candles are absent.
    """
    require("candles", candles, wanted)
    series = stitch(candles)
    features = recipe.compute_many(series)
    out = []
    for day, symbol in sorted(wanted):
        key = to_key(symbol)
        start, end = day_start(day), day_start(day + timedelta(days=1))
        in_day = pl.col("timestamp").is_between(start, end, closed="left")
        history = series[key].filter(pl.col("timestamp") < start).height
        frame = features[key].filter(in_day)
        reasons = recipe.null_reasons(frame, symbol=key, reference=series.get(to_key(recipe.reference_symbol)), universe=series)
        if history < recipe.history_bars:
            reasons["history"] = f"{history} bars of history < {recipe.history_bars} needed: early values may be null or not yet converged"
        out.append(FeaturePartition(day, key, frame, history, reasons))
    return FeatureBatch(out, series)


def prove_causality(recipe: FeatureRecipe, batch: FeatureBatch, samples: int) -> dict[DayKey, CausalityReport]:
    """The causality proof on a live run: ``samples`` bar times of each symbol's last partition.

    One partition per symbol keeps the cost bounded and still catches a feature that peeks.
    """
    last = {p.symbol: p for p in sorted(batch.parts, key=lambda p: p.day)}
    return {
        (p.day, p.symbol): sampled_causality(recipe, batch.series, p.symbol, sample_timestamps(p.frame, samples))
        for p in last.values()
    }


def sampled_causality(
    recipe: FeatureRecipe, series: Mapping[str, pl.DataFrame], symbol: str, timestamps: Sequence[datetime]
) -> CausalityReport:
    """The causality proof at a few timestamps of a live partition: reference and universe truncated too."""
    key = to_key(symbol)

    def compute(candles: pl.DataFrame) -> pl.DataFrame:
        cutoff = candles["timestamp"].max()
        others = {s: f.filter(pl.col("timestamp") <= cutoff) for s, f in series.items()}
        return recipe.compute(candles, symbol=key, reference=others.get(to_key(recipe.reference_symbol)), universe=others)

    return check_causality(compute, series[key], timestamps)


def sample_timestamps(frame: pl.DataFrame, count: int) -> list[datetime]:
    """Evenly spaced bar times of a partition (deterministic), the last bar always included."""
    times = frame["timestamp"].to_list()
    if not times:
        return []
    step = max(1, len(times) // count)
    return sorted(set(times[::step][: count - 1] + [times[-1]]))
