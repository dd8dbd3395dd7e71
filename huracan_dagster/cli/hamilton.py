"""``huracan hamilton``: paper-trade the champions forward (``huracan_core.paper``) over recorded candles on an
accelerated clock or a live exchange's newest closed candles, obeying its Telegram chat; or turn the kill switch
on and off for a running one."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from huracan_core.broadcast.telegram import (
    CHAT_VARIABLE,
    DEFAULT_BASE_URL,
    TOKEN_VARIABLE,
    URL_VARIABLE,
    TelegramClient,
)
from huracan_core.candles import day_start
from huracan_core.paper.control import load_control
from huracan_core.paper.forward import SETTLE, CandleFeed, MarketClock, trade_forward, utc_now
from huracan_core.paper.home import AlreadyRunning, clear_kill, hamilton_lock, kill_reason, press_kill
from huracan_core.paper.status import control_line, status_text
from huracan_core.paper.telegram_control import TelegramControl
from huracan_core.paper.trader import BarReport, PaperConfig, PaperTrader, Universe
from huracan_core.sources import CandleFetchError, CandleSource, open_source
from huracan_core.universe import UniverseConfig, universe_by_day
from huracan_dagster.settings import Settings

#: the replay clock's default speed: a 15-minute bar a second
REPLAY_SPEED = 900.0
#: on a live exchange, how long a bar waits for a candle the exchange has not published yet (wall seconds)
LIVE_PATIENCE_S = 30.0


def hamilton_command(
    settings: Settings, *, start: date | None, end: date | None, speed: float | None, kill: str | None, unkill: bool
) -> int:
    home, timeframe = settings.home, settings.timeframe
    if kill is not None:
        path = press_kill(home, kill)
        print(
            f"huracan hamilton: kill switch on ({path}): every position closes at the next bar, no entry until --unkill"
        )
        return 0
    if unkill:
        print(
            "huracan hamilton: kill switch off" if clear_kill(home) else "huracan hamilton: the kill switch was not on"
        )
        return 0
    live = settings.source.startswith("ccxt:")
    # a live exchange's clock: the real time, or from --start faster until it meets the real time, never past it
    live_clock = (
        MarketClock(day_start(start) if start else utc_now(), 1.0 if speed is None else speed, limit=utc_now)
        if live
        else None
    )
    try:
        source = open_source(settings.source) if live_clock is None else _live_source(settings, live_clock)
        control = load_control(home)
    except (CandleFetchError, ValueError) as error:
        print(f"huracan hamilton: error: {error}", file=sys.stderr)
        return 2
    recorded = None if live else source.recorded_days([timeframe])
    if not live and recorded is None:
        print(f"huracan hamilton: error: {settings.source} holds no recorded days of {timeframe}", file=sys.stderr)
        return 2
    config = _config(settings, source)
    from huracan_dagster.defs.resources import ArchiveResource

    store = ArchiveResource(
        root=str(settings.archive_root), s3_url=settings.s3_url, s3_endpoint=settings.s3_endpoint
    ).store()
    latencies: list[float] = []

    def report(result: BarReport, seconds: float) -> None:
        latencies.append(seconds)
        print(
            f"{result.bar:%Y-%m-%d %H:%M} UTC  equity {result.equity:,.2f}  {result.decisions} scored  "
            f"{result.fills} fills  {seconds * 1000:.0f} ms",
            flush=True,
        )
        for line in result.lines:
            print(f"    {line}", flush=True)

    try:
        with hamilton_lock(home):
            trader = PaperTrader(store, config)
            if live_clock is not None:
                first: datetime | None = trader.next_bar or _bar_of(live_clock.origin, trader.step_size)
                last = None if end is None else day_start(end + timedelta(days=1))
            else:
                assert recorded is not None
                first = trader.next_bar or _first_bar(trader, start)
                last = day_start((end or recorded[1]) + timedelta(days=1))
            if first is None:
                print("huracan hamilton: error: no roster and no --start: run the pipeline first", file=sys.stderr)
                return 2
            idle = _idle(settings, trader, home)
            resumed = "resuming after its last bar" if trader.next_bar else "starting"
            until = "until stopped" if last is None else f"until {last:%Y-%m-%d %H:%M} UTC"
            # the replay clock starts at the first bar's close
            clock = live_clock or MarketClock(first + trader.step_size, REPLAY_SPEED if speed is None else speed)
            print(
                f"Hamilton on {timeframe} over {source.name}: {resumed} at {first:%Y-%m-%d %H:%M} UTC {until}, "
                f"{_pace(live, clock)}; logs in {store.uri('live_logs/')}",
                flush=True,
            )
            if control.paused or control.top_n is not None:
                print(f"    {control_line(control, kill_reason(home))}", flush=True)
            trade_forward(
                trader,
                CandleFeed(source, timeframe),
                first=first,
                end=last,
                clock=clock,
                kill=lambda: kill_reason(home),
                control=lambda: load_control(home),
                report=report,
                idle=idle,
                settle=SETTLE if live else timedelta(0),
                patience_s=LIVE_PATIENCE_S if live else 0.0,
            )
    except AlreadyRunning as error:
        print(f"huracan hamilton: error: {error}", file=sys.stderr)
        return 1
    except CandleFetchError as error:
        print(f"huracan hamilton: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("huracan hamilton: stopped; the next start resumes after the last bar done", flush=True)
        _latency(latencies)
        return 130
    _latency(latencies)
    return 0


def _latency(latencies: list[float]) -> None:
    if latencies:
        print(
            f"{len(latencies)} bars; latency from a bar's close to its decisions logged: median "
            f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms",
            flush=True,
        )


def _live_source(settings: Settings, clock: MarketClock) -> CandleSource:
    """The exchange's candles as the market clock sees them: only those closed by its time."""
    from huracan_core.sources.ccxt_source import CcxtSource

    exchange = settings.source.partition(":")[2]
    if not exchange:
        raise ValueError(f"candle source {settings.source!r}: give ccxt:EXCHANGE_ID, e.g. ccxt:binance")
    return CcxtSource.from_id(
        exchange, options=dict(settings.ccxt_config), now_ms=lambda: int(clock.now().timestamp() * 1000)
    )


def _idle(settings: Settings, trader: PaperTrader, home: Path) -> Callable[[float], None]:
    """What the loop does while it waits for a bar: read and obey the Telegram chat when one is configured (the
    wait is its long poll), else sleep."""
    env = settings.env
    client = TelegramClient(
        env.get(TOKEN_VARIABLE, ""), env.get(CHAT_VARIABLE, ""), base_url=env.get(URL_VARIABLE, "") or DEFAULT_BASE_URL
    )
    if not client.enabled:
        print(f"Telegram control off ({TOKEN_VARIABLE} and {CHAT_VARIABLE} not both set)", flush=True)
        return _sleep
    telegram = TelegramControl(
        client,
        home,
        status=lambda control: status_text(trader.state, settings.risk, control, kill_reason(home), settings.timeframe),
        roster=trader.roster,
        store=trader.store,
        timeframe=settings.timeframe,
    )
    print(f"Telegram control on: obeying chat {client.chat_id} (/help lists the commands)", flush=True)

    def idle(seconds: float) -> None:
        for line in telegram.poll(seconds):
            print(f"    {line}", flush=True)

    return idle


def _sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def _pace(live: bool, clock: MarketClock) -> str:
    if not live:
        return f"replay clock ×{clock.speed:g}"
    if clock.speed == 1:
        return "live: real time"
    if clock.speed == 0:
        return "live: catching up with the real time as fast as it computes, then real time"
    return f"live: clock from {clock.origin:%Y-%m-%d %H:%M} UTC ×{clock.speed:g} until it meets the real time"


def _config(settings: Settings, source: CandleSource) -> PaperConfig:
    from huracan_dagster.defs.resources import CostsResource

    costs = CostsResource(fee_profile=settings.fee_profile, order_type=settings.order_type).cost_model()
    return PaperConfig(
        settings.timeframe,
        costs=costs,
        risk=settings.risk,
        max_champion_age_days=settings.hamilton_max_champion_age_days,
        universe=_universe(source, settings),
    )


def _universe(source: CandleSource, settings: Settings) -> Universe:
    """The universe the pipeline declares for each day (``universe_by_day``), each day ranked once."""
    config = UniverseConfig(symbols=settings.symbols, top_n=settings.top_n)
    known: dict[date, list[str]] = {}

    def members(days: Sequence[date]) -> Mapping[date, Sequence[str]]:
        missing = [d for d in days if d not in known]
        if missing:
            known.update(universe_by_day(source, settings.timeframe, config, missing))
        return {d: known[d] for d in days}

    return members


def _bar_of(moment: datetime, step: timedelta) -> datetime:
    """The bar ``moment`` falls in (its open time): a live Hamilton's first is the bar its clock starts in."""
    day = day_start(moment.date())
    return day + ((moment - day) // step) * step


def _first_bar(trader: PaperTrader, start: date | None) -> datetime | None:
    """``--start``'s first bar, or the first bar of the roster's day (the champions it lists are in force then)."""
    if start is not None:
        return day_start(start)
    day = trader.roster_day()
    return None if day is None else day_start(day)
