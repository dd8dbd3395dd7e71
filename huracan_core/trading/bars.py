"""Per-day frames of one symbol joined into one bar frame: what every consumer of candles, features and regimes reads."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

import polars as pl

T = TypeVar("T")

#: the regime columns the trader reads; the scores stay in the regimes asset (they are not entry features)
REGIME_COLUMNS = ("regime", "regime_confidence")
#: columns of a features partition that say where its values come from, not what they are
LINEAGE_COLUMNS = ("recipe_hash", "universe_hash")


def join_bars(
    candles: Sequence[pl.DataFrame],
    features: Sequence[pl.DataFrame],
    regimes: Sequence[pl.DataFrame],
    *,
    day: str | None = None,
) -> pl.DataFrame:
    """Candles joined with features and regime on timestamp (candles lead: a bar without features keeps nulls),
    from per-day frames in any order.

    ``day``: a column of every frame that holds several joins at once (each value's frames joined apart)."""
    on = [day, "timestamp"] if day else ["timestamp"]
    bars = pl.concat(list(candles), how="vertical_relaxed").unique(on, keep="last").sort(on)
    if features:
        feats = pl.concat(list(features), how="vertical_relaxed").drop(LINEAGE_COLUMNS, strict=False)
        bars = bars.join(feats.unique(on, keep="last"), on=on, how="left")
    if regimes:
        regs = pl.concat(list(regimes), how="vertical_relaxed").select(*on, *REGIME_COLUMNS)
        bars = bars.join(regs.unique(on, keep="last"), on=on, how="left")
    return bars.sort(on)


def schema_groups(
    items: Iterable[T],
    frames: Callable[[T], Sequence[pl.DataFrame]],
    *,
    apart: Callable[[T], Hashable] = lambda _: None,
) -> list[list[T]]:
    """``items`` grouped so that within a group each position of ``frames(item)`` has one schema (and one
    ``apart(item)``, for what must also keep items apart: the symbol, or the item itself to stand alone); the
    groups in order of first appearance, each's items in their order.

    Why: a ``pl.concat`` of frames whose schemas differ casts them (or fails), so a group's frames concatenate
    exactly as each item's do alone, and joining items to pay polars' overhead once changes no item's result."""
    groups: dict[Hashable, list[T]] = {}
    for item in items:  # a frame's columns and dtypes, not its .schema, which costs three times as much
        key = (apart(item), tuple(tuple(zip(frame.columns, frame.dtypes, strict=True)) for frame in frames(item)))
        groups.setdefault(key, []).append(item)
    return list(groups.values())
