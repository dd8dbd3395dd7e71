"""Features of day partitions: each a pure function of its declared window, many computed in one pass.

Each (day, symbol) partition gets the features of its own bars, computed over ``recipe.history_days`` days of
earlier candles, against the reference and the universe *declared* for its day over the same window. Every feature
reads a bounded span of bars before the day (``FeatureRecipe.history_bars``: rolling windows summed afresh per row,
recursive averages restarted per day, cumulative lines over whole days — ``features.rolling``, ``smoothing``), so a
range of days is computed in one vectorised pass per symbol and each day's rows have exactly the bytes that day
gets computed alone: the range is an optimisation, never an input. A day whose own window holds fewer bars than
``history_bars`` (the start of the data, a gap) is computed alone, from its window. It reads nothing else, so it is
the same bytes in a fresh HURACAN_HOME and in a busy one. Too little history is not an error: the values that
cannot be defined are null, and the partition says why; a declared input without candles is an error naming it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from huracan_core.day_keys import DayKey, MissingPartitionError, label, last_per_symbol, require
from huracan_core.features import cross_asset
from huracan_core.features.causality import CausalityReport, check_causality
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.symbols import to_key


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
    """The partitions of one run, and the candle windows of those the causality proof samples (each symbol's last)."""

    parts: list[FeaturePartition]
    windows: dict[DayKey, PartitionInputs]


@dataclass(frozen=True)
class PartitionInputs:
    """What a pass reads: its symbol's candles, the reference's and the universe members', each over its days and
    the ``history_days`` before the first — for one partition, exactly its declared window."""

    candles: pl.DataFrame
    reference: pl.DataFrame | None
    universe: dict[str, pl.DataFrame]


@dataclass(frozen=True)
class _Pass:
    """Consecutive days of one symbol with one declared universe, computed together."""

    symbol: str
    days: list[date]
    members: tuple[str, ...]


def history_days(recipe: FeatureRecipe) -> int:
    """Whole days of earlier candle partitions that a day's features read (``FeatureRecipe.history_days``)."""
    return recipe.history_days


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
    keys = sorted({(day, to_key(symbol)) for day, symbol in wanted})
    members = {key: _declared(recipe, keyed, *key, universes) for key in keys}
    passes = _passes(recipe, keyed, keys, members)
    inputs = [_inputs(recipe, keyed, p.symbol, p.days, p.members) for p in passes]
    lazies = [
        recipe.lazy(
            w.candles,
            symbol=p.symbol,
            reference=w.reference,
            universe_table=cross_asset.universe_returns(w.universe) if w.universe else None,
            universe_members=list(w.universe),
        )
        for p, w in zip(passes, inputs, strict=True)
    ]
    out = []
    for p, w, features in zip(passes, inputs, pl.collect_all(lazies), strict=True):
        by_day = features.with_columns(pl.col("timestamp").dt.date().alias("_day")).partition_by(
            "_day", as_dict=True, include_key=False
        )
        for day in p.days:
            frame = by_day.get((day,), features.clear())
            frame = frame.with_columns(pl.lit(universe_hash(p.members)).alias("universe_hash"))
            history = _bars_before(recipe, keyed, day, p.symbol)
            reasons = recipe.null_reasons(frame, symbol=p.symbol, reference=w.reference, universe=w.universe)
            if history < recipe.history_bars:
                reasons["history"] = (
                    f"{history} bars of history < {recipe.history_bars} needed: early values may be null or not yet converged"
                )
            out.append(FeaturePartition(day, p.symbol, frame, history, reasons, p.members))
    proved = last_per_symbol(keys)
    windows = {(day, symbol): _inputs(recipe, keyed, symbol, [day], members[(day, symbol)]) for day, symbol in proved}
    return FeatureBatch(sorted(out, key=lambda part: (part.day, part.symbol)), windows)


def _passes(
    recipe: FeatureRecipe,
    candles: Mapping[DayKey, pl.DataFrame],
    keys: Sequence[DayKey],
    members: Mapping[DayKey, tuple[str, ...]],
) -> list[_Pass]:
    """Runs of consecutive days per symbol with the same declared universe and whole history; other days alone."""
    passes: list[_Pass] = []
    for day, symbol in sorted(keys, key=lambda k: (k[1], k[0])):
        whole = _bars_before(recipe, candles, day, symbol) >= recipe.history_bars
        last = passes[-1] if passes else None
        if (
            whole
            and last is not None
            and last.symbol == symbol
            and last.members == members[(day, symbol)]
            and last.days[-1] == day - timedelta(days=1)
            and _bars_before(recipe, candles, last.days[0], symbol) >= recipe.history_bars
        ):
            last.days.append(day)
        else:
            passes.append(_Pass(symbol, [day], members[(day, symbol)]))
    return passes


def _window(recipe: FeatureRecipe, day: date) -> list[date]:
    """The days a partition reads, oldest first: ``history_days`` before it and itself."""
    return [day - timedelta(days=n) for n in range(history_days(recipe), -1, -1)]


def _bars_before(recipe: FeatureRecipe, candles: Mapping[DayKey, pl.DataFrame], day: date, symbol: str) -> int:
    return sum(candles[(d, symbol)].height for d in _window(recipe, day)[:-1] if (d, symbol) in candles)


def _declared(
    recipe: FeatureRecipe,
    candles: Mapping[DayKey, pl.DataFrame],
    day: date,
    symbol: str,
    universes: Mapping[date, Sequence[str]],
) -> tuple[str, ...]:
    """The universe declared for the partition (sorted keys), once every declared input has its window's candles."""
    if day not in universes:
        raise MissingPartitionError(f"features {label((day, symbol))}: no universe declared for {day.isoformat()}")
    own_days = [d for d in _window(recipe, day) if (d, symbol) in candles]
    members = tuple(sorted({to_key(m) for m in universes[day]}))
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
    return members


def _inputs(
    recipe: FeatureRecipe,
    candles: Mapping[DayKey, pl.DataFrame],
    symbol: str,
    days: Sequence[date],
    members: tuple[str, ...],
) -> PartitionInputs:
    """The candles of ``days`` and the window before the first, for the symbol, the reference and the members."""
    span = [days[0] - timedelta(days=n) for n in range(history_days(recipe), 0, -1)] + list(days)
    own_days = [d for d in span if (d, symbol) in candles]
    reference = to_key(recipe.reference_symbol)
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
        key: sampled_causality(
            recipe,
            batch.windows[key],
            key[1],
            sample_timestamps(frames[key], samples),
            frames[key].drop("universe_hash"),
        )
        for key in last_per_symbol(frames)
    }


def sampled_causality(
    recipe: FeatureRecipe,
    inputs: PartitionInputs,
    symbol: str,
    timestamps: Sequence[datetime],
    stored: pl.DataFrame,
) -> CausalityReport:
    """The causality proof at a few timestamps of a live partition: reference and universe truncated too. The
    partition as computed (``stored``, its recipe's columns) is what the truncated recomputations must match."""
    key = to_key(symbol)

    def compute(candles: pl.DataFrame) -> pl.DataFrame:
        cutoff = candles["timestamp"].max()
        cut = pl.col("timestamp") <= cutoff
        reference = inputs.reference.filter(cut) if inputs.reference is not None else None
        universe = {s: f.filter(cut) for s, f in inputs.universe.items()}
        return recipe.compute(candles, symbol=key, reference=reference, universe=universe or None)

    return check_causality(compute, inputs.candles, timestamps, full=stored)


def sample_timestamps(frame: pl.DataFrame, count: int) -> list[datetime]:
    """Evenly spaced bar times of a partition (deterministic), the last bar always included."""
    times = frame["timestamp"].to_list()
    if not times:
        return []
    step = max(1, len(times) // count)
    return sorted({*times[::step][: count - 1], times[-1]})
