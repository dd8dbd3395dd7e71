"""The code location. Environment is resolved here, once, when Dagster loads the definitions."""

from __future__ import annotations

import dagster as dg

from huracan_core.features.recipe import FeatureRecipe
from huracan_dagster.assets.candles import candle_assets
from huracan_dagster.assets.features import feature_assets
from huracan_dagster.assets.trading import trading_assets
from huracan_dagster.io_manager import PartitionedFrameIOManager
from huracan_dagster.resources import ArchiveResource, CandleSourceResource, UniverseResource
from huracan_dagster.settings import Settings

DAILY_JOB = "daily_pipeline"


def daily_job_name(timeframe: str) -> str:
    """One Engine job per timeframe: ``daily_pipeline_15m``."""
    return f"{DAILY_JOB}_{timeframe}"


def timeframe_assets(timeframe: str) -> list[dg.AssetsDefinition]:
    """The whole chain of one timeframe, every key under the ``<timeframe>/`` prefix."""
    return [*candle_assets(timeframe), *feature_assets(FeatureRecipe.default(timeframe)), *trading_assets(timeframe)]


def build_definitions(settings: Settings) -> dg.Definitions:
    source = CandleSourceResource(spec=settings.source)
    archive = ArchiveResource(root=str(settings.archive_root))
    assets = [a for tf in settings.timeframes for a in timeframe_assets(tf)]
    jobs = [
        dg.define_asset_job(
            daily_job_name(tf), selection=dg.AssetSelection.key_prefixes([tf]),
            description=f"The Engine on {tf} candles: the whole daily pipeline.",
        )
        for tf in settings.timeframes
    ]
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        resources={
            "source": source,
            "archive": archive,
            "universe": UniverseResource(source=source, symbols=list(settings.symbols), top_n=settings.top_n),
            "frames_io": PartitionedFrameIOManager(archive=archive),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
