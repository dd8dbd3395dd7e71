"""The order-book sampler of a live ccxt source: every 15 minutes, one look at each registered symbol's book,
stored in the Archive for the ``market_quotes`` of its day. A recorded source holds no book, so its definitions
carry no sampler (``sampler_definitions`` says so once, when they load)."""

import logging

import dagster as dg

from huracan_core.quote_days import sample_books
from huracan_core.sources import CandleSource
from huracan_core.sources.ccxt_source import CcxtSource
from huracan_core.sources.market_data import DEFAULT_DEPTH, CcxtMarketData
from huracan_core.trading.exits import ExitConfig
from huracan_dagster.defs.partitions import SYMBOL_DIMENSION
from huracan_dagster.defs.resources import ArchiveResource, CandleSourceResource

log = logging.getLogger(__name__)

SAMPLER_JOB = "quote_sampler"
SAMPLER_SCHEDULE = "quote_sampler_every_15m"
SAMPLER_CRON = "*/15 * * * *"


class SamplerConfig(dg.Config):
    """The order each sample prices (the trader's notional, so the impact is what its trades would pay) and how
    many levels of each side are read."""

    order_size: float = ExitConfig().notional
    depth: int = DEFAULT_DEPTH


@dg.op(
    description="Reads each registered symbol's order book once and stores it at quotes/<SYMBOL>/<date>/<HHMMSS>.parquet."
)
def sample_order_books(
    context: dg.OpExecutionContext, config: SamplerConfig, source: CandleSourceResource, archive: ArchiveResource
) -> None:
    """The registered symbols are the universe ``huracan run`` registered (the partitions' symbols): every coin
    whose trades are priced. A symbol that fails is named and the others are still sampled; the run then fails."""
    candle_source = source.open()
    if not isinstance(candle_source, CcxtSource):
        raise dg.Failure(f"quote sampler: {candle_source.name} is a recorded source, it has no order book to sample")
    symbols = context.instance.get_dynamic_partitions(SYMBOL_DIMENSION)
    if not symbols:
        context.log.info("quote sampler: no symbols registered yet (`huracan run` registers the universe)")
        return
    done = sample_books(CcxtMarketData(candle_source), archive.store(), symbols, config.order_size, config.depth)
    context.log.info("quote sampler: %d books sampled from %s", len(done.written), candle_source.name)
    if done.failed:
        raise dg.Failure(
            f"quote sampler: {len(done.failed)} of {len(symbols)} books not sampled",
            metadata={symbol: cause for symbol, cause in sorted(done.failed.items())},
        )


@dg.job(name=SAMPLER_JOB, description="One look at each registered symbol's order book (the live ccxt source).")
def quote_sampler_job() -> None:
    sample_order_books()


def sampler_definitions(
    source: CandleSource, running: bool
) -> tuple[list[dg.JobDefinition], list[dg.ScheduleDefinition]]:
    """The sampler's job and schedule for a live ccxt source; none for a recorded one, said once here."""
    if not isinstance(source, CcxtSource):
        log.info("no order-book sampler: %s is a recorded source, its quotes are the recorded table", source.name)
        return [], []
    schedule = dg.ScheduleDefinition(
        name=SAMPLER_SCHEDULE,
        cron_schedule=SAMPLER_CRON,
        execution_timezone="UTC",
        target=quote_sampler_job,
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"Every 15 minutes: each registered symbol's order book from {source.name}, for the day's market_quotes "
            "(median spread and impact)."
        ),
    )
    return [quote_sampler_job], [schedule]
