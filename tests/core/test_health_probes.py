"""The health probes against real clients on loopback: SQLite files, PostgreSQL on a port nothing listens on, the
Archive's folder, ccxt against the Binance-shaped server, and the Telegram-shaped one. Each answers
within its timeout, names the cause, and writes nothing."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from huracan_core.broadcast.telegram import TelegramClient
from huracan_core.health import ComponentStatus, Finding, State, any_down, probe, probes
from huracan_core.health.status import counts, format_markdown, format_table, to_json
from huracan_core.sources.ccxt_source import CcxtSource
from huracan_core.storage import LocalArtifactStore
from tests.fake_binance import FakeBinance, binance_exchange
from tests.fake_telegram import FakeTelegram

#: nothing listens on port 1: a refused connection, at once
DEAD_PG = "postgresql://postgres:secret@127.0.0.1:1/huracan"


def test_a_probe_that_raises_is_one_down_row_with_the_first_line_of_its_cause():
    def broken() -> Finding:
        raise ConnectionError("refused by 127.0.0.1:1\nsecond line with detail")

    status = probe("archive", broken)
    assert status == ComponentStatus(
        "archive", State.DOWN, "ConnectionError: refused by 127.0.0.1:1", status.latency_ms
    )
    assert status.latency_ms is not None and status.latency_ms >= 0
    # a component that was not called has no latency
    assert probe("telegram", lambda: Finding(State.OFF, "not set")).latency_ms is None


def test_the_table_json_and_counts_hold_every_row():
    rows = [
        ComponentStatus("instance storage", State.OK, "SQLite: 3 runs", 1.5),
        ComponentStatus("archive", State.DOWN, "bucket gone | really", 2.0),
        ComponentStatus("telegram", State.OFF, "not set", None),
    ]
    table = format_table(rows).splitlines()
    assert len(table) == 4 and table[0].split() == ["component", "state", "ms", "detail"]
    assert "down" in table[2] and table[3].split()[2] == "-"
    doc = json.loads(to_json(rows))
    assert doc["down"] is True and [c["state"] for c in doc["components"]] == ["ok", "down", "off"]
    assert counts(rows) == {"ok": 1, "degraded": 0, "down": 1, "off": 1, "unknown": 0}
    assert any_down(rows) and not any_down(rows[:1])
    assert "bucket gone / really" in format_markdown(rows)  # a | would end the markdown cell


def test_a_sqlite_store_is_counted_read_only_and_a_missing_one_is_not_created(tmp_path):
    missing = tmp_path / "mlflow" / "mlflow.db"
    found = probes.database(f"sqlite:///{missing}", 1.0, count="runs", created_by="the first training")
    assert found.state is State.OK and "does not exist yet: the first training creates it" in found.detail
    assert not missing.exists() and not missing.parent.exists()
    present = tmp_path / "store.db"
    with sqlite3.connect(present) as con:
        con.execute("CREATE TABLE runs (id INTEGER)")
        con.executemany("INSERT INTO runs VALUES (?)", [(1,), (2,)])
    assert probes.database(f"sqlite:///{present}", 1.0, count="runs", created_by="x") == Finding(
        State.OK, f"sqlite:///{present}: 2 runs"
    )
    no_table = probes.database(f"sqlite:///{present}", 1.0, count="experiments", created_by="the first training")
    assert no_table.state is State.OK and "no experiments table yet" in no_table.detail


def test_an_unreachable_postgres_is_down_quickly_naming_the_cause_without_the_password():
    start = time.monotonic()
    found = probes.database(DEAD_PG, 2.0, count="runs", created_by="x")
    assert time.monotonic() - start < 3.0
    assert found.state is State.DOWN and "Connection refused" in found.detail
    assert "secret" not in found.detail and "postgres:***@127.0.0.1:1/huracan" in found.detail


def test_the_local_archive_is_ok_present_or_not_yet_created(tmp_path):
    assert probes.archive(LocalArtifactStore(tmp_path)) == Finding(State.OK, str(tmp_path))
    later = probes.archive(LocalArtifactStore(tmp_path / "home" / "archive"))
    assert later.state is State.OK and "does not exist yet" in later.detail
    assert not (tmp_path / "home").exists()


@pytest.fixture
def binance(btc_15m):
    with FakeBinance({"BTCUSDT": btc_15m}) as server:
        yield server


def test_the_exchange_answers_its_server_time_and_a_stall_is_down_after_the_timeout(binance):
    exchange = CcxtSource(binance_exchange(binance.url)).exchange
    assert probes.exchange(exchange, 1.0) == Finding(State.OK, "binance answers fetch_time")
    assert binance.requests[-1]["path"] == "/api/v3/time"  # one cheap call, not the markets
    binance.faults.append("stall")
    binance.stall_s = 3.0
    start = time.monotonic()
    found = probes.exchange(exchange, 1.0)
    assert time.monotonic() - start < 2.5
    assert found.state is State.DOWN and found.detail.startswith("binance: fetch_time timed out after 1 s")


def test_telegram_is_off_unconfigured_ok_with_the_token_and_down_naming_the_variable_when_rejected():
    off = probes.telegram(TelegramClient("", "42"))
    assert off == Finding(State.OFF, "HURACAN_TELEGRAM_TOKEN not set: the Broadcaster is off")
    with FakeTelegram() as fake:
        good = probes.telegram(TelegramClient(fake.token, "42", base_url=fake.url, retries=0, timeout_s=1.0))
        assert good == Finding(State.OK, f"{fake.url} accepts the bot token")
        rejected = probes.telegram(TelegramClient("999:wrong-token", "42", base_url=fake.url, retries=0))
        assert rejected.state is State.DOWN and "HURACAN_TELEGRAM_TOKEN" in rejected.detail
        assert "wrong-token" not in rejected.detail  # the token never appears, even when it is the wrong one
        fake.faults.append("stall")
        fake.stall_s = 2.0
        stalled = probes.telegram(TelegramClient(fake.token, "42", base_url=fake.url, retries=0, timeout_s=0.5))
        assert stalled.state is State.DOWN and "timed out" in stalled.detail
        assert fake.messages == []  # a health check sends nothing
