"""Recovery without a hand: what a killed run leaves — a pool slot, temporary files, a database that reads another
home — is put right by the next command, and what could not be done (a pool held too long, a message not sent) is
said in the run's summary, never found later by a person.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import dagster as dg
import polars as pl

from huracan_core.exports.database import build_database, database_state
from huracan_dagster.defs.partitions import ANALYTICS_POOL
from huracan_dagster.instance.prepare import prepare_dagster_home
from huracan_dagster.instance.run_owner import Owner
from huracan_dagster.settings import Settings
from tests.e2e.test_failures import REPO, cli
from tests.fake_telegram import FakeTelegram

DAY = "2024-12-05"


def huracan(*argv: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """``huracan ARGV`` in its own process (killed with its group if it outlives ``timeout``: a jam fails the test)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "huracan_dagster.cli", *argv],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        raise AssertionError(f"huracan {' '.join(argv)} still running after {timeout} s:\n{out[-3000:]}") from None
    return subprocess.CompletedProcess(process.args, process.returncode, out, "")


def test_a_run_killed_inside_the_analytics_pool_never_jams_the_next(huracan_home):
    prepare_dagster_home(Settings.from_env())
    instance = dg.DagsterInstance.get()
    process = subprocess.Popen(
        [sys.executable, "-m", "huracan_dagster.cli", "run", "--select", "analytics"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not instance.event_log_storage.get_concurrency_info(ANALYTICS_POOL).claimed_slots:
        assert process.poll() is None and time.monotonic() < deadline, "the analytics step never claimed its pool"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # inside the analytics step, holding the pool's only slot
    process.wait()
    [held] = instance.event_log_storage.get_concurrency_info(ANALYTICS_POOL).claimed_slots

    done = huracan("run", "--select", "analytics")
    assert done.returncode == 0, done.stdout
    assert f"run {held.run_id[:8]} marked failed: its process {process.pid}" in done.stdout
    assert f"freed the pool slots of run {held.run_id[:8]}" in done.stdout
    assert "1 run (every export" in done.stdout and "succeeded" in done.stdout
    info = instance.event_log_storage.get_concurrency_info(ANALYTICS_POOL)
    assert info.claimed_slots == [] and info.pending_steps == []


def test_a_pool_held_by_a_live_run_is_waited_for_with_its_holder_named_and_given_up(huracan_home, monkeypatch):
    prepare_dagster_home(Settings.from_env())
    instance = dg.DagsterInstance.get()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        tags = Owner(holder.pid, socket.gethostname()).tags()
        run = instance.add_run(dg.DagsterRun(job_name="analytics", status=dg.DagsterRunStatus.STARTED, tags=tags))
        instance.event_log_storage.initialize_concurrency_limit_to_default(ANALYTICS_POOL)
        assert instance.event_log_storage.claim_concurrency_slot(ANALYTICS_POOL, run.run_id, "analytics_db").is_claimed
        monkeypatch.setenv("HURACAN_POOL_TIMEOUT_S", "3")
        waited = huracan("run", "--select", "analytics", timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert waited.returncode == 1, waited.stdout
    assert f"waiting for pool {ANALYTICS_POOL}" in waited.stdout
    assert f"held by run {run.run_id[:8]} (step analytics_db; huracan run pid {holder.pid}" in waited.stdout
    assert (
        re.search(r"gave up after [3-9] s waiting for pool", waited.stdout)
        and "HURACAN_POOL_TIMEOUT_S" in waited.stdout
    )
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED  # a live holder is never reaped


def test_leftovers_are_reported_by_status_and_swept_by_the_next_run(huracan_home, capsys):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    gone = int(dead.stdout)  # a writer killed before its rename
    planted = [
        huracan_home / "archive" / "candles" / "BTC-USDT" / "15m" / f".{DAY}.parquet.pid{gone}.k3j9x2qa.tmp",
        huracan_home / "exports" / f".huracan.duckdb.pid{gone}.tmp",
        huracan_home / "exports" / f".huracan.duckdb.pid{gone}.tmp.wal",
    ]
    # a live writer's (this process), about to be renamed: never touched
    fresh = huracan_home / "archive" / "features" / f".{DAY}.parquet.pid{os.getpid()}.a8b7c6d5.tmp"
    for path in [*planted, fresh]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half of something")
    keep = huracan_home / "archive" / "candles" / "notes.tmp"  # not a temporary name of ours: never touched
    keep.write_text("mine")

    assert cli("status") == 0
    out = capsys.readouterr().out
    assert "leftovers of killed runs: 4 temporary files" in out
    assert all(str(path) in out for path in [*planted, fresh])

    assert cli("run", "--date", DAY, "--symbols", "BTC/USDT", "--select", "candles") == 0
    assert "removed 3 temporary files that killed runs left" in capsys.readouterr().out
    assert not any(path.exists() for path in planted)
    assert fresh.exists() and keep.exists()


def test_status_says_when_the_analytics_database_is_missing_and_select_analytics_builds_it(huracan_home, capsys):
    assert cli("status") == 0
    out = capsys.readouterr().out
    assert "huracan.duckdb is missing; build it with `huracan run --select analytics`" in out
    assert "analytics_db: never materialized" in out
    assert cli("run", "--select", "analytics") == 0
    capsys.readouterr()
    assert cli("status") == 0
    out = capsys.readouterr().out
    assert "analytics_db: materialized at " in out and "huracan.duckdb: " in out and " views, built " in out


def test_a_moved_home_rebuilds_views_that_read_the_old_place(huracan_home, tmp_path, capsys):
    old = tmp_path / "old"
    table = old / "archive" / "exports" / "trade_history" / "15m" / "BTC-USDT"
    table.mkdir(parents=True)
    pl.DataFrame({"day": [DAY], "net_bps": [1.5]}).write_parquet(table / f"{DAY}.parquet")
    build_database(old / "exports" / "huracan.duckdb", old / "archive")
    for folder in ("archive", "exports"):  # moved into this home, nothing left at the old place
        os.rename(old / folder, huracan_home / folder)
    database = huracan_home / "exports" / "huracan.duckdb"
    assert database_state(database).reads_outside(huracan_home / "archive")
    assert cli("status") == 0
    out = capsys.readouterr().out
    assert f"its views read {old / 'archive'} (the home it was built in); built again from {huracan_home}" in out
    state = database_state(database)
    assert "trade_history" in state.views and state.reads and not state.reads_outside(huracan_home / "archive")


def test_notifications_that_could_not_be_sent_are_listed_once_in_the_run_summary(huracan_home, monkeypatch, capsys):
    with FakeTelegram(token="123456:good-token") as telegram:
        monkeypatch.setenv("HURACAN_TELEGRAM_TOKEN", "123456:revoked")
        monkeypatch.setenv("HURACAN_TELEGRAM_CHAT_ID", "42")
        monkeypatch.setenv("HURACAN_TELEGRAM_URL", telegram.url)
        assert cli("run", "--start", "2024-12-05", "--end", "2024-12-06", "--select", "daily_summary") == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "not sent" in line]
    assert lines == [
        "    2 notifications not sent: Telegram rejected the bot token (401 Unauthorized): check "
        "HURACAN_TELEGRAM_TOKEN; message not sent"
    ], out
    assert "revoked" not in out
    assert telegram.requests == 2  # a permanent refusal is not retried
