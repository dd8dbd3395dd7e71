"""``candles``: closed exchange candles per UTC day and symbol, validated before they are stored."""

from collections.abc import Iterator

import dagster as dg

from huracan_core.candles import CandlePartition, load_candle_partitions
from huracan_core.validation import CandleValidationError
from huracan_dagster.defs.assets.candles_checks import (
    candle_checks,
    check_results,
    failed_validation,
)
from huracan_dagster.defs.metadata import (
    output_with_partition_metadata,
    preview,
    timestamps,
)
from huracan_dagster.defs.partitions import (
    CANDLES_BACKFILL,
    DEFAULT_SPACE,
    PartitionSpace,
    asset_key,
    days_by_symbol,
    partition_key,
)
from huracan_dagster.defs.resources import CandleSourceResource
from huracan_dagster.defs.versions import candles_code_version


def candle_assets(timeframe: str, space: PartitionSpace = DEFAULT_SPACE) -> list[dg.AssetsDefinition]:
    key = asset_key(timeframe, "candles")

    @dg.asset(
        key=key,
        partitions_def=space.dates_and_symbols,
        backfill_policy=CANDLES_BACKFILL,
        io_manager_key="frames_io",
        check_specs=candle_checks(key, space),
        kinds={"polars", "parquet"},
        group_name=f"market_data_{timeframe}",
        code_version=candles_code_version(),
        metadata={"timeframe": timeframe},
        description=f"{timeframe} OHLCV candles of one UTC day and symbol, as the exchange published them (gaps reported, not filled).",
    )
    def candles(context: dg.AssetExecutionContext, source: CandleSourceResource) -> Iterator:
        candle_source = source.open()
        try:
            parts = load_candle_partitions(
                candle_source, timeframe, days_by_symbol(sorted(context.partition_keys)), partition_key
            )
        except CandleValidationError as error:
            yield from failed_validation(context, key, error)
            raise dg.Failure(description=str(error)) from None
        context.log.info("validated %d candle partitions from %s", len(parts), candle_source.name)
        yield output_with_partition_metadata(
            context, {partition_key(p.day, p.symbol): (p.frame, _metadata(p, candle_source.name)) for p in parts}
        )
        yield from check_results(context, key, parts)

    return [candles]


def _metadata(part: CandlePartition, source_name: str) -> dict:
    summary = part.summary()
    return {
        **{k: v for k, v in summary.items() if v is not None},
        "source": source_name,
        "gaps": timestamps(part.anomalies.missing) or "none",
        "preview": preview(part.frame),
    }
