"""Features of day partitions, computed with trailing history so a day equals one continuous computation.

Each (day, symbol) partition gets the features of its own bars, computed over ``recipe.history_bars`` of earlier
candles (enough for every recursive indicator to converge to 1e-9), against the reference and the universe that
are *declared* for its day over the same window. It reads nothing else, so it is the same bytes in a fresh
HURACAN_HOME and in a busy one. Too little history is not an error: the values that cannot be defined are null,
and the partition says why; a declared input without candles is an error naming it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey, MissingPartitionError, label, last_per_symbol, require
from huracan_core.features import cross_asset
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
    #: the declared universe that ``rs_rank`` ranked against (sorted keys) and its hash, stored in the frame
    universe: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureBatch:
    """The partitions of one run, and per partition the exact candle windows they were computed from (for the proof)."""

    parts: list[FeaturePartition]
    windows: dict[DayKey, PartitionInputs]


@dataclass(frozen=True)
class PartitionInputs:
    """Everything one partition reads: its own candles, the reference's and the universe members', each over
    the partition's day and its ``history_days`` before it — nothing else, whatever else the archive holds."""

    candles: pl.DataFrame
    reference: pl.DataFrame | None
    universe: dict[str, pl.DataFrame]


def history_days(recipe: FeatureRecipe) -> int:
    """Whole days of earlier candle partitions that cover ``recipe.history_bars``."""
    span = timeframe_delta(recipe.timeframe) * recipe.history_bars
    return -(-span // timedelta(days=1))


def universe_hash(members: Sequence[str]) -> str:
    """Short hash of a universe (order-free), stored beside ``recipe_hash`` in every feature row."""
    return hashlib.sha256(",".join(sorted(to_key(m) for m in members)).encode()).hexdigest()[:12]


def compute_feature_partitions(
    recipe: FeatureRecipe,
    candles: Mapping[DayKey, pl.DataFrame],
    wanted: Sequence[DayKey],
    universes: Mapping[date, Sequence[str]],
) -> FeatureBatch:
    """Features for every ``wanted`` (day, symbol), each a pure function of its declared inputs.

    A partition reads its own candles, the recipe's reference and the members of ``universes[day]`` over the
    same window of days (the day and ``history_days`` before it), so it gives the same bytes whatever other
    symbols or days the archive or the run hold. Raises ``MissingPartitionError`` naming every wanted partition
    whose own candles are absent and every declared member (or reference) missing a day that the partition reads.
    """
    require("candles", candles, wanted)
    keyed = {(day, to_key(symbol)): frame for (day, symbol), frame in candles.items()}
    windows = {
        (day, to_key(symbol)): _inputs(recipe, keyed, day, to_key(symbol), universes) for day, symbol in sorted(wanted)
    }
    lazies = [
        recipe.lazy(
            w.candles,
            symbol=symbol,
            reference=w.reference,
            universe_table=cross_asset.universe_returns(w.universe) if w.universe else None,
            universe_members=list(w.universe),
        )
        for (_, symbol), w in windows.items()
    ]
    out = []
    for ((day, symbol), w), features in zip(windows.items(), pl.collect_all(lazies), strict=True):
        start, end = day_start(day), day_start(day + timedelta(days=1))
        frame = features.filter(pl.col("timestamp").is_between(start, end, closed="left"))
        frame = frame.with_columns(pl.lit(universe_hash(list(w.universe))).alias("universe_hash"))
        history = w.candles.filter(pl.col("timestamp") < start).height
        reasons = recipe.null_reasons(frame, symbol=symbol, reference=w.reference, universe=w.universe)
        if history < recipe.history_bars:
            reasons["history"] = (
                f"{history} bars of history < {recipe.history_bars} needed: early values may be null or not yet converged"
            )
        out.append(FeaturePartition(day, symbol, frame, history, reasons, tuple(w.universe)))
    return FeatureBatch(out, windows)


def _inputs(
    recipe: FeatureRecipe,
    candles: Mapping[DayKey, pl.DataFrame],
    day: date,
    symbol: str,
    universes: Mapping[date, Sequence[str]],
) -> PartitionInputs:
    if day not in universes:
        raise MissingPartitionError(f"features {label((day, symbol))}: no universe declared for {day.isoformat()}")
    days = [day - timedelta(days=n) for n in range(history_days(recipe), -1, -1)]
    own_days = [d for d in days if (d, symbol) in candles]
    members = sorted({to_key(m) for m in universes[day]})
    reference = to_key(recipe.reference_symbol)
    needed = sorted({*members, reference} - {symbol})
    absent = {m: [d for d in own_days if (d, m) not in candles] for m in needed}
    absent = {m: ds for m, ds in absent.items() if ds}
    if absent:
        lines = "; ".join(f"{m} ({_days(ds)})" for m, ds in absent.items())
        raise MissingPartitionError(
            f"features {label((day, symbol))}: declared inputs without candles: {lines} — the universe of "
            f"{day.isoformat()} is {', '.join(members) or 'empty'} and the reference is {reference}; materialize their candles first"
        )

    series = {
        s: pl.concat([candles[(d, s)] for d in own_days], how="diagonal_relaxed").sort("timestamp")
        for s in {symbol, reference, *members}
    }
    return PartitionInputs(
        series[symbol], None if reference == symbol else series[reference], {m: series[m] for m in members}
    )


def _days(days: Sequence[date]) -> str:
    return days[0].isoformat() if len(days) == 1 else f"{len(days)} days, {days[0].isoformat()}..{days[-1].isoformat()}"


def prove_causality(recipe: FeatureRecipe, batch: FeatureBatch, samples: int) -> dict[DayKey, CausalityReport]:
    """The causality proof on a live run: ``samples`` bar times of each symbol's last partition of the run.

    One partition per symbol keeps the cost bounded (a few truncated recomputations per symbol, whatever the
    range) and still catches a feature that peeks: a peeking expression peeks on every day.
    """
    frames = {(p.day, p.symbol): p.frame for p in batch.parts}
    return {
        key: sampled_causality(recipe, batch.windows[key], key[1], sample_timestamps(frames[key], samples))
        for key in last_per_symbol(frames)
    }


def sampled_causality(
    recipe: FeatureRecipe, inputs: PartitionInputs, symbol: str, timestamps: Sequence[datetime]
) -> CausalityReport:
    """The causality proof at a few timestamps of a live partition: reference and universe truncated too."""
    key = to_key(symbol)

    def compute(candles: pl.DataFrame) -> pl.DataFrame:
        cutoff = candles["timestamp"].max()
        cut = pl.col("timestamp") <= cutoff
        reference = inputs.reference.filter(cut) if inputs.reference is not None else None
        universe = {s: f.filter(cut) for s, f in inputs.universe.items()}
        return recipe.compute(candles, symbol=key, reference=reference, universe=universe or None)

    return check_causality(compute, inputs.candles, timestamps)


def sample_timestamps(frame: pl.DataFrame, count: int) -> list[datetime]:
    """Evenly spaced bar times of a partition (deterministic), the last bar always included."""
    times = frame["timestamp"].to_list()
    if not times:
        return []
    step = max(1, len(times) // count)
    return sorted({*times[::step][: count - 1], times[-1]})
