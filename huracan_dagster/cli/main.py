"""The ``huracan`` command: run the pipeline for a window, show what is materialized, open the UI, paper-trade.

Every run goes through the Dagster instance in ``$HURACAN_HOME/dagster``, so it shows in the UI like a run
launched there. A window is materialized as *ranged* runs (cut as a UI backfill would cut it): one run
per partition would cost seconds each (docs/architecture.md#measured-costs).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date

DEFAULT_WINDOW = (date(2024, 12, 30), date(2024, 12, 31))


def _parse(argv: list[str] | None) -> argparse.Namespace:
    assert __doc__ is not None  # the module's docstring, whose first line describes the command
    parser = argparse.ArgumentParser(prog="huracan", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="materialize the pipeline for a window of dates and symbols")
    when = run.add_mutually_exclusive_group()
    when.add_argument("--date", type=date.fromisoformat, help="one UTC day (YYYY-MM-DD)")
    when.add_argument("--start", type=date.fromisoformat, help="first UTC day of a range (with --end)")
    run.add_argument("--end", type=date.fromisoformat, help="last UTC day of a range, inclusive")
    run.add_argument("--symbols", help="comma-separated, e.g. BTC/USDT,ETH/USDT (default: the configured universe)")
    run.add_argument("--source", help="bundled | replay:DIR | ccxt:EXCHANGE_ID (default: $HURACAN_SOURCE or bundled)")
    run.add_argument("--timeframe", help="candle timeframe (default: $HURACAN_TIMEFRAME or 15m)")
    run.add_argument("--select", help="Dagster asset selection, e.g. 'candles' or '+features' (default: everything)")
    run.add_argument(
        "--workers",
        type=_positive,
        help="processes for the window's independent runs (default: $HURACAN_RUN_WORKERS or 1; never more than the cores)",
    )
    run.set_defaults(run_parser=run)  # option values are checked against the source once settings are known
    sub.add_parser("status", help="what is materialized per symbol and date range, and which checks failed")
    ui = sub.add_parser("ui", help="the Dagster UI over the same HURACAN_HOME")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", default="3000")
    report = sub.add_parser(
        "report", help="a backtest report of the exported shadow trades over a window of days (HTML + JSON)"
    )
    report.add_argument("--start", type=date.fromisoformat, required=True, help="first UTC day (YYYY-MM-DD)")
    report.add_argument("--end", type=date.fromisoformat, required=True, help="last UTC day, inclusive")
    report.add_argument("--timeframe", help="candle timeframe (default: the one the window's exports hold)")
    hamilton = sub.add_parser(
        "hamilton",
        help="paper-trade the champions forward under the risk manager: recorded candles on an accelerated clock, or a "
        "live exchange's newest closed candles (paper fills only)",
    )
    hamilton.add_argument(
        "--start",
        type=date.fromisoformat,
        help="first UTC day (default: the roster's day; live: now, or the clock starts at that day and runs --speed "
        "times faster until it meets the real time); a home with Hamilton's state resumes after its last bar",
    )
    hamilton.add_argument(
        "--end", type=date.fromisoformat, help="last UTC day, inclusive (default: the last recorded; live: none)"
    )
    hamilton.add_argument(
        "--speed",
        type=float,
        help="the clock's speed over the wall clock (replay, default 900: a 15-minute bar a second; 0: no waiting; "
        "live, default 1: never past the real time)",
    )
    hamilton.add_argument(
        "--source", help="bundled | replay:DIR | ccxt:EXCHANGE_ID (default: $HURACAN_SOURCE or bundled)"
    )
    hamilton.add_argument("--timeframe", help="candle timeframe (default: $HURACAN_TIMEFRAME or 15m)")
    switch = hamilton.add_mutually_exclusive_group()
    switch.add_argument(
        "--kill",
        nargs="?",
        const="huracan hamilton --kill",
        metavar="REASON",
        help="turn the kill switch on: close everything at the next bar, no entry until --unkill",
    )
    switch.add_argument("--unkill", action="store_true", help="turn the kill switch off")
    workers = sub.add_parser(
        "workers", help="a Celery worker that executes the steps of the runs (HURACAN_EXECUTOR=celery)"
    )
    workers.add_argument(
        "--processes", type=_positive, help="steps run at once on this machine (default: its usable cores)"
    )
    health = sub.add_parser(
        "health",
        help="each component's state (instance storage, daemon, the Engine's runs, stale assets, Archive, MLflow, "
        "exchange, Telegram); exit status 1 when one is down",
    )
    health.add_argument("--json", action="store_true", help="JSON instead of a table")
    health.add_argument(
        "--timeout", type=float, default=3.0, help="seconds each service may take to answer (default: 3)"
    )
    pauses = health.add_subparsers(dest="action", metavar="{patterns,review,pause,resume}")
    pauses.add_parser("patterns", help="the pattern pauses in force and every pause and lift, oldest first")
    pauses.add_parser(
        "review", help="run the pause and recovery tests over the Archive's shadow trades now, and log what they decide"
    )
    for verb, what in (("pause", "stop the shadow trader taking"), ("resume", "lift the pause of")):
        change = pauses.add_parser(verb, help=f"{what} PATTERN (REGIME:side:engines) from the next UTC day")
        change.add_argument("pattern", metavar="PATTERN")
        change.add_argument("--reason", default=f"{verb}d by hand", help="why, kept in the pause log")
    research = sub.add_parser(
        "research",
        help="search the declared space (timeframes, exits, model families) per coin over a window, judged out of "
        "sample after costs and corrected for the search (DSR, SPA, PBO, stability, buy-and-hold)",
    )
    research.add_argument("--start", type=date.fromisoformat, required=True, help="first UTC day (YYYY-MM-DD)")
    research.add_argument("--end", type=date.fromisoformat, required=True, help="last UTC day, inclusive")
    research.add_argument(
        "--symbols", help="comma-separated, e.g. BTC/USDT,ETH/USDT (default: the configured universe)"
    )
    research.add_argument("--timeframes", help="comma-separated, e.g. 1h,4h,1d (default: the space's)")
    research.add_argument("--space", help="a shipped space (default, years) or a TOML file (default: default)")
    research.add_argument("--workers", type=_positive, help="processes (default: the usable cores; never more)")
    research.add_argument(
        "--source", help="bundled | replay:DIR | ccxt:EXCHANGE_ID (default: $HURACAN_SOURCE or bundled)"
    )
    tracking = sub.add_parser(
        "mlflow", help="the MLflow UI over the training runs and registered models of HURACAN_HOME"
    )
    tracking.add_argument("--host", default="127.0.0.1")
    tracking.add_argument("--port", default="5000")
    args = parser.parse_args(argv)
    if args.command == "run" and (args.start is None) != (args.end is None):
        parser.error("--start and --end go together")
    if args.command in ("run", "report", "hamilton", "research") and args.start and args.end and args.end < args.start:
        parser.error("--end is before --start")
    if args.command == "hamilton" and args.speed is not None and args.speed < 0:
        parser.error("--speed must be 0 (no waiting) or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    from huracan_dagster.instance.prepare import prepare_dagster_home
    from huracan_dagster.settings import Settings

    try:
        settings = Settings.from_env()
    except ValueError as error:  # a bad environment value: one line naming the variable, not a traceback
        print(f"huracan {args.command}: error: {error}", file=sys.stderr)
        return 2
    if args.command == "health" and args.action:  # the pause log in the Archive: no instance needed
        from huracan_dagster.cli.pattern_pauses import pattern_command

        return pattern_command(
            settings, args.action, getattr(args, "pattern", None), getattr(args, "reason", ""), args.timeout
        )
    if args.command == "health":  # reads only: before the repairs below, and before the instance is opened
        from huracan_dagster.cli.health import show_health

        return show_health(settings, args.json, args.timeout)
    from huracan_dagster.cli.preflight import unreachable

    problem = unreachable(settings, args.command)
    if problem:  # a service it needs does not answer: one line naming the variable, before Dagster's retries
        print(f"huracan {args.command}: error: {problem}", file=sys.stderr)
        return 2
    from huracan_dagster.cli.moved_home import follow_home

    for line in follow_home(settings):  # a copied or restored home: what still pointed at the old place
        print(f"huracan {args.command}: {line}", flush=True)
    if args.command == "report":  # reads the exports' DuckDB file only: no Dagster instance needed
        return _report(settings, args.start, args.end, args.timeframe)
    if args.command == "research":  # the Archive, the DuckDB file and MLflow: no Dagster instance needed
        from huracan_dagster.cli.research import research_command

        return research_command(
            replace(settings, source=args.source or settings.source),
            symbols=[s for s in (args.symbols or "").split(",") if s],
            start=args.start,
            end=args.end,
            timeframes=[t for t in (args.timeframes or "").split(",") if t] or None,
            space_spec=args.space,
            workers=args.workers,
        )
    if args.command == "hamilton":  # reads and writes the Archive only: no Dagster instance needed
        from huracan_dagster.cli.hamilton import hamilton_command

        settings = replace(settings, source=args.source or settings.source).with_timeframe(
            args.timeframe or settings.timeframe
        )
        return hamilton_command(
            settings, start=args.start, end=args.end, speed=args.speed, kill=args.kill, unkill=args.unkill
        )
    if args.command == "run":
        from huracan_dagster.cli.arguments import check_run_options, check_workers_agree

        check_workers_agree(args.run_parser, args, settings)
        settings = replace(
            settings, source=args.source or settings.source, run_workers=args.workers or settings.run_workers
        ).with_timeframe(args.timeframe or settings.timeframe)
        window = (args.date, args.date) if args.date else (args.start, args.end) if args.start else DEFAULT_WINDOW
        options = check_run_options(args.run_parser, args, settings, window)
    # the code location reads these when the UI or a daemon loads it: keep it consistent with this process
    os.environ.update(
        HURACAN_HOME=str(settings.home), HURACAN_SOURCE=settings.source, HURACAN_TIMEFRAME=settings.timeframe
    )
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # nothing leaves this machine
    # its table migrations are not news for the summary; MLflow resets its logger's level when first imported
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    prepare_dagster_home(settings)
    if args.command == "ui":
        return _ui(args.host, args.port)
    if args.command == "mlflow":
        return _mlflow(settings, args.host, int(args.port))
    if args.command == "workers":
        return _workers(settings, args.processes)
    if args.command == "status":
        from huracan_dagster.cli.status import show_status

        return show_status(settings)
    from huracan_core.sources import CandleFetchError
    from huracan_dagster.cli.run import WindowError, run_window

    try:
        return run_window(settings, options.start, options.end, symbols=options.symbols, select=args.select)
    except CandleFetchError as error:  # before any run: the universe or the listing dates could not be read
        print(f"huracan run: error: {error}", file=sys.stderr)
        return 1
    except WindowError as error:  # before any run: the source cannot hold what the window needs
        print(f"huracan run: error: {error}", file=sys.stderr)
        return 2


def _report(settings, start: date, end: date, timeframe: str | None) -> int:
    from huracan_core.reports import report_command

    try:
        folder = report_command(settings.home, start, end, timeframe)
    except (FileNotFoundError, ValueError) as error:  # no exports yet; several timeframes and none chosen
        print(f"huracan report: error: {error}", file=sys.stderr)
        return 1
    print(f"window report {start}..{end}: {folder / 'index.html'} (and window_report.json)", flush=True)
    return 0


def _mlflow(settings, host: str, port: int) -> int:
    from huracan_core.models.tracking import TRAINING_VIEW, mlflow_ui_command, ui_landing
    from huracan_dagster.defs.definitions import mlflow_resource

    config = mlflow_resource(settings).config()
    settings.mlflow_dir.mkdir(parents=True, exist_ok=True)
    if config.s3_endpoint:  # the server reads the runs' artifacts from S3 itself
        os.environ.setdefault("MLFLOW_S3_ENDPOINT_URL", config.s3_endpoint)
    # the server's job runner (8 worker processes) runs GenAI jobs only (judges, evaluations, trace rollups)
    os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    try:
        landing = ui_landing(config)
    except ValueError as error:  # the experiment was deleted: the UI still opens, on the list, to restore it
        print(f"huracan mlflow: {error}", file=sys.stderr)
        landing = f"#/experiments?{TRAINING_VIEW}"
    print(
        f"MLflow UI on http://{host}:{port}/{landing} "
        f"(store: {settings.mlflow_dir if not settings.mlflow_uri else 'HURACAN_MLFLOW_URI'})",
        flush=True,
    )
    # uvicorn answers SIGINT (Ctrl-C) with a KeyboardInterrupt traceback, SIGTERM with a clean shutdown
    return run_as_service(mlflow_ui_command(config, host, port), stop_with=signal.SIGTERM)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a whole number, 1 or more")
    return int(value)


def _workers(settings, processes: int | None) -> int:
    from huracan_core.cores import usable_cores
    from huracan_dagster.cli.workers import start_workers

    if settings.executor != "celery":
        print(
            f"huracan workers: error: HURACAN_EXECUTOR is {settings.executor}: every run executes its steps in its "
            "own process and none would reach a worker; set HURACAN_EXECUTOR=celery here and for the code location",
            file=sys.stderr,
        )
        return 2
    return start_workers(settings, processes or usable_cores())


def _ui(host: str, port: str) -> int:
    from huracan_dagster.cli.code_location import ui_target_args

    command = [sys.executable, "-m", "dagster", "dev", "-h", host, "-p", port, *ui_target_args()]
    print(f"Dagster UI on http://{host}:{port} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})", flush=True)
    return run_as_service(command)


def run_as_service(
    command: list[str],
    grace_s: float = 20.0,
    stop_with: signal.Signals | None = None,
    then: signal.Signals | None = None,
) -> int:
    """Run ``command`` (``dagster dev``: a webserver and a daemon; ``mlflow server``: uvicorn; a Celery worker) in its
    own process group and stop all of it on one Ctrl-C, SIGTERM or SIGHUP to this process: the signal (or
    ``stop_with``, for a service that answers one of them badly) is passed on to the whole group, and whatever is
    still alive ``grace_s`` after the command ended (or after the signal) is killed — after ``then``, sent ``grace_s``
    after the signal and given as long again, for a service with a harder way to stop than a kill (a Celery worker's
    second Ctrl-C hands its running steps back to the queue). Without this a SIGTERM to ``huracan`` left the
    service's children running (and its port answering)."""
    child = subprocess.Popen(command, start_new_session=True)
    stopping: list[float] = []

    def forward(signum: int, _frame: object) -> None:
        stopping.append(time.monotonic())
        _signal_group(child.pid, stop_with or signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    escalated = False
    try:
        while True:
            try:
                code = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                waited = time.monotonic() - stopping[0] if stopping else 0.0
                if then is not None and not escalated and waited > grace_s:
                    _signal_group(child.pid, then)
                    escalated = True
                elif stopping and waited > (grace_s if then is None else 2 * grace_s):
                    _signal_group(child.pid, signal.SIGKILL)
    finally:
        deadline = time.monotonic() + grace_s
        while _group_alive(child.pid) and time.monotonic() < deadline:  # its webserver and daemon, after it
            time.sleep(0.2)
        _signal_group(child.pid, signal.SIGKILL)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping and code in (0, -signal.SIGINT, -signal.SIGTERM, 130, 143) else code


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
