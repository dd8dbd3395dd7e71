"""Hamilton's loop: each bar is done when its close comes on the market clock, with the newest closed candles.

The market clock (``MarketClock``) is the time the candles are judged by. Over recorded candles it starts at the
first bar's close and runs ``speed`` times faster than the wall clock (0: no waiting at all). On a live exchange it
is the real UTC time, or starts at a past moment and runs faster until it catches up with the real time, never
past it: the exchange is then asked only for candles closed by the clock (``CcxtSource``'s ``now``), as it
would be answered live.

The clock only paces: the bars are done one after the other from the one after the last committed, so a run
killed and started again does exactly the bars an uninterrupted run would (a live Hamilton down for a while does
the bars it missed, at once, when it comes back). The latency reported per bar is from the moment its close came
on the clock (and the exchange had published the candle) to its decisions and state written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import polars as pl

from huracan_core.paper.control import Control
from huracan_core.paper.trader import BarReport, PaperTrader
from huracan_core.sources.base import CandleSource
from huracan_core.timeframes import timeframe_delta

#: on a live exchange, how long after a bar's close its candle is asked for (the exchange closes it a moment late)
SETTLE = timedelta(seconds=2)
#: on a live exchange, how often a candle the exchange has not published yet is asked for again (wall seconds)
RETRY_S = 2.0


class MarketClock:
    """``origin`` when made, running ``speed`` times the wall clock (0: as fast as the bars are done), never past
    ``limit()`` when given (a live exchange: the real UTC time)."""

    def __init__(
        self,
        origin: datetime,
        speed: float,
        *,
        wall: Callable[[], float] = time.monotonic,
        limit: Callable[[], datetime] | None = None,
    ) -> None:
        if speed < 0:
            raise ValueError(f"market clock: speed {speed:g} is below 0")
        self.origin, self.speed, self.wall, self.limit = origin, speed, wall, limit
        self._wall0 = wall()

    def now(self) -> datetime:
        if self.speed == 0:
            return self.limit() if self.limit is not None else datetime.max.replace(tzinfo=UTC)
        ran = self.origin + timedelta(seconds=(self.wall() - self._wall0) * self.speed)
        return ran if self.limit is None else min(ran, self.limit())

    def wall_seconds_until(self, moment: datetime) -> float:
        """How long on the wall clock until the clock reads ``moment`` (0 or less: it has)."""
        waits = []
        if self.speed > 0:
            ran = self.origin + timedelta(seconds=(self.wall() - self._wall0) * self.speed)
            waits.append((moment - ran).total_seconds() / self.speed)
        if self.limit is not None:
            waits.append((moment - self.limit()).total_seconds())
        return max(waits, default=0.0)


def utc_now() -> datetime:
    return datetime.now(UTC)


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


def trade_forward(
    trader: PaperTrader,
    feed: CandleFeed,
    *,
    first: datetime,
    end: datetime | None,
    clock: MarketClock,
    kill: Callable[[], str | None],
    report: Callable[[BarReport, float], None],
    control: Callable[[], Control] = Control,
    idle: Callable[[float], None] = lambda seconds: time.sleep(seconds) if seconds > 0 else None,
    settle: timedelta = timedelta(0),
    patience_s: float = 0.0,
) -> int:
    """Do every bar from the trader's next bar (``first`` on a first run) whose close is at or before ``end``
    (None: without end); returns how many were done.

    Before each bar, ``idle`` is given the wall seconds until its close (plus ``settle``) comes on the clock
    (0 when it has), and must return once they have passed (it may read Telegram meanwhile). A symbol whose
    candle of the bar has not come yet is asked for again every ``RETRY_S`` for up to ``patience_s`` wall
    seconds (a live exchange publishes a closed candle a moment late); then the bar is done without it (those
    coins are not scored, and the decisions say so). ``kill`` and ``control`` are read at every bar; ``report``
    gets each bar's report and latency."""
    step = trader.step_size
    bar = trader.next_bar or first
    done = 0
    while end is None or bar + step <= end:
        close = bar + step
        idle(max(clock.wall_seconds_until(close + settle), 0.0))
        began = clock.wall()
        symbols = trader.symbols_needed(bar)
        candles = feed.candles(symbols, trader.history_start(bar), close)
        while (late := _late(candles, bar)) and clock.wall() - began < patience_s:
            idle(RETRY_S)
            candles |= feed.candles(late, trader.history_start(bar), close)
        result = trader.step(bar, candles, kill(), control())
        report(result, clock.wall() - began)
        bar, done = close, done + 1
    return done


def _late(candles: dict[str, pl.DataFrame], bar: datetime) -> list[str]:
    """The symbols whose candle of ``bar`` is not among ``candles`` yet."""
    return [s for s, frame in candles.items() if frame.is_empty() or frame["timestamp"][-1] < bar]
