"""Candles of a research timeframe: the source's own file where it has one, else built from a finer stored one.

A built bar is stamped at its open and covers ``[open, open + timeframe)`` like an exchange's kline: first open,
highest high, lowest low, last close, summed volumes. Only whole bars are built: a bucket the finer candles do not
reach the end of (the window's or the data's last, still forming) is dropped, so a bar never holds less time than
its stamp promises and nothing after its close is read. A bucket with missing finer candles (an exchange halt) is
kept, as the exchange's own kline would be. The stored candles are validated first (``validate_candles``): a
non-positive price, high < low or a duplicate is refused naming the day and symbol, never averaged into a bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from huracan_core.sources.base import CandleSource
from huracan_core.symbols import to_key
from huracan_core.timeframes import timeframe_delta, timeframe_seconds
from huracan_core.validation.rules import validate_candles

_SUMMED = ("volume", "quote_volume", "trades")


def resample(candles: pl.DataFrame, timeframe: str, source_timeframe: str) -> pl.DataFrame:
    """``candles`` of ``source_timeframe`` aggregated into whole bars of ``timeframe`` (UTC-aligned)."""
    step, width = timeframe_seconds(source_timeframe), timeframe_seconds(timeframe)
    if width % step:
        raise ValueError(
            f"cannot build {timeframe} bars from {source_timeframe} candles: {width} s is not a multiple of {step} s"
        )
    if width == step or candles.is_empty():
        return candles
    summed = [pl.col(c).sum() for c in _SUMMED if c in candles.columns]
    bars = (
        candles.sort("timestamp")
        .group_by_dynamic("timestamp", every=timeframe, closed="left", label="left")
        .agg(
            pl.col("open").first(),
            pl.col("high").max(),
            pl.col("low").min(),
            pl.col("close").last(),
            *summed,
            pl.col("timestamp").max().alias("_last"),
        )
    )
    last_needed = timeframe_delta(timeframe) - timeframe_delta(source_timeframe)
    data_end = candles["timestamp"].max()
    # the data's last bucket is whole only when its last finer candle is the bucket's last one
    whole = (pl.col("timestamp") + last_needed <= data_end) | (pl.col("_last") == pl.col("timestamp") + last_needed)
    return bars.filter(whole).drop("_last").select(candles.columns)


def source_timeframe(timeframe: str, available: Sequence[str]) -> str:
    """The source's own timeframe when it has it, else the coarsest stored one that divides it."""
    if timeframe in available:
        return timeframe
    width = timeframe_seconds(timeframe)
    dividing = [tf for tf in available if width % timeframe_seconds(tf) == 0]
    if not dividing:
        raise ValueError(f"no stored timeframe builds {timeframe} bars (stored: {', '.join(available) or 'none'})")
    return max(dividing, key=timeframe_seconds)


def load_bars(
    source: CandleSource, symbols: Sequence[str], timeframe: str, start: datetime, end: datetime
) -> dict[str, pl.DataFrame]:
    """Each symbol's whole ``timeframe`` bars opening in ``[start, end)``; a symbol without candles there is
    refused, naming it (the universe of a search is declared, not whatever happened to load)."""
    available = source.timeframes() or [timeframe]
    base = source_timeframe(timeframe, available)
    out = {}
    for symbol in symbols:
        raw = validate_candles(
            source.fetch(symbol, base, start, end),
            timeframe=base,
            partition_of=lambda day, s=symbol: f"{day:%Y-%m-%d}|{to_key(s)}",
        )
        bars = resample(raw, timeframe, base).filter(pl.col("timestamp") < end)
        if bars.is_empty():
            raise ValueError(f"research {symbol} {timeframe}: no candles in {start:%Y-%m-%d}..{end:%Y-%m-%d}")
        out[symbol] = bars
    return out
