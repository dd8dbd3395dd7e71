"""The code location. Environment is resolved here, once, when Dagster loads the definitions."""

from __future__ import annotations

import dagster as dg

from huracan_core.features.recipe import FeatureRecipe
from huracan_dagster.assets.candles import candles
from huracan_dagster.assets.features import feature_assets
from huracan_dagster.assets.trading import trading_assets
from huracan_dagster.io_manager import PartitionedFrameIOManager
from huracan_dagster.resources import ArchiveResource, CandleSourceResource
from huracan_dagster.settings import Settings

DAILY_JOB = "daily_pipeline"


def build_definitions(settings: Settings) -> dg.Definitions:
    recipe = FeatureRecipe.default(settings.timeframe)
    archive = ArchiveResource(root=str(settings.archive_root))
    daily = dg.define_asset_job(DAILY_JOB, selection=dg.AssetSelection.all(), description="The Engine: the whole daily pipeline.")
    return dg.Definitions(
        assets=[candles, *feature_assets(recipe), *trading_assets(settings.timeframe)],
        jobs=[daily],
        resources={
            "source": CandleSourceResource(spec=settings.source, timeframe=settings.timeframe),
            "archive": archive,
            "frames_io": PartitionedFrameIOManager(archive=archive, timeframe=settings.timeframe, recipe_hash=recipe.version_hash),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
