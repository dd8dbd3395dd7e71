"""Check the options of ``huracan run`` before anything runs: a mistyped option is a usage error, not a traceback.

Each problem is reported the argparse way (exit status 2, the usage line, then ``argument --X: …``) naming the
option — or the environment variable it came from — the value, the reason and the valid choices. Symbols are
normalised (``btc/usdt`` and ``BTC-USDT`` both mean ``BTC/USDT``); a spelling that cannot be split into base and
quote (``BTCUSDT``) or a pair the source does not offer is rejected, with a suggestion when one is obvious:
guessing where ``BTCUSDT`` splits would be right for BTC and wrong for a pair the guess does not know.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, date, datetime

from huracan_core.sources import CandleFetchError, CandleSource, open_source
from huracan_core.symbols import is_pair, to_ccxt
from huracan_core.timeframes import bars_per_day
from huracan_dagster.cli.selection import ANALYTICS_SELECTION
from huracan_dagster.defs.partitions import PartitionSpace
from huracan_dagster.settings import Settings

SOURCE_CHOICES = "bundled, replay:DIR or ccxt:EXCHANGE_ID"
TIMEFRAME_EXAMPLES = "1m, 5m, 15m, 1h, 4h, 1d"


@dataclass(frozen=True)
class RunOptions:
    """What ``huracan run`` was asked for, checked and normalised."""

    symbols: tuple[str, ...] | None
    start: date
    end: date


def check_run_options(
    parser: argparse.ArgumentParser, args: argparse.Namespace, settings: Settings, window: tuple[date, date]
) -> RunOptions:
    """Return the normalised options, or exit through ``parser.error`` naming the first bad one."""

    def option(flag: str, env: str) -> str:
        return f"argument {flag}" if getattr(args, flag.lstrip("-")) is not None else f"{env} (environment)"

    try:
        bars_per_day(settings.timeframe)
    except ValueError:
        parser.error(
            f"{option('--timeframe', 'HURACAN_TIMEFRAME')}: unknown timeframe {settings.timeframe!r}; "
            f"expected a timeframe that divides a day, e.g. {TIMEFRAME_EXAMPLES}"
        )
    try:
        source = open_source(settings.source)
    except ValueError as error:  # the spelling: its message lists the choices
        parser.error(f"{option('--source', 'HURACAN_SOURCE')}: {error}")
    except CandleFetchError as error:  # a replay folder or ccxt exchange that does not exist
        parser.error(f"{option('--source', 'HURACAN_SOURCE')}: {error} (expected {SOURCE_CHOICES})")
    offered_timeframes = source.timeframes()
    if offered_timeframes is not None and settings.timeframe not in offered_timeframes:
        parser.error(
            f"{option('--timeframe', 'HURACAN_TIMEFRAME')}: {source.name} has no {settings.timeframe!r} candles; "
            f"choose from {', '.join(offered_timeframes) or '(none: the folder holds no BASE-QUOTE_<tf>.parquet files)'}"
        )
    _check_window(parser, *window, PartitionSpace.of_days(source.recorded_days(settings.timeframes)), source.name)
    listed = [s.strip() for s in args.symbols.split(",") if s.strip()] if args.symbols else None
    flag = "argument --symbols" if listed else "HURACAN_SYMBOLS (environment)"
    symbols = _check_symbols(parser, flag, listed or list(settings.symbols), source, settings.timeframe)
    _check_selection(parser, args.select, settings)
    return RunOptions(symbols=tuple(symbols) if listed else None, start=window[0], end=window[1])


def check_workers_agree(parser: argparse.ArgumentParser, args: argparse.Namespace, settings: Settings) -> None:
    """Over workers (``HURACAN_EXECUTOR=celery``) each step loads the code location from its worker's environment,
    not from this command's options: a ``--source`` or ``--timeframe`` other than the environment's would have the
    steps read another source, or find no such job."""
    if settings.executor != "celery":
        return
    for flag, value, variable, configured in (
        ("--source", args.source, "HURACAN_SOURCE", settings.source),
        ("--timeframe", args.timeframe, "HURACAN_TIMEFRAME", settings.timeframe),
    ):
        if value is not None and value != configured:
            parser.error(
                f"argument {flag}: {value!r} differs from {variable}={configured!r}, and with HURACAN_EXECUTOR=celery "
                f"the steps run on workers that read {variable}; set {variable}={value} for the workers and this "
                "command instead"
            )


def _check_window(parser: argparse.ArgumentParser, start: date, end: date, space: PartitionSpace, source: str) -> None:
    """Within the days that are partitions: those a recorded source holds, or 2018-01-01 to today."""
    if start < space.first:
        held = (
            f"{source} holds candles from {space.first} on"
            if space.last
            else f"{space.first} is the first day partition"
        )
        parser.error(f"argument --start/--date: {start} is before {space.first} ({held})")
    if space.last is not None and end > space.last:
        parser.error(f"argument --end/--date: {end} is after {space.last}, the last day {source} holds candles for")
    today = datetime.now(UTC).date()
    if end > today:
        parser.error(f"argument --end/--date: {end} is in the future (today is {today} UTC)")


def _check_symbols(
    parser: argparse.ArgumentParser, flag: str, symbols: list[str], source: CandleSource, timeframe: str
) -> list[str]:
    """``BASE/QUOTE`` for each symbol; against the source's own list where it has one without a request."""
    offered = source.known_symbols(timeframe)
    normalised = []
    for symbol in symbols:
        if not is_pair(symbol):
            hint = [s for s in offered or [] if s.replace("/", "") == symbol.upper()]
            suggestion = f" (did you mean {hint[0]}?)" if hint else ""
            parser.error(f"{flag}: {symbol!r} is not BASE/QUOTE, e.g. BTC/USDT{suggestion}")
        pair = to_ccxt(symbol)
        if offered is not None and pair not in offered:
            parser.error(
                f"{flag}: {source.name} offers no {timeframe} candles for {pair}; choose from {', '.join(offered) or '(none)'}"
            )
        normalised.append(pair)
    return normalised


def _check_selection(parser: argparse.ArgumentParser, select: str | None, settings: Settings) -> None:
    if not select or select == ANALYTICS_SELECTION:
        return
    import dagster as dg

    from huracan_dagster.cli.selection import resolve_selection, window_asset_names
    from huracan_dagster.defs.definitions import build_definitions

    graph = build_definitions(settings).resolve_asset_graph()
    names = sorted(window_asset_names(graph, settings.timeframe))
    try:
        resolve_selection(graph, settings.timeframe, select)
    except (ValueError, dg.DagsterInvalidSubsetError):
        parser.error(
            f"argument --select: {select!r} matches no asset; assets: {', '.join(names)} (e.g. 'candles', '+features', 'regimes+'), or 'analytics' for the analytics job alone"
        )
    except Exception as error:  # a syntax error in the selection string: Dagster's parser says where
        reason = str(error).strip().splitlines()[0]
        parser.error(f"argument --select: {select!r} is not an asset selection ({reason}); assets: {', '.join(names)}")
