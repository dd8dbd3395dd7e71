"""``huracan hamilton``: paper-trade the champions forward over recorded candles on an accelerated clock
(``huracan_core.paper``), or turn the kill switch on and off for a running one."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from huracan_core.candles import day_start
from huracan_core.paper.home import AlreadyRunning, clear_kill, hamilton_lock, kill_reason, press_kill
from huracan_core.paper.replay import CandleFeed, replay
from huracan_core.paper.trader import BarReport, PaperConfig, PaperTrader, Universe
from huracan_core.sources import CandleFetchError, CandleSource, open_source
from huracan_core.universe import UniverseConfig, universe_by_day
from huracan_dagster.settings import Settings


def hamilton_command(
    settings: Settings, *, start: date | None, end: date | None, speed: float, kill: str | None, unkill: bool
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
    try:
        source = open_source(settings.source)
    except (CandleFetchError, ValueError) as error:
        print(f"huracan hamilton: error: {error}", file=sys.stderr)
        return 2
    recorded = source.recorded_days([timeframe])
    if recorded is None:
        print(
            f"huracan hamilton: error: {settings.source} is a live exchange; paper trading runs over recorded candles "
            "(HURACAN_SOURCE=bundled or replay:DIR)",
            file=sys.stderr,
        )
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
            first = trader.next_bar or _first_bar(trader, start)
            if first is None:
                print("huracan hamilton: error: no roster and no --start: run the pipeline first", file=sys.stderr)
                return 2
            last = day_start((end or recorded[1]) + timedelta(days=1))
            resumed = "resuming after its last bar" if trader.next_bar else "starting"
            print(
                f"Hamilton on {timeframe} over {source.name}: {resumed} at {first:%Y-%m-%d %H:%M} UTC until "
                f"{last:%Y-%m-%d %H:%M} UTC, replay clock ×{speed:g}; logs in {store.uri('live_logs/')}",
                flush=True,
            )
            done = replay(
                trader,
                CandleFeed(source, timeframe),
                start=first,
                end=last,
                speed=speed,
                kill=lambda: kill_reason(home),
                report=report,
            )
    except AlreadyRunning as error:
        print(f"huracan hamilton: error: {error}", file=sys.stderr)
        return 1
    except CandleFetchError as error:
        print(f"huracan hamilton: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("huracan hamilton: stopped; the next start resumes after the last bar done", flush=True)
        return 130
    if latencies:
        print(
            f"{done} bars; latency from a bar's close to its decisions logged: median "
            f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms",
            flush=True,
        )
    return 0


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


def _first_bar(trader: PaperTrader, start: date | None) -> datetime | None:
    """``--start``'s first bar, or the first bar of the roster's day (the champions it lists are in force then)."""
    if start is not None:
        return day_start(start)
    day = trader.roster_day()
    return None if day is None else day_start(day)
