"""The code location. Environment is resolved here, once, when Dagster loads the definitions."""

from __future__ import annotations

import dagster as dg

from huracan_core.features.recipe import FeatureRecipe
from huracan_core.models.training import ModelConfig
from huracan_core.research.space import load_space
from huracan_core.sources import CandleSource, open_source
from huracan_dagster.dagster_internals import map_inputs_once, store_verdicts_in_batches
from huracan_dagster.defs.alerts import health_alerts_sensor
from huracan_dagster.defs.assets.candles import candle_assets
from huracan_dagster.defs.assets.champions import champion_assets, mechanic_asset
from huracan_dagster.defs.assets.dbt import HuracanDbtResource, dbt_assets_for
from huracan_dagster.defs.assets.exports import analytics_database, export_assets
from huracan_dagster.defs.assets.features import feature_assets
from huracan_dagster.defs.assets.integrity import integrity_checks, integrity_job
from huracan_dagster.defs.assets.learning import learning_assets
from huracan_dagster.defs.assets.market_quotes import market_quote_assets
from huracan_dagster.defs.assets.paper import paper_trades_asset
from huracan_dagster.defs.assets.pattern_health import pattern_health_asset, pattern_review_sensor
from huracan_dagster.defs.assets.reports import report_assets
from huracan_dagster.defs.assets.research import RESEARCH_KEY, research_asset
from huracan_dagster.defs.assets.system_health import system_health_asset, system_health_sensor
from huracan_dagster.defs.assets.trading import trading_assets
from huracan_dagster.defs.automation import (
    automation_sensor,
    encoder_schedule,
    engine_schedule,
    mechanic_sensor,
    research_schedule,
)
from huracan_dagster.defs.broadcaster import (
    broadcaster_from_env,
    broadcaster_sensors,
    telegram_configured,
)
from huracan_dagster.defs.freshness import freshness_checks, freshness_sensor
from huracan_dagster.defs.io_manager import PartitionedFrameIOManager
from huracan_dagster.defs.partitions import DEFAULT_SPACE, PartitionSpace, ResearchWeeks, asset_key
from huracan_dagster.defs.quote_sampler import sampler_definitions
from huracan_dagster.defs.resources import (
    ArchiveResource,
    CandleSourceResource,
    CostsResource,
    ExportsResource,
    MLflowResource,
    ModelSettingsResource,
    PromotionResource,
    UniverseResource,
)
from huracan_dagster.defs.step_executor import step_executor
from huracan_dagster.settings import Settings

DAILY_JOB = "daily_pipeline"
ENCODER_JOB = "shared_encoder"
SUMMARY_JOB = "daily_summary"
MECHANIC_JOB = "mechanic"
#: assets of a timeframe outside its daily date × symbol job (other partitions, or none)
DATE_ASSETS = ("roster", "daily_summary", "exports_daily", "daily_report")
#: the DuckDB file of views (and the dbt marts): one for every timeframe, built by its own job
ANALYTICS_JOB = "analytics"
#: the weekly research search, outside every timeframe's jobs (``huracan run`` never runs it)
RESEARCH_JOB = "research"


def daily_job_name(timeframe: str) -> str:
    """One Engine job per timeframe: ``daily_pipeline_15m``."""
    return f"{DAILY_JOB}_{timeframe}"


def encoder_job_name(timeframe: str) -> str:
    """The date-partitioned shared encoder runs in its own job: a run covers one partitions definition."""
    return f"{ENCODER_JOB}_{timeframe}"


def summary_job_name(timeframe: str) -> str:
    """The date-partitioned roster and daily summary of each day."""
    return f"{SUMMARY_JOB}_{timeframe}"


def mechanic_job_name(timeframe: str) -> str:
    return f"{MECHANIC_JOB}_{timeframe}"


def timeframe_assets(
    timeframe: str,
    train_days: int = ModelConfig().train_days,
    costs_config: CostsResource = CostsResource(),
    space: PartitionSpace = DEFAULT_SPACE,
) -> list[dg.AssetsDefinition]:
    """The whole chain of one timeframe, every key under the ``<timeframe>/`` prefix; ``train_days`` is the
    coin models' trailing window (their partition mapping), ``costs_config`` the costs resource as configured, ``space``
    the days that are partitions."""
    recipe = FeatureRecipe.default(timeframe)
    chain = [
        *candle_assets(timeframe, space),
        *market_quote_assets(timeframe, costs_config, space),
        *feature_assets(recipe, space),
        *learning_assets(timeframe, recipe.version_hash, train_days, costs_config, space),
        *champion_assets(timeframe, recipe.version_hash, train_days, costs_config=costs_config, space=space),
        mechanic_asset(timeframe, recipe.version_hash, train_days),
        *trading_assets(timeframe, costs_config, space),
        paper_trades_asset(timeframe, space),
        *export_assets(timeframe, space),
    ]
    return [*chain, *report_assets(timeframe, sorted({k for a in chain for k in a.check_keys}, key=str), space)]


def partition_space(settings: Settings, source: CandleSource) -> PartitionSpace:
    """The days of the configured source: a recorded one's own (the bundled sample, a replay folder), a live
    exchange's from 2018-01-01 on."""
    return PartitionSpace.of_days(source.recorded_days(settings.timeframes))


def costs_resource(settings: Settings) -> CostsResource:
    """The configured costs (``HURACAN_FEE_PROFILE``, ``HURACAN_ORDER_TYPE``): the resource the assets price with
    and the code versions they carry."""
    return CostsResource(fee_profile=settings.fee_profile, order_type=settings.order_type)


def resources(settings: Settings) -> dict[str, object]:
    """Every resource the assets use, configured from the settings (the UI's launchpad can override them)."""
    source = CandleSourceResource(spec=settings.source)
    archive = ArchiveResource(root=str(settings.archive_root), s3_url=settings.s3_url, s3_endpoint=settings.s3_endpoint)
    return {
        "source": source,
        "archive": archive,
        "universe": UniverseResource(source=source, symbols=list(settings.symbols), top_n=settings.top_n),
        "frames_io": PartitionedFrameIOManager(archive=archive),
        "costs": costs_resource(settings),
        "models": ModelSettingsResource(
            gate_profile=settings.gate_profile,
            encoder_device=settings.encoder_device,
            retrain_every_days=settings.retrain_every_days,
        ),
        "mlflow": mlflow_resource(settings),
        "promotion": PromotionResource(),
        "broadcaster": broadcaster_from_env(settings.env),
        "analytics": ExportsResource.for_home(settings.home),
        "dbt": HuracanDbtResource.for_home(settings.home, settings.archive_root),
    }


def mlflow_resource(settings: Settings) -> MLflowResource:
    """MLflow's artifacts beside the Archive's: under ``<HURACAN_S3_URL>/mlflow`` when it is on S3."""
    artifacts = f"{settings.s3_url}/mlflow" if settings.s3_url else ""
    return MLflowResource.for_home(settings.home, settings.mlflow_uri, artifacts, settings.s3_endpoint)


def research_definitions(
    settings: Settings, space: PartitionSpace, source: str
) -> tuple[dg.AssetsDefinition, dg.UnresolvedAssetJobDefinition, dg.ScheduleDefinition]:
    """The research search (``HURACAN_RESEARCH_SPACE``, ``HURACAN_RESEARCH_DAYS``), its job and its weekly schedule
    (``HURACAN_RESEARCH_CRON``), which runs only when the Engine's do (``HURACAN_AUTOMATION``)."""
    weeks = ResearchWeeks.of(space, settings.research_days)
    asset = research_asset(
        load_space(settings.research_space),
        weeks,
        universe_timeframe=settings.timeframe,
        cache=settings.home / "research" / "cache",
        chain_timeframes=settings.timeframes,
    )
    job = dg.define_asset_job(
        RESEARCH_JOB,
        selection=dg.AssetSelection.assets(RESEARCH_KEY),
        description="The research search of one week: every candidate of the space, judged and corrected.",
    )
    return asset, job, research_schedule(job, settings.research_cron, settings.automation, weeks=weeks, source=source)


def build_definitions(settings: Settings) -> dg.Definitions:
    map_inputs_once()  # every process that runs steps builds these definitions first
    store_verdicts_in_batches()
    source = open_source(settings.source)
    space = partition_space(settings, source)
    assets = [
        a
        for tf in settings.timeframes
        for a in timeframe_assets(tf, costs_config=costs_resource(settings), space=space)
    ]
    dbt = {tf: dbt_assets_for(tf) for tf in settings.timeframes}
    analytics = [analytics_database(settings.timeframe, list(dbt[settings.timeframe].keys))]
    research, research_job, research_weekly = research_definitions(settings, space, source.name)
    assets += [*dbt.values(), *analytics, research]
    running = settings.automation
    sampler_jobs, schedules = sampler_definitions(source, running)
    jobs: list[dg.JobDefinition | dg.UnresolvedAssetJobDefinition] = [*sampler_jobs, research_job]
    schedules.append(research_weekly)
    sensors, checks = [], []
    for tf in settings.timeframes:
        sweeps = integrity_checks(tf)
        checks += sweeps
        sweep_job, sweep_schedule = integrity_job(tf, sweeps)
        encoder = dg.AssetSelection.assets(asset_key(tf, "shared_encoder"))
        dated = dg.AssetSelection.assets(*(asset_key(tf, n) for n in DATE_ASSETS))
        mechanic = dg.AssetSelection.assets(asset_key(tf, "challengers"))
        daily = dg.define_asset_job(
            daily_job_name(tf),
            selection=(
                dg.AssetSelection.key_prefixes([tf])
                - encoder
                - dated
                - mechanic
                - dg.AssetSelection.key_prefixes([tf, "dbt"])
                - dg.AssetSelection.checks(*sweeps)
            ),
            description=f"The Engine on {tf} candles: the whole daily date × symbol pipeline.",
        )
        encoder_job = dg.define_asset_job(
            encoder_job_name(tf), selection=encoder, description=f"The {tf} shared encoder of each day."
        )
        mechanic_job = dg.define_asset_job(
            mechanic_job_name(tf),
            selection=mechanic,
            description=f"The Mechanic on {tf}: challengers from the freshest data, judged at once.",
        )
        jobs += [
            daily,
            encoder_job,
            mechanic_job,
            sweep_job,
            dg.define_asset_job(
                summary_job_name(tf), selection=dated, description=f"The {tf} roster and daily summary of each day."
            ),
        ]
        schedules += [
            engine_schedule(tf, daily, running, space=space, source=source.name),
            encoder_schedule(tf, encoder_job, running, space=space, source=source.name),
            sweep_schedule,
        ]
        sensors += [mechanic_sensor(tf, mechanic_job, running), automation_sensor(tf, assets)]
    marts = dg.AssetSelection.key_prefixes(*[[tf, "dbt"] for tf in settings.timeframes])
    jobs.append(
        dg.define_asset_job(
            ANALYTICS_JOB,
            selection=dg.AssetSelection.assets(*analytics) | marts,
            description="The analysts' DuckDB file (views over the exports) and the dbt marts.",
        )
    )
    telegram = telegram_configured(settings.env)
    sensors += broadcaster_sensors(enabled=telegram)
    sensors.append(
        health_alerts_sensor(
            settings.timeframes,
            enabled=telegram,
            policy=settings.error_policy,
            risk=settings.risk,
            home=settings.home,
        )
    )
    sensors += [system_health_sensor(settings), pattern_review_sensor(settings)]
    fresh = freshness_checks(settings)
    checks += fresh
    sensors += freshness_sensor(fresh, running)
    return dg.Definitions(
        assets=[*assets, system_health_asset(), pattern_health_asset()],
        asset_checks=checks,
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        resources=resources(settings),
        executor=step_executor(settings),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
