"""A bad or unreachable setting is one line on stderr naming the variable and the cause, exit status 2, before
anything runs — never a traceback; and a report of a window the exports hold nothing for says so and writes
nothing (exit status 1)."""

from __future__ import annotations

import dagster as dg
import pytest

from huracan_dagster.cli.main import main
from tests.core.test_reports import END, START, connect, ledger, write_exports
from tests.services.s3 import s3_server

DEAD_PG = "postgresql://postgres:secret@127.0.0.1:1/huracan"


def assert_one_line(capsys, command: str, *expected: str) -> None:
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    [line] = captured.err.splitlines()
    assert line.startswith(f"huracan {command}: error: "), line
    for text in expected:
        assert text in line, line


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("HURACAN_RETRAIN_EVERY_DAYS", "abc", "give a whole number of days"),
        ("HURACAN_TOP_N", "five", "give a whole number of symbols"),
        ("HURACAN_FEE_PROFILE", "vip9", "unknown fee profile 'vip9'; known: binance-perp-vip0"),
        ("HURACAN_GATE_PROFILE", "lenient", "unknown gate profile 'lenient'"),
        ("HURACAN_ORDER_TYPE", "limit", "unknown order type 'limit'"),
        ("HURACAN_TIMEFRAME", "7m", "does not divide a day"),
        ("HURACAN_TIMEFRAMES", "15m,weekly", "unknown timeframe 'weekly'"),
        ("HURACAN_SOURCE", "replay:/nowhere", "replay folder /nowhere does not exist"),
        ("HURACAN_SOURCE", "ccxt:nosuchexchange", "ccxt has no exchange 'nosuchexchange'"),
        ("HURACAN_S3_URL", "bucket/prefix", "is not an s3://bucket[/prefix] URL"),
        ("HURACAN_PG_URL", "mysql://me:secret@db/huracan", "give a postgresql://"),
        ("HURACAN_POOL_TIMEOUT_S", "soon", "give a number of seconds above 0"),
        ("HURACAN_RESEARCH_SPACE", "wide", "search space wide: no such file"),
        ("HURACAN_RESEARCH_DAYS", "30", "the search space 'default' needs at least 75 days"),
        ("HURACAN_RESEARCH_CRON", "mondays", "give a cron expression of 5 fields"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(huracan_home, capsys, monkeypatch, variable, value, reason):
    monkeypatch.setenv(variable, value)
    assert main(["status"]) == 2
    assert_one_line(capsys, "status", variable, reason)
    assert "secret" not in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["status"], ["run", "--date", "2024-12-31", "--select", "candles"], ["ui"]])
def test_an_unreachable_postgres_is_one_line_naming_the_variable(huracan_home, capsys, monkeypatch, argv):
    monkeypatch.setenv("HURACAN_PG_URL", DEAD_PG)
    assert main(argv) == 2
    assert_one_line(
        capsys, argv[0], "HURACAN_PG_URL=postgresql://postgres:***@127.0.0.1:1/huracan", "Connection refused"
    )


def test_run_names_an_unreachable_mlflow_store_or_s3_endpoint_before_any_run(huracan_home, capsys, monkeypatch):
    argv = ["run", "--date", "2024-12-31", "--select", "candles"]
    monkeypatch.setenv("HURACAN_MLFLOW_URI", DEAD_PG.replace("huracan", "mlflow"))
    assert main(argv) == 2
    assert_one_line(
        capsys, "run", "HURACAN_MLFLOW_URI=postgresql://postgres:***@127.0.0.1:1/mlflow", "Connection refused"
    )
    monkeypatch.setenv("HURACAN_MLFLOW_URI", "")
    with s3_server(monkeypatch) as s3:
        monkeypatch.setenv("HURACAN_S3_URL", f"s3://{s3.bucket}/huracan")
        monkeypatch.setenv("HURACAN_S3_ENDPOINT", s3.endpoint)
    assert main(argv) == 2  # the server is gone
    assert_one_line(capsys, "run", f"HURACAN_S3_URL=s3://{s3.bucket}/huracan (HURACAN_S3_ENDPOINT={s3.endpoint})")
    assert dg.DagsterInstance.get().get_runs() == []  # nothing ran


def test_a_report_of_a_window_with_nothing_in_it_says_so_and_writes_nothing(huracan_home, capsys):
    root = write_exports(huracan_home / "archive", ledger())
    (huracan_home / "exports").mkdir()
    connect(root, str(huracan_home / "exports" / "huracan.duckdb")).close()
    assert main(["report", "--start", "2024-10-01", "--end", "2024-10-03"]) == 1
    assert_one_line(capsys, "report", "nothing in 2024-10-01..2024-10-03", f"they hold {START}..{END}")
    assert not (huracan_home / "reports").exists()
    assert main(["report", "--start", str(START), "--end", str(END)]) == 0  # the days it holds: a report
    assert (huracan_home / "reports" / f"window_{START}_{END}" / "window_report.json").is_file()
