"""``market_quotes``: what trading a symbol costs beyond fees on one UTC day (spread, impact, tick, funding), and
where each number comes from — the ``QuoteBook`` every asset that prices a trade reads."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from huracan_core.quote_days import day_quotes
from huracan_core.trading.measured_quotes import quote_problems
from huracan_core.versions import source_hash
from huracan_dagster.defs.metadata import output_with_partition_metadata
from huracan_dagster.defs.partitions import (
    CHAIN_BACKFILL,
    DEFAULT_SPACE,
    PartitionSpace,
    asset_key,
    partition_key,
    split_key,
)
from huracan_dagster.defs.resources import ArchiveResource, CandleSourceResource, CostsResource
from huracan_dagster.defs.verdicts import Verdict, evaluations, partitioned_check

QUOTES_SANE = "quotes_sane"


def market_quote_assets(
    timeframe: str, costs_config: CostsResource = CostsResource(), space: PartitionSpace = DEFAULT_SPACE
) -> list[dg.AssetsDefinition]:
    """``costs_config``: the ``costs`` resource as configured; whether its fee profile is a perpetual decides
    whether a day pays funding, so it is part of the code version."""
    key = asset_key(timeframe, "market_quotes")

    @dg.asset(
        key=key,
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
        io_manager_key="frames_io",
        check_specs=[
            partitioned_check(
                QUOTES_SANE,
                key,
                blocking=True,
                space=space,
                description="Spread ≥ 0, impact ≥ 0 where measured, and the median ask above the median bid.",
            )
        ],
        kinds={"polars", "parquet"},
        group_name=f"market_data_{timeframe}",
        code_version=source_hash(
            "huracan_core.quote_days",
            "huracan_core.trading.measured_quotes",
            "huracan_core.trading.recorded_quotes",
            "huracan_core.sources.market_data",
            extra=costs_config.version(),
        ),
        metadata={"timeframe": timeframe},
        description=(
            "What trading the symbol costs beyond fees on this UTC day, as one row: the median full quoted spread, "
            "the median price impact of an order walking the book (beyond the touch), the tick, the funding "
            "settlements (perpetual fee profiles; + = longs pay) and `source`, where each number comes from. A live "
            "ccxt source: the day's order-book samples (`quotes/<SYMBOL>/<date>/<HHMMSS>.parquet`, every 15 minutes "
            "by the `quote_sampler` schedule), the funding history and the tick of `load_markets`; a day without "
            "samples takes the recorded table's spread and says FALLBACK. A recorded source: the recorded table."
        ),
    )
    def market_quotes(
        context: dg.AssetExecutionContext,
        source: CandleSourceResource,
        archive: ArchiveResource,
        costs: CostsResource,
    ) -> Iterator:
        wanted = [split_key(k) for k in context.partition_keys]
        candle_source = source.open()
        frames = day_quotes(candle_source, archive.store(), wanted, costs.recorded_quotes(), costs.perpetual())
        results = {partition_key(*k): (frame, _metadata(frame, candle_source.name)) for k, frame in frames.items()}
        yield output_with_partition_metadata(context, results)
        verdicts = {key: _sane(frame) for key, (frame, _) in results.items()}
        yield from evaluations(context, key, QUOTES_SANE, verdicts, severity=dg.AssetCheckSeverity.ERROR, blocking=True)

    return [market_quotes]


def _sane(frame: pl.DataFrame) -> Verdict:
    problems = quote_problems(frame)
    return Verdict(not problems, "; ".join(problems) or "ok", {"spread_bps": frame["spread_bps"][0]})


def _metadata(frame: pl.DataFrame, source_name: str) -> dict:
    """Spread, impact, funding and where they come from, as a person checks them; "n/a" where nothing was measured."""
    row = frame.row(0, named=True)
    funding = "\n".join(
        f"- {t:%Y-%m-%d %H:%M}Z: {r * 1e4:+.4f} bp"
        for t, r in zip(row["funding_times"], row["funding_rates"], strict=True)
    )
    fallback = row["source"].startswith("FALLBACK")
    return {
        "spread_bps": round(row["spread_bps"], 6),
        "impact_bps": "n/a" if row["impact_bps"] is None else round(row["impact_bps"], 6),
        "order_size": row["order_size"],
        "tick_size": row["tick_size"],
        "samples": row["samples"],
        "funding_settlements": len(row["funding_rates"]),
        "funding_bps_per_day": round(sum(row["funding_rates"]) * 1e4, 6) if row["funding_rates"] else "n/a",
        "funding": dg.MetadataValue.md(funding or "none: no funding is paid on this quote"),
        "source": row["source"],
        "candle_source": source_name,
        **({"fallback": row["source"].split(": ", 1)[0].removeprefix("FALLBACK ")} if fallback else {}),
    }
