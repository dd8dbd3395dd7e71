"""Which symbols the platform trades: a fixed list from config, or the most liquid pairs of the source.

Liquidity is trailing quote volume; a minimum listing age keeps out the first wild weeks after a listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
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
    return _rank(_candidates(source, timeframe, config, as_of, as_of), config, as_of)


def resolve_universe(source: CandleSource, timeframe: str, config: UniverseConfig, as_of: date) -> list[str]:
    if config.symbols:
        return [to_ccxt(s) for s in config.symbols]
    return [r.symbol for r in rank_universe(source, timeframe, config, as_of)]


def universe_by_day(
    source: CandleSource, timeframe: str, config: UniverseConfig, days: list[date]
) -> dict[date, list[str]]:
    """The universe declared for each day: the explicit list, or the top N ranked on the volume *before* the day.

    Ranking each day on its own past keeps the cross-asset features free of lookahead (a universe picked on a
    later window would smuggle in which coins turned out liquid) and makes each day's universe a fixed input.
    Each candidate's candles are fetched once for all the days.
    """
    days = sorted(set(days))
    if config.symbols or not days:
        return {day: resolve_universe(source, timeframe, config, as_of=day) for day in days}
    candidates = _candidates(source, timeframe, config, days[0], days[-1])
    return {day: [r.symbol for r in _rank(candidates, config, day)] for day in days}


@dataclass(frozen=True)
class _Candidate:
    """A symbol's candles as two arrays, time-ordered: each day's window is a slice of them, not a filter of
    the frame (a range ranks hundreds of days: a filter per day and symbol was a third of a range's features' time)."""

    symbol: str
    listed: datetime
    #: the candles' open times, epoch microseconds, ascending
    times: np.ndarray
    #: each candle's quote notional (a missing one counts 0, as polars' sum skips it)
    notional: np.ndarray

    @classmethod
    def of(cls, symbol: str, listed: datetime, candles: pl.DataFrame) -> _Candidate:
        frame = candles.sort("timestamp")
        notional = pl.col("quote_volume") if "quote_volume" in frame.columns else pl.col("volume") * pl.col("close")
        return cls(
            symbol,
            listed,
            frame["timestamp"].dt.epoch("us").to_numpy(),
            frame.select(notional.cast(pl.Float64).fill_null(0.0)).to_series().to_numpy(),
        )

    def volume(self, start: datetime, end: datetime) -> float | None:
        """Quote volume over [start, end); None without a candle there. Summed over the slice alone, so a day's
        figure is the same whichever range it was ranked in."""
        lo, hi = np.searchsorted(self.times, [_micros(start), _micros(end)])
        return float(self.notional[lo:hi].sum()) if hi > lo else None


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _candidates(
    source: CandleSource, timeframe: str, config: UniverseConfig, first: date, last: date
) -> list[_Candidate]:
    """The quote's symbols with their candles over the lookback before ``first`` up to ``last`` (exclusive)."""
    start, end = day_start(first) - timedelta(days=config.lookback_days), day_start(last)
    out = []
    for symbol in source.symbols(timeframe):
        if not symbol.endswith(f"/{config.quote}"):
            continue
        listed = source.first_timestamp(symbol, timeframe)
        if listed is None or listed >= end:
            continue
        out.append(_Candidate.of(symbol, listed, source.fetch(symbol, timeframe, start, end)))
    return out


def _rank(candidates: list[_Candidate], config: UniverseConfig, as_of: date) -> list[RankedSymbol]:
    end = day_start(as_of)
    start = end - timedelta(days=config.lookback_days)
    ranked: list[RankedSymbol] = []
    for c in candidates:
        if (end - c.listed).days < config.min_listing_days:
            continue
        volume = c.volume(start, end)
        if volume is not None:
            ranked.append(RankedSymbol(c.symbol, volume, (end - c.listed).days))
    ranked.sort(key=lambda r: (-r.quote_volume, r.symbol))
    return ranked[: config.top_n]
