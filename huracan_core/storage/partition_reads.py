"""Reading date × symbol partitions straight from the store, for readers whose window Dagster cannot map (a date
partition over every symbol, the Mechanic over the freshest days)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from huracan_core.day_keys import DayKey
from huracan_core.storage.keys import partition_object_key
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore


def read_partitions(
    store: ArtifactStore, asset: str, timeframe: str, keys: Sequence[DayKey], recipe_hash: str = ""
) -> dict[DayKey, pl.DataFrame]:
    """The partitions of ``keys`` that exist; the caller requires what it needs, by name."""
    frames = {}
    for day, symbol in keys:
        key = partition_object_key(asset, symbol=symbol, day=day, timeframe=timeframe, recipe_hash=recipe_hash)
        try:
            frames[(day, symbol)] = store.read_parquet(key)
        except ArtifactNotFound:
            continue
    return frames
