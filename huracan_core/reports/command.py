"""The entry points the CLI and the pipeline call: open the analysts' DuckDB file read-only, build a report,
write it under ``HURACAN_HOME/reports``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from huracan_core.reports.daily import daily_report
from huracan_core.reports.window import window_folder_name, window_report
from huracan_core.reports.write import write_report


def exports_db(home: Path) -> Path:
    return home / "exports" / "huracan.duckdb"


def reports_dir(home: Path) -> Path:
    return home / "reports"


def daily_folder(home: Path, day: date) -> Path:
    return reports_dir(home) / day.isoformat()


def window_folder(home: Path, start: date, end: date) -> Path:
    return reports_dir(home) / window_folder_name(start, end)


def open_exports(home: Path) -> duckdb.DuckDBPyConnection:
    """The exports' DuckDB file, read-only; an error naming the file when there is none yet."""
    path = exports_db(home)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no exports database; it is built at the end of a whole `huracan run` (one without --select) "
            "over the days, or alone by `huracan run --select analytics`"
        )
    return duckdb.connect(str(path), read_only=True)


def report_command(home: Path, start: date, end: date, timeframe: str | None = None) -> Path:
    """``huracan report --start D1 --end D2``: writes ``reports/window_<D1>_<D2>/{index.html,window_report.json}``
    and returns that folder."""
    with open_exports(home) as con:
        report = window_report(con, start, end, timeframe)
    folder = window_folder(home, start, end)
    write_report(folder, report)
    return folder


def daily_report_command(
    home: Path, day: date, failed_checks: Sequence[Mapping[str, Any]] = (), timeframe: str | None = None
) -> Path:
    """Writes ``reports/<DATE>/{index.html,daily_report.json}`` and returns the path of ``index.html``."""
    with open_exports(home) as con:
        report = daily_report(con, day, failed_checks, timeframe)
    return write_report(daily_folder(home, day), report)
