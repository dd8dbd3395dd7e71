"""``exports`` (date × symbol), ``exports_daily`` (date) and ``analytics_db``: what analysts query."""

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from huracan_core.champions.book import ChampionBook
from huracan_core.daily_summary import decisions_of_day
from huracan_core.exports.database import build_database
from huracan_core.exports.rows import (
    SOURCES,
    daily_rows,
    export_partitions,
    promotion_rows,
)
from huracan_core.models.artifacts import read_model_folder
from huracan_core.storage.keys import daily_summary_key, export_key
from huracan_core.versions import source_hash
from huracan_dagster.defs.automation import when_later_data_arrives
from huracan_dagster.defs.metadata import preview, result_with_partition_metadata
from huracan_dagster.defs.partitions import (
    ANALYTICS_POOL,
    CHAIN_BACKFILL,
    DEFAULT_SPACE,
    PartitionSpace,
    asset_key,
    by_day,
    partition_key,
    same_date,
    split_key,
)
from huracan_dagster.defs.resources import ArchiveResource, ExportsResource


def export_assets(timeframe: str, space: PartitionSpace = DEFAULT_SPACE) -> list[dg.AssetsDefinition]:
    keys = {name: asset_key(timeframe, name) for name in SOURCES}

    @dg.asset(
        key=asset_key(timeframe, "exports"),
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
        ins={name: dg.AssetIn(key) for name, key in keys.items()},
        kinds={"duckdb", "parquet"},
        group_name=f"exports_{timeframe}",
        automation_condition=when_later_data_arrives(),
        code_version=source_hash("huracan_core.exports.rows"),
        metadata={"timeframe": timeframe},
        description=(
            "Every source partition as rows of the analysts' tables (candles, features, regimes, signals, "
            "opportunities, trade_history, post_exit_tracking, win_loss_analysis, regime_analysis, pattern_library, "
            "pattern_performance, model_performance, champions), each row with its partition key, Dagster run id, "
            "recipe hash and model version. One object per table and partition under "
            f"`exports/<table>/{timeframe}/<SYMBOL>/<date>.parquet`, replaced whole: exporting again never duplicates. "
            "Exports again by itself when a source partition changes (labels and analysis that waited for the next day)."
        ),
    )
    def exports(
        context: dg.AssetExecutionContext,
        archive: ArchiveResource,
        candles: dict[str, pl.DataFrame],
        features: dict[str, pl.DataFrame],
        regimes: dict[str, pl.DataFrame],
        signals: dict[str, pl.DataFrame],
        labels: dict[str, pl.DataFrame],
        shadow_trades: dict[str, pl.DataFrame],
        trade_analysis: dict[str, pl.DataFrame],
        coin_model: dict[str, pl.DataFrame],
        champion: dict[str, pl.DataFrame],
    ) -> dg.MaterializeResult:
        sources = {
            "candles": candles,
            "features": features,
            "regimes": regimes,
            "signals": signals,
            "labels": labels,
            "shadow_trades": shadow_trades,
            "trade_analysis": trade_analysis,
            "coin_model": coin_model,
            "champion": champion,
        }
        store = archive.store()
        wanted = [split_key(k) for k in context.partition_keys]
        folders = {row["folder"] for frame in sources["coin_model"].values() for row in frame.iter_rows(named=True)}
        metrics = {f: _metrics(store, f) for f in sorted(folders)}
        tables = export_partitions(
            {name: by_day(frames) for name, frames in sources.items()},
            wanted,
            timeframe,
            runs=_source_runs(context, keys, context.partition_keys),
            metrics=metrics,
        )
        store.write_parquets(
            (export_key(table, timeframe, day, symbol), frame)
            for (day, symbol), frames in tables.items()
            for table, frame in frames.items()
        )
        metadata = {}
        for (day, symbol), frames in tables.items():
            metadata[partition_key(day, symbol)] = {
                **{f"rows_{t}": f.height for t, f in frames.items()},
                "trade_history": preview(
                    frames["trade_history"].select("entry_time", "direction", "net_bps", "policy", "model_version")
                ),
            }
        return result_with_partition_metadata(context, metadata)

    @dg.asset(
        key=asset_key(timeframe, "exports_daily"),
        partitions_def=space.dates,
        backfill_policy=CHAIN_BACKFILL,
        deps=[
            dg.AssetDep(asset_key(timeframe, "daily_summary")),
            dg.AssetDep(keys["champion"], partition_mapping=same_date()),
        ],
        kinds={"duckdb", "parquet"},
        group_name=f"exports_{timeframe}",
        automation_condition=dg.AutomationCondition.eager(),
        code_version=source_hash("huracan_core.exports.rows"),
        metadata={"timeframe": timeframe},
        description=(
            "The day's summary (a row per coin and one 'ALL') and the champion decisions that took effect that day "
            f"(from `champions/promotions.jsonl`), as `exports/daily_summary/{timeframe}/<date>.parquet` and "
            f"`exports/promotions/{timeframe}/<date>.parquet`, replaced whole."
        ),
    )
    def exports_daily(context: dg.AssetExecutionContext, archive: ArchiveResource) -> dg.MaterializeResult:
        store = archive.store()
        history = ChampionBook(store, timeframe).history()
        rows = {}
        for day in (date.fromisoformat(k) for k in context.partition_keys):
            summary = store.read_json(daily_summary_key(timeframe, day))
            frames = {
                "daily_summary": daily_rows(
                    day, timeframe, summary, _run_of(context, asset_key(timeframe, "daily_summary"), day.isoformat())
                ),
                "promotions": promotion_rows(day, timeframe, decisions_of_day(history, day)),
            }
            for table, frame in frames.items():
                store.write_parquet(export_key(table, timeframe, day), frame)
            rows[day.isoformat()] = {f"rows_{t}": f.height for t, f in frames.items()}
        return result_with_partition_metadata(context, rows)

    return [exports, exports_daily]


def analytics_database(timeframe: str, upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """One DuckDB file for every timeframe's exports and the marts; built from the primary timeframe's chain."""

    @dg.asset(
        key=dg.AssetKey("analytics_db"),
        pool=ANALYTICS_POOL,
        deps=[asset_key(timeframe, "exports"), asset_key(timeframe, "exports_daily"), *upstream],
        kinds={"duckdb"},
        group_name="analytics",
        code_version=source_hash("huracan_core.exports.database", "huracan_core.exports.tables"),
        description=(
            "`HURACAN_HOME/exports/huracan.duckdb`: a VIEW (with COMMENTs on it and its columns) per export table over "
            "its parquet, `model_evolution`, and one per dbt mart. It holds no data, so exports never touch it; it is "
            "rebuilt in a temporary file and renamed over the old one, so an analyst can keep it open read-only."
        ),
    )
    def analytics_db(
        context: dg.AssetExecutionContext, archive: ArchiveResource, analytics: ExportsResource
    ) -> dg.MaterializeResult:
        views = build_database(
            Path(analytics.database), archive.local_folder("exports/"), Path(analytics.marts) / timeframe
        )
        table = pl.DataFrame({"view": list(views), "reads": list(views.values())})
        return dg.MaterializeResult(
            metadata={
                "database": dg.MetadataValue.path(analytics.database),
                "views": sum(v != "not exported yet" for v in views.values()),
                "connect": dg.MetadataValue.md(f"```\nduckdb -readonly {analytics.database}\n```"),
                "view_list": preview(table, rows=50),
            }
        )

    return analytics_db


def _metrics(store, folder: str) -> dict:
    """``metrics.json`` of a model folder, verified with the rest of it against ``sha256.txt``."""
    import json

    return json.loads(read_model_folder(store, folder)["metrics.json"])


def _source_runs(context: dg.AssetExecutionContext, keys: dict[str, dg.AssetKey], partitions: Sequence[str]) -> dict:
    """The run that materialized each source partition (one event-log query per source asset)."""
    runs = {}
    for name, key in keys.items():
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(partitions)), limit=len(partitions) * 4
        ).records
        for record in records:  # newest first
            assert record.partition_key is not None  # fetched by partition
            runs.setdefault((name, split_key(record.partition_key)), record.run_id)
    return runs


def _run_of(context: dg.AssetExecutionContext, key: dg.AssetKey, partition: str) -> str:
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
    ).records
    return records[0].run_id if records else ""
