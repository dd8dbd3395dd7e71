"""Reads and writes date × symbol frames through the Archive, one parquet object per partition.

Assets hand over ``{partition_key: frame}`` for every partition of the run (one run covers a whole range), and
receive the same shape for their inputs, so a ranged run needs one load and one write per partition. Which
timeframe (and feature recipe) an object belongs to comes from the asset's own definition metadata, so assets
of several timeframes share one IO manager and never touch each other's objects.
"""

from collections.abc import Mapping

import dagster as dg
import polars as pl

from huracan_core.day_keys import DayKey
from huracan_core.storage.keys import partition_object_key
from huracan_core.storage.partition_reads import read_partitions as partitions_in_store
from huracan_core.storage.store import ArtifactNotFound
from huracan_dagster.dagster_internals import record_partitions_in_key_order
from huracan_dagster.defs.partitions import split_key
from huracan_dagster.defs.resources import ArchiveResource


class PartitionedFrameIOManager(dg.ConfigurableIOManager):
    archive: dg.ResourceDependency[ArchiveResource]

    @staticmethod
    def _key(asset_name: str, partition: str, definition: Mapping) -> str:
        day, symbol = split_key(partition)
        return partition_object_key(
            asset_name,
            symbol=symbol,
            day=day,
            timeframe=str(definition["timeframe"]),
            recipe_hash=str(definition.get("recipe_hash", "")),
        )

    def handle_output(self, context: dg.OutputContext, obj: dict[str, pl.DataFrame]) -> None:
        store = self.archive.store()
        asset = context.asset_key.path[-1]
        wanted = sorted(context.asset_partition_keys)
        missing = [k for k in wanted if k not in obj]
        if missing:
            raise ValueError(f"{asset}: no frame produced for partitions {missing}")
        store.write_parquets((self._key(asset, key, context.definition_metadata), obj[key]) for key in wanted)
        record_partitions_in_key_order(context)  # the newest day recorded last: the UI's latest

    def load_input(self, context: dg.InputContext) -> dict[str, pl.DataFrame]:
        """Every upstream partition that exists; history partitions before the data's start are simply absent.

        The consuming core function decides whether what is absent matters (and says so by name).
        """
        store = self.archive.store()
        asset = context.asset_key.path[-1]
        upstream = context.upstream_output
        assert upstream is not None  # an asset's input: the output of the upstream asset
        definition = upstream.definition_metadata
        frames: dict[str, pl.DataFrame] = {}
        for key in sorted(context.asset_partition_keys):
            object_key = self._key(asset, key, definition)
            try:
                frames[key] = store.read_parquet(object_key)
            except ArtifactNotFound:
                continue
            except Exception as error:  # a damaged object must name itself, whatever the reader raised
                raise OSError(f"{asset} partition {key}: cannot read {store.uri(object_key)} ({error})") from error
        return frames


def read_partitions(
    archive: ArchiveResource, asset: str, timeframe: str, keys: list[DayKey], recipe_hash: str = ""
) -> dict[DayKey, pl.DataFrame]:
    """The partitions of ``keys`` that exist, for an asset whose declared window Dagster cannot map (a date
    partition reading a window of date × symbol partitions); the caller requires what it needs, by name."""
    return partitions_in_store(archive.store(), asset, timeframe, keys, recipe_hash)
