"""``daily_report`` (date): yesterday on one page, `reports/<DATE>/index.html` and `daily_report.json`."""

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from huracan_core.exports.database import create_views
from huracan_core.reports import daily_folder, daily_report, write_report
from huracan_core.versions import source_hash
from huracan_dagster.defs.partitions import (
    CHAIN_BACKFILL,
    DEFAULT_SPACE,
    PartitionSpace,
    asset_key,
    same_date,
)
from huracan_dagster.defs.resources import ArchiveResource, ExportsResource
from huracan_dagster.instance.check_verdicts import failed_check_rows


def report_assets(
    timeframe: str, checks: list[dg.AssetCheckKey], space: PartitionSpace = DEFAULT_SPACE
) -> list[dg.AssetsDefinition]:
    """``checks``: the chain's checks, whose failed verdicts on the day the report lists."""

    @dg.asset(
        key=asset_key(timeframe, "daily_report"),
        partitions_def=space.dates,
        backfill_policy=CHAIN_BACKFILL,
        deps=[
            dg.AssetDep(asset_key(timeframe, "exports_daily")),
            dg.AssetDep(asset_key(timeframe, "exports"), partition_mapping=same_date()),
        ],
        kinds={"html"},
        group_name=f"exports_{timeframe}",
        automation_condition=dg.AutomationCondition.eager(),
        code_version=source_hash(
            "huracan_core.reports.daily", "huracan_core.reports.queries", "huracan_core.reports.html"
        ),
        metadata={"timeframe": timeframe},
        description=(
            "The day on one self-contained page (opens offline), `reports/<date>/index.html`, and "
            "`reports/<date>/daily_report.json`: models trained, promotions and their reasons, trades, mean P&L and "
            "hit rate after costs, equity per coin, regime mix, cost share, best and worst patterns, failed checks. "
            "Built with SQL from the exports."
        ),
    )
    def daily_report_asset(
        context: dg.AssetExecutionContext,
        archive: ArchiveResource,
        analytics: ExportsResource,
    ) -> dg.MaterializeResult:
        home = Path(analytics.home)
        pages = {}
        with duckdb.connect() as con:  # the exports' views in memory: the report never waits for the file
            create_views(con, archive.local_folder("exports/"))
            for day in (date.fromisoformat(k) for k in context.partition_keys):
                report = daily_report(con, day, failed_check_rows(context.instance, checks, day), timeframe)
                pages[day.isoformat()] = (write_report(daily_folder(home, day), report), report.json)
        if len(pages) > 1:
            return dg.MaterializeResult(metadata={"pages": len(pages)})
        [(page, doc)] = pages.values()
        return dg.MaterializeResult(
            metadata={
                "page": dg.MetadataValue.path(str(page)),
                "total_trades": doc["total_trades"],
                "hit_rate_pct": "n/a" if doc["hit_rate_pct"] is None else doc["hit_rate_pct"],
                "avg_pnl_pct": "n/a" if doc["avg_pnl_pct"] is None else doc["avg_pnl_pct"],
                "models_trained": doc["models_trained"],
                "promotions": doc["promotions"],
            }
        )

    return [daily_report_asset]
