"""``huracan health`` through a real instance: a full table after a run, and each service that can fail — the
instance's PostgreSQL, the Archive's S3 endpoint, the exchange, Telegram — named alone as down, exit status 1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import dagster as dg
import pytest

from huracan_core.sources.ccxt_source import CcxtSource
from huracan_dagster.cli.main import main
from tests.fake_binance import FakeBinance, binance_exchange
from tests.fake_telegram import FakeTelegram
from tests.services.postgres import throwaway_database
from tests.services.s3 import s3_server

DAY = "2024-12-31"
#: the rows that are always there, in order, for the one timeframe of the tests
COMPONENTS = [
    "instance storage",
    "daemon",
    "engine 15m",
    "stale assets",
    "archive",
    "patterns",
    "hamilton",
    "mlflow store",
    "exchange",
    "telegram",
]
INSTANCE_ROWS = ("daemon", "engine 15m", "stale assets")


def health(capsys, *extra: str) -> tuple[int, dict[str, dict]]:
    """Exit status and the rows of ``huracan health --json``, by component."""
    code = main(["health", "--json", "--timeout", "1", *extra])
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert [c["component"] for c in doc["components"]] == COMPONENTS
    assert doc["down"] == (code == 1)
    return code, {c["component"]: c for c in doc["components"]}


def down(rows: dict[str, dict]) -> list[str]:
    return [name for name, row in rows.items() if row["state"] == "down"]


def test_after_a_run_every_component_answers_and_the_table_says_so(huracan_home, capsys):
    assert main(["run", "--date", DAY, "--symbols", "BTC/USDT", "--select", "candles"]) == 0
    capsys.readouterr()
    code, rows = health(capsys)
    assert code == 0 and not down(rows)
    assert rows["instance storage"]["state"] == "ok" and "SQLite in" in rows["instance storage"]["detail"]
    engine = rows["engine 15m"]
    assert engine["state"] == "ok" and engine["detail"].startswith("last success ")
    assert f"window {DAY}..{DAY}" in engine["detail"]
    assert rows["stale assets"]["state"] == "ok"
    assert rows["archive"] == {**rows["archive"], "state": "ok", "detail": str(huracan_home / "archive")}
    # no daemon over a recorded sample, no exchange, no Telegram: off, not down, and not called
    for name in ("daemon", "exchange", "telegram"):
        assert rows[name]["state"] == "off" and rows[name]["latency_ms"] is None, name
    assert all(rows[name]["latency_ms"] is not None for name in ("instance storage", "engine 15m", "archive"))
    assert (rows["patterns"]["state"], rows["patterns"]["detail"]) == ("ok", "none paused")
    assert rows["hamilton"]["state"] == "off" and "never ran in this home" in rows["hamilton"]["detail"]
    # the table: a header and a row per component
    assert main(["health"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["component", "state", "ms"] and len(table) == len(COMPONENTS) + 1


def test_an_open_pause_and_a_pressed_kill_switch_are_degraded_rows_never_down(huracan_home, capsys):
    pattern = "TREND_UP:long:trend,momentum"
    assert main(["health", "pause", pattern, "--reason", "looked wrong"]) == 0
    assert main(["hamilton", "--kill", "checking the desk"]) == 0
    capsys.readouterr()
    code, rows = health(capsys)
    assert code == 0 and not down(rows)
    assert rows["patterns"]["state"] == "degraded" and f"15m {pattern} since " in rows["patterns"]["detail"]
    assert (
        rows["hamilton"]["state"] == "off"
        and "kill switch is pressed (checking the desk)" in rows["hamilton"]["detail"]
    )
    assert main(["health", "resume", pattern]) == 0
    capsys.readouterr()
    assert health(capsys)[1]["patterns"]["state"] == "ok"


def test_a_stopped_postgres_is_the_instance_alone_and_what_it_holds_is_unknown(huracan_home, capsys, monkeypatch):
    monkeypatch.setenv("HURACAN_PG_URL", "postgresql://postgres:secret@127.0.0.1:1/huracan")
    code, rows = health(capsys)
    assert code == 1 and down(rows) == ["instance storage"]
    detail = rows["instance storage"]["detail"]
    assert "127.0.0.1:1" in detail and "Connection refused" in detail and "secret" not in detail
    assert {rows[name]["state"] for name in INSTANCE_ROWS} == {"unknown"}


def test_a_dead_s3_endpoint_is_the_archive_alone(huracan_home, capsys, monkeypatch):
    with s3_server(monkeypatch) as s3:
        monkeypatch.setenv("HURACAN_S3_URL", f"s3://{s3.bucket}/huracan")
        monkeypatch.setenv("HURACAN_S3_ENDPOINT", s3.endpoint)
        code, rows = health(capsys)
        assert code == 0 and rows["archive"]["state"] == "ok" and s3.bucket in rows["archive"]["detail"]
    code, rows = health(capsys)  # the server is gone
    assert code == 1 and down(rows) == ["archive"]
    assert {rows[name]["state"] for name in ("patterns", "hamilton")} == {"unknown"}
    assert s3.endpoint.split("//")[1] in rows["archive"]["detail"]


@pytest.fixture
def exchange(btc_15m, monkeypatch) -> Iterator[FakeBinance]:
    """``HURACAN_SOURCE=ccxt:binance`` served by the loopback Binance: ccxt's own requests, never the internet."""
    with FakeBinance({"BTCUSDT": btc_15m}) as fake:
        monkeypatch.setattr(CcxtSource, "from_id", classmethod(lambda cls, _id, **kw: cls(binance_exchange(fake.url))))
        monkeypatch.setenv("HURACAN_SOURCE", "ccxt:binance")
        monkeypatch.setenv("HURACAN_AUTOMATION", "off")  # no daemon here: with the schedules on it would be down
        yield fake


def test_an_exchange_that_times_out_is_the_exchange_alone(huracan_home, capsys, exchange):
    code, rows = health(capsys)
    assert code == 0 and rows["exchange"] == {**rows["exchange"], "state": "ok", "detail": "binance answers fetch_time"}
    exchange.faults.append("stall")
    exchange.stall_s = 3.0
    code, rows = health(capsys)
    assert code == 1 and down(rows) == ["exchange"]
    assert rows["exchange"]["detail"].startswith("binance: fetch_time timed out after 1 s")


def test_a_rejected_telegram_token_is_telegram_alone_and_never_printed(huracan_home, capsys, monkeypatch):
    with FakeTelegram() as fake:
        monkeypatch.setenv("HURACAN_TELEGRAM_URL", fake.url)
        monkeypatch.setenv("HURACAN_TELEGRAM_CHAT_ID", "42")
        monkeypatch.setenv("HURACAN_TELEGRAM_TOKEN", fake.token)
        code, rows = health(capsys)
        assert code == 0 and rows["telegram"]["state"] == "ok"
        monkeypatch.setenv("HURACAN_TELEGRAM_TOKEN", "999:revoked-token")
        code = main(["health", "--timeout", "1"])
        table = capsys.readouterr().out
        assert code == 1 and "revoked-token" not in table
        code, rows = health(capsys)
        assert code == 1 and down(rows) == ["telegram"]
        assert "rejected the bot token" in rows["telegram"]["detail"]
        assert "HURACAN_TELEGRAM_TOKEN" in rows["telegram"]["detail"]
        assert fake.messages == []


def test_the_instance_and_mlflow_on_postgres_answer_and_are_counted(huracan_home, capsys, monkeypatch):
    with throwaway_database("huracan_dagster") as instance_url, throwaway_database("huracan_mlflow") as mlflow_url:
        monkeypatch.setenv("HURACAN_PG_URL", instance_url)
        monkeypatch.setenv("HURACAN_MLFLOW_URI", mlflow_url)
        code, rows = health(capsys)
        dg.DagsterInstance.get().dispose()  # before its database is dropped
    assert code == 0 and not down(rows)
    assert rows["instance storage"]["detail"] == f"PostgreSQL {instance_url}: 0 runs"
    # MLflow's tables come with its first training: the database answers, and the row says what creates them
    assert rows["mlflow store"]["state"] == "ok" and "no runs table yet" in rows["mlflow store"]["detail"]
