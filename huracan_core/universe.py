"""Which symbols the platform trades: a fixed list from config, or the most liquid pairs of the source.

Liquidity is trailing quote volume; a minimum listing age keeps out the first wild weeks after a listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from huracan_core.candles import day_start
from huracan_core.sources.base import CandleSource
from huracan_core.symbols import to_ccxt


@dataclass(frozen=True)
class UniverseConfig:
    #: explicit symbols (``BTC/USDT``); when given, ranking is skipped
    symbols: tuple[str, ...] = ()
    top_n: int = 5
    quote: str = "USDT"
    lookback_days: int = 30
    min_listing_days: int = 30


@dataclass(frozen=True)
class RankedSymbol:
    symbol: str
    quote_volume: float
    listed_days: int


def rank_universe(source: CandleSource, timeframe: str, config: UniverseConfig, as_of: date) -> list[RankedSymbol]:
    """Top ``config.top_n`` symbols by quote volume over the ``lookback_days`` before ``as_of`` (exclusive).

    Volume is the exchange's quote volume where the source has it, else volume × close per candle.
    """
    end = day_start(as_of)
    start = end - timedelta(days=config.lookback_days)
    ranked: list[RankedSymbol] = []
    for symbol in source.symbols(timeframe):
        if not symbol.endswith(f"/{config.quote}"):
            continue
        listed = source.first_timestamp(symbol, timeframe)
        if listed is None or (end - listed).days < config.min_listing_days:
            continue
        frame = source.fetch(symbol, timeframe, start, end)
        if frame.is_empty():
            continue
        notional = pl.col("quote_volume") if "quote_volume" in frame.columns else pl.col("volume") * pl.col("close")
        ranked.append(RankedSymbol(symbol, float(frame.select(notional.sum()).item()), (end - listed).days))
    ranked.sort(key=lambda r: (-r.quote_volume, r.symbol))
    return ranked[: config.top_n]


def resolve_universe(source: CandleSource, timeframe: str, config: UniverseConfig, as_of: date) -> list[str]:
    if config.symbols:
        return [to_ccxt(s) for s in config.symbols]
    return [r.symbol for r in rank_universe(source, timeframe, config, as_of)]
