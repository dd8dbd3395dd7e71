"""Reports for people: the daily report and the window report (a backtest report for any range of days),
built with SQL over the exports' DuckDB views (``docs/exports.md``), written as one
self-contained ``index.html`` (opens offline) plus a JSON document. Pure: no Dagster here."""

from huracan_core.reports.command import (
    daily_folder,
    daily_report_command,
    exports_db,
    open_exports,
    report_command,
    window_folder,
)
from huracan_core.reports.daily import daily_report
from huracan_core.reports.document import Report
from huracan_core.reports.window import window_report
from huracan_core.reports.write import write_report

__all__ = [
    "Report",
    "daily_folder",
    "daily_report",
    "daily_report_command",
    "exports_db",
    "open_exports",
    "report_command",
    "window_folder",
    "window_report",
    "write_report",
]
