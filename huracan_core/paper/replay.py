"""Hamilton over recorded candles on an accelerated clock: each bar is done when its close comes on the replay
clock, as it would be when a live exchange closes it.

The clock runs ``speed`` times faster than the wall clock from the first bar's close (0: no waiting at all). It
only paces: the bars are done one after the other from the one after the last committed, so a run killed and
started again does exactly the bars an uninterrupted run would. The latency reported per bar is from the bar's
close on the replay clock to its decisions and state written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime

import polars as pl

from huracan_core.paper.trader import BarReport, PaperTrader
from huracan_core.sources.base import CandleSource
from huracan_core.timeframes import timeframe_delta


class CandleFeed:
    """The candles of a source for a moving window: each symbol fetched whole once, then only its new bars."""

    def __init__(self, source: CandleSource, timeframe: str) -> None:
        self.source, self.timeframe = source, timeframe
        self.step = timeframe_delta(timeframe)
        self._frames: dict[str, pl.DataFrame] = {}

    def candles(self, symbols: Sequence[str], since: datetime, until: datetime) -> dict[str, pl.DataFrame]:
        """Each symbol's candles opening in ``[since, until)``."""
        out = {}
        for symbol in symbols:
            have = self._frames.get(symbol)
            if have is None or have.is_empty() or have["timestamp"][0] > since:
                frame = self.source.fetch(symbol, self.timeframe, since, until)
            else:
                start = have["timestamp"][-1] + self.step
                fresh = self.source.fetch(symbol, self.timeframe, start, until) if start < until else None
                frame = have if fresh is None else pl.concat([have, fresh], how="vertical_relaxed")
            frame = frame.filter((pl.col("timestamp") >= since) & (pl.col("timestamp") < until))
            self._frames[symbol] = frame
            out[symbol] = frame
        return out


def replay(
    trader: PaperTrader,
    feed: CandleFeed,
    *,
    start: datetime,
    end: datetime,
    speed: float,
    kill: Callable[[], str | None],
    report: Callable[[BarReport, float], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Do every bar from the trader's next bar (``start`` on a first run) whose close is at or before ``end``;
    returns how many were done. ``kill`` is asked at every bar; ``report`` gets each bar's report and latency."""
    step = trader.step_size
    bar = trader.next_bar or start
    origin_wall, origin_close = clock(), bar + step
    done = 0
    while bar + step <= end:
        close = bar + step
        if speed > 0:
            wait = origin_wall + (close - origin_close).total_seconds() / speed - clock()
            if wait > 0:
                sleep(wait)
        began = clock()
        candles = feed.candles(trader.symbols_needed(bar), trader.history_start(bar), close)
        result = trader.step(bar, candles, kill())
        report(result, clock() - began)
        bar, done = close, done + 1
    return done
