"""The quotes of a day, from wherever the candles come from: a live ccxt exchange's order-book samples in the
Archive (written every 15 minutes by ``sample_books``), its tick and funding history; or, for a recorded source
(the bundled sample, a replay folder), which holds no book, the recorded table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from huracan_core.day_keys import DayKey
from huracan_core.sources.base import CandleFetchError, CandleSource
from huracan_core.sources.ccxt_source import CcxtSource
from huracan_core.sources.market_data import CcxtMarketData
from huracan_core.storage.keys import quote_sample_key, quote_samples_prefix
from huracan_core.storage.store import ArtifactStore
from huracan_core.symbols import to_ccxt
from huracan_core.trading.measured_quotes import measured_quote, quote_frame
from huracan_core.trading.quotes import QuoteBook


@dataclass(frozen=True)
class SampleRound:
    """What one round of sampling wrote (Archive keys) and which symbols failed, each with its cause."""

    written: list[str]
    failed: dict[str, str]


def sample_books(
    market: CcxtMarketData, store: ArtifactStore, symbols: Sequence[str], order_size: float, depth: int
) -> SampleRound:
    """Read each symbol's book once and store it at ``quotes/<SYMBOL>/<date>/<HHMMSS>.parquet`` (one atomic write
    per sample). A symbol that fails is reported and the others are still sampled: a thin or unreachable book of
    one coin must not cost every other coin its sample."""
    written, failed = [], {}
    for symbol in symbols:
        try:
            sample = market.sample(symbol, order_size, depth)
        except CandleFetchError as error:
            failed[to_ccxt(symbol)] = str(error)
            continue
        key = quote_sample_key(symbol, sample.time)
        store.write_parquet(key, sample.frame())
        written.append(key)
    return SampleRound(written, failed)


def read_samples(store: ArtifactStore, symbol: str, day: date) -> pl.DataFrame:
    """Every sample of ``symbol`` taken on ``day`` (UTC), oldest first; empty when none was taken."""
    keys = [k for k in store.list_keys(quote_samples_prefix(symbol, day)) if k.endswith(".parquet")]
    if not keys:
        return pl.DataFrame()
    return pl.concat([store.read_parquet(k) for k in keys]).sort("time")


def day_quotes(
    source: CandleSource, store: ArtifactStore, wanted: Sequence[DayKey], fallback: QuoteBook, perpetual: bool
) -> dict[DayKey, pl.DataFrame]:
    """The ``market_quotes`` frame of each wanted (day, symbol). A live ccxt source: the day's samples (their
    median), the exchange's tick and — for a perpetual fee profile — the day's funding history; a day without
    samples falls back to ``fallback``'s spread and impact and says so. A recorded source: ``fallback`` (the
    recorded table, whose funding the caller configured for the fee profile)."""
    if not isinstance(source, CcxtSource):
        return {(day, symbol): quote_frame(fallback.quote(to_ccxt(symbol), day)) for day, symbol in wanted}
    market = CcxtMarketData(source)
    ticks = {symbol: market.tick_size(symbol) for symbol in sorted({s for _, s in wanted})}
    return {
        (day, symbol): measured_quote(
            symbol,
            day,
            read_samples(store, symbol, day),
            ticks[symbol],
            market.funding(symbol, day) if perpetual else None,
            fallback,
            market.name,
            perpetual,
        )
        for day, symbol in wanted
    }
