"""Every failure a clear message, nothing lost: each case a user met ends with exit status ≠ 0 and one readable
message naming the partition (or file, symbol, option) and the reason — on corrupted copies of the real sample.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from huracan_core.regimes.detector import RegimeDetector
from huracan_core.sources.bundled import SAMPLE_DIR
from huracan_dagster.cli.main import main
from huracan_dagster.cli.run import run_window
from huracan_dagster.instance.prepare import prepare_dagster_home
from huracan_dagster.instance.registration import register_symbols
from huracan_dagster.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DAY = "2024-12-05"
PARTITION = f"{DAY}|BTC-USDT"
WRAPPERS = ("Traceback", "Error occurred while executing", "DagsterExecutionStepExecutionError")


def replay_copy(
    tmp_path: Path, corrupt: Callable[[pl.DataFrame], pl.DataFrame] | None = None, pairs=("BTC-USDT", "ETH-USDT")
) -> Path:
    """A replay folder with real sample files; BTC's file passed through ``corrupt``."""
    folder = tmp_path / "replay"
    folder.mkdir(exist_ok=True)
    for pair in pairs:
        frame = pl.read_parquet(SAMPLE_DIR / f"{pair}_15m.parquet")
        (corrupt if corrupt and pair == "BTC-USDT" else (lambda f: f))(frame).write_parquet(
            folder / f"{pair}_15m.parquet"
        )
    return folder


def cli(*argv: str) -> int:
    """``huracan ARGV`` in this process; a usage error's ``SystemExit`` becomes its exit status."""
    try:
        return main(list(argv))
    except SystemExit as stop:
        return int(stop.code)


def assert_one_clear_message(out: str, err: str, text: str) -> None:
    assert text in out + err, out + err
    assert (out + err).count(text) == 1, out + err
    for wrapper in WRAPPERS:
        assert wrapper not in out + err, out + err


def archived(home: Path, day: str = DAY) -> Path:
    [path] = (home / "archive" / "candles" / "BTC-USDT").rglob(f"{day}.parquet")
    return path


def failed_valid_partitions(instance: dg.DagsterInstance) -> set[str]:
    """Partitions on which a ``candles_valid`` evaluation failed, in any run."""
    found: set[str] = set()
    for run in instance.get_runs():
        for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            evaluation = entry.dagster_event.event_specific_data
            if evaluation.check_name == "candles_valid" and not evaluation.passed:
                found.add(evaluation.partition)
    return found


# --- 2 and 3: drifted candles fail through the blocking rules, with the cause, and write nothing ------------

TEXT_CLOSE = pl.col("close").cast(pl.String)
AT_3H = pl.col("timestamp").dt.strftime("%Y-%m-%d %H") == f"{DAY} 03"


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        pytest.param(
            lambda f: f.rename({"close": "Close"}),
            f"{PARTITION}: column 'close': required column missing (the frame has unexpected columns 'Close')",
            id="renamed-column",
        ),
        pytest.param(
            lambda f: f.with_columns(TEXT_CLOSE),
            f"{PARTITION}: column 'close': wrong dtype String (expected Float64)",
            id="prices-as-text",
        ),
        pytest.param(
            lambda f: f.with_columns(pl.when(AT_3H).then(pl.lit("n/a")).otherwise(TEXT_CLOSE).alias("close")),
            f"{PARTITION}: column 'close': text that is not a number: 'n/a' (4 rows: {DAY}T03:00Z",
            id="unparseable-value",
        ),
    ],
)
def test_drifted_candles_fail_the_blocking_check_and_keep_the_good_partition(
    huracan_home, tmp_path, capsys, corrupt, expected
):
    assert cli("run", "--date", DAY, "--symbols", "BTC/USDT", "--select", "candles") == 0
    good = archived(huracan_home).read_bytes()
    capsys.readouterr()

    replay = replay_copy(tmp_path, corrupt)
    assert (
        cli("run", "--date", DAY, "--symbols", "BTC/USDT", "--select", "candles", "--source", f"replay:{replay}") == 1
    )
    captured = capsys.readouterr()
    assert_one_clear_message(captured.out, captured.err, expected)
    assert "FAILED" in captured.out
    assert archived(huracan_home).read_bytes() == good  # nothing written: the previous good partition stays
    assert failed_valid_partitions(dg.DagsterInstance.get()) == {PARTITION}


# --- 2 and 4: a file that cannot be read, or is not there ---------------------------------------------------


def test_a_truncated_file_fails_the_run_naming_partition_file_and_symbol(huracan_home, tmp_path, capsys, monkeypatch):
    replay = replay_copy(tmp_path)
    btc = replay / "BTC-USDT_15m.parquet"
    btc.write_bytes(btc.read_bytes()[:4096])
    monkeypatch.setenv("HURACAN_SYMBOLS", "BTC/USDT")  # explicit universe: the run itself meets the file
    assert cli("run", "--date", DAY, "--select", "candles", "--source", f"replay:{replay}") == 1
    captured = capsys.readouterr()
    [line] = [x for x in captured.out.splitlines() if "cannot read" in x]
    assert PARTITION in line and str(btc) in line and "(BTC/USDT 15m)" in line and "PAR1" in line
    assert_one_clear_message(captured.out, captured.err, "cannot read")


def test_a_truncated_file_met_before_any_run_is_one_line_on_stderr(huracan_home, tmp_path, capsys):
    replay = replay_copy(tmp_path)
    btc = replay / "BTC-USDT_15m.parquet"
    btc.write_bytes(btc.read_bytes()[:4096])
    # no explicit universe: ranking the pairs by volume reads the broken file before any run starts
    assert (
        cli("run", "--date", DAY, "--symbols", "ETH/USDT", "--select", "candles", "--source", f"replay:{replay}") == 1
    )
    captured = capsys.readouterr()
    assert captured.err.strip().count("\n") == 0, captured.err
    assert captured.err.startswith("huracan run: error: ") and str(btc) in captured.err and "BTC/USDT" in captured.err
    assert_one_clear_message(captured.out, captured.err, "cannot read")


def test_a_missing_file_fails_the_run_naming_file_and_symbol(huracan_home, tmp_path, capsys):
    """``huracan run`` rejects such a symbol as a usage error (below); a file gone by the time the run reads it
    (or a universe from elsewhere) still fails the run with the file named."""
    replay = replay_copy(tmp_path, pairs=("ETH-USDT",))
    settings = Settings.from_env().with_timeframe("15m")
    settings = Settings(**{**settings.__dict__, "source": f"replay:{replay}"})
    prepare_dagster_home(settings)
    day = date.fromisoformat(DAY)
    assert run_window(settings, day, day, symbols=("BTC/USDT",), select="candles") == 1
    captured = capsys.readouterr()
    text = f"{PARTITION}: replay:{replay}: no 15m candles for BTC/USDT: file {replay / 'BTC-USDT_15m.parquet'} does not exist"
    assert_one_clear_message(captured.out, captured.err, text)


# --- 2: one symbol failing inside a run of its neighbours -----------------------------------------------------


def test_one_symbols_failure_in_a_joined_run_costs_its_neighbours_nothing(huracan_home, capsys, monkeypatch):
    """``huracan run`` joins neighbouring symbols' chain ranges into one run. When one symbol fails there, the
    assets the run did not finish run again symbol by symbol: the neighbours get every partition, each recorded
    once, and the failing symbol's own run fails with its cause."""
    detect = RegimeDetector.detect_many

    def failing_for_sol(detector: RegimeDetector, features):
        if any(key.endswith("|SOL-USDT") for key in features):
            raise ValueError("SOL-USDT: no regimes today (a fault this test injects)")
        return detect(detector, features)

    monkeypatch.setattr(RegimeDetector, "detect_many", failing_for_sol)
    monkeypatch.setenv("HURACAN_SYMBOLS", "BTC/USDT,ETH/USDT,SOL/USDT")
    assert cli("run", "--start", "2024-12-01", "--end", "2024-12-05", "--select", "candles or features or regimes") == 1
    instance = dg.DagsterInstance.get()
    window = {f"2024-12-0{d}|{s}" for d in range(1, 6) for s in ("BTC-USDT", "ETH-USDT", "SOL-USDT")}
    regimes = instance.get_materialized_partitions(dg.AssetKey(["15m", "regimes"]))
    assert regimes & window == {key for key in window if not key.endswith("SOL-USDT")}
    assert instance.get_materialized_partitions(dg.AssetKey(["15m", "features"])) >= window
    for asset in ("features", "regimes"):  # the features the joined run finished are not computed again
        records = instance.fetch_materializations(dg.AssetKey(["15m", asset]), limit=1000).records
        assert len(records) == len({r.partition_key for r in records}), asset
    out = capsys.readouterr().out
    [again] = [line for line in out.splitlines() if "again, symbol by symbol" in line]
    assert "regimes of" in again and "features" not in again and all(s in again for s in ("BTC", "ETH", "SOL"))
    assert "SOL-USDT: no regimes today" in out


def test_one_symbols_bad_candles_in_a_joined_run_cost_its_neighbour_nothing(huracan_home, tmp_path, capsys):
    replay = replay_copy(tmp_path, lambda f: f.rename({"close": "Close"}))
    argv = (
        "run",
        "--start",
        "2024-12-01",
        "--end",
        "2024-12-05",
        "--select",
        "candles",
        "--source",
        f"replay:{replay}",
    )
    assert cli(*argv, "--symbols", "BTC/USDT,ETH/USDT") == 1
    instance = dg.DagsterInstance.get()
    window = {f"2024-12-0{d}|{s}" for d in range(1, 6) for s in ("BTC-USDT", "ETH-USDT")}
    candles = instance.get_materialized_partitions(dg.AssetKey(["15m", "candles"]))
    assert candles & window == {key for key in window if key.endswith("ETH-USDT")}
    records = instance.fetch_materializations(dg.AssetKey(["15m", "candles"]), limit=1000).records
    assert len(records) == len({r.partition_key for r in records})
    out = capsys.readouterr().out
    assert "again, symbol by symbol: candles of" in out
    assert "column 'close': required column missing" in out


# --- 1: status after failed and killed runs ------------------------------------------------------------------


def test_status_lists_a_failed_run_and_survives_a_later_success(huracan_home, tmp_path, capsys, monkeypatch):
    replay = replay_copy(tmp_path, lambda f: f.rename({"close": "Close"}))
    assert (
        cli("run", "--date", DAY, "--symbols", "BTC/USDT", "--select", "candles", "--source", f"replay:{replay}") == 1
    )
    [failed] = dg.DagsterInstance.get().get_runs()
    capsys.readouterr()

    assert cli("status") == 0
    out = capsys.readouterr().out
    assert "candles:candles_valid [ERROR] failed on 1 partition: 2024-12-05|BTC-USDT — " in out
    assert "runs not succeeded: 1" in out
    [line] = [x for x in out.splitlines() if x.strip().startswith(failed.run_id[:8])]
    assert (
        f"{DAY}..{DAY} × BTC-USDT  failure: " in line
        and "invalid candles in 1 partition(s) 2024-12-05|BTC-USDT" in line
    )
    assert "column 'close': required column missing" in out

    # a later run that dies before judging the partition (unreadable file) must not erase its failed verdict
    btc = replay / "BTC-USDT_15m.parquet"
    btc.write_bytes(btc.read_bytes()[:4096])
    monkeypatch.setenv("HURACAN_SYMBOLS", "BTC/USDT")
    assert cli("run", "--date", DAY, "--select", "candles", "--source", f"replay:{replay}") == 1
    monkeypatch.setenv("HURACAN_SYMBOLS", "")
    capsys.readouterr()
    assert cli("status") == 0
    out = capsys.readouterr().out
    assert (
        "candles:candles_valid [ERROR] failed on 1 partition: 2024-12-05|BTC-USDT — " in out
        and "runs not succeeded: 2" in out
    )

    assert cli("run", "--date", DAY, "--symbols", "BTC/USDT", "--select", "candles", "--source", "bundled") == 0
    capsys.readouterr()
    assert cli("status") == 0
    out = capsys.readouterr().out
    assert "candles_valid" not in out.split("failed checks")[1].split("runs not succeeded")[0]  # the newer verdict wins
    [line] = [x for x in out.splitlines() if x.strip().startswith(failed.run_id[:8])]
    assert "(re-run " in line and "succeeded)" in line


def test_a_killed_run_is_reported_interrupted_marked_failed_and_rerun(huracan_home, capsys):
    prepare_dagster_home(Settings.from_env())
    instance = dg.DagsterInstance.get()
    argv = [
        "run",
        "--start",
        "2024-12-01",
        "--end",
        "2024-12-02",
        "--symbols",
        "BTC/USDT",
        "--select",
        "candles or features or regimes or signals or labels",
    ]
    for _attempt in range(3):  # the kill must land while a run is STARTED; a run that just ended is retried
        process = subprocess.Popen(
            [sys.executable, "-m", "huracan_dagster.cli", *argv],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 45
        while process.poll() is None and time.monotonic() < deadline:
            if instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
                break
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        with contextlib.suppress(ProcessLookupError):  # what the killed run left behind (its compute logs' tail -F)
            os.killpg(process.pid, signal.SIGKILL)
        started = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        if started:
            break
    [killed] = started
    assert killed.tags["huracan/process"].startswith(f"{process.pid}@")

    assert cli("status") == 0
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.strip().startswith(killed.run_id[:8])]
    assert "interrupted (process gone)" in line and f"process {process.pid}" in line
    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
    assert cli("status") == 0  # and it stays reported, without a second failure event
    assert "interrupted (process gone)" in capsys.readouterr().out
    assert len(instance.all_logs(killed.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)) == 1

    assert cli(*argv) == 0
    assert "FAILED" not in capsys.readouterr().out


def test_a_running_run_is_not_marked_failed(huracan_home, capsys):
    """Only a process that is certainly gone marks its run failed: a live one is reported as running."""
    from huracan_dagster.instance.run_owner import Owner

    prepare_dagster_home(Settings.from_env())
    instance = dg.DagsterInstance.get()
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        # the helper stands for the run's process: its pid, without this process's start time
        tags = Owner(helper.pid, socket.gethostname()).tags()
        run = instance.add_run(dg.DagsterRun(job_name="daily", status=dg.DagsterRunStatus.STARTED, tags=tags))
        assert cli("status") == 0
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
        assert f"running (pid {helper.pid} on " in capsys.readouterr().out
    finally:
        helper.kill()
        helper.wait()
    assert cli("status") == 0  # now its process is gone
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert "interrupted (process gone)" in capsys.readouterr().out


# --- 5: two first runs at once ------------------------------------------------------------------------------


def _register_rounds(home: str, rounds: int, barrier, errors) -> None:
    os.environ["DAGSTER_HOME"] = home
    instance = dg.DagsterInstance.get()
    for n in range(rounds):
        barrier.wait()
        try:
            register_symbols(instance, [f"PAIR{n}-{i}" for i in range(4)], dimension=f"race{n}")
        except Exception as error:
            errors.put(f"{type(error).__name__}: {error}")


def test_concurrent_registration_of_the_same_symbols_never_fails(huracan_home):
    """Four processes register the same new symbols at the same instant, 40 times: Dagster's read-then-insert
    collides (``UNIQUE constraint failed: dynamic_partitions``) several times per run of this test unless the
    conflict is absorbed."""
    prepare_dagster_home(Settings.from_env())
    dg.DagsterInstance.get().get_dynamic_partitions("race")  # create the storage before the race
    context = multiprocessing.get_context("fork")
    barrier, errors, rounds = context.Barrier(4), context.Queue(), 40
    workers = [
        context.Process(target=_register_rounds, args=(os.environ["DAGSTER_HOME"], rounds, barrier, errors))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == [] and all(w.exitcode == 0 for w in workers)
    instance = dg.DagsterInstance.get()
    assert all(instance.get_dynamic_partitions(f"race{n}") == [f"PAIR{n}-{i}" for i in range(4)] for n in range(rounds))


def _first_command(home: str, barrier) -> None:
    os.environ["HURACAN_HOME"] = home
    barrier.wait()
    prepare_dagster_home(Settings.from_env())
    dg.DagsterInstance.get().get_runs()


def test_first_commands_on_a_fresh_home_create_the_storage_once(tmp_path, monkeypatch):
    """Three ``huracan`` commands starting together on a fresh home: without a lock each creates the SQLite
    schemas and stamps the alembic revision, and the instance never loads again ("more than one head")."""
    context = multiprocessing.get_context("fork")
    for trial in range(3):
        home = tmp_path / f"home{trial}"
        barrier = context.Barrier(3)
        workers = [context.Process(target=_first_command, args=(str(home), barrier)) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert [w.exitcode for w in workers] == [0, 0, 0]
        with sqlite3.connect(home / "dagster" / "history" / "runs.db") as db:
            assert db.execute("select count(*) from alembic_version").fetchone() == (1,)
        monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
        assert dg.DagsterInstance.get().get_runs() == []


def test_two_first_runs_at_once_both_succeed(huracan_home):
    argv = [sys.executable, "-m", "huracan_dagster.cli", "run", "--symbols", "BTC/USDT,ETH/USDT", "--select", "candles"]
    runs = [
        subprocess.Popen([*argv, "--date", day], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for day in ("2024-12-05", "2024-12-06")
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    instance = dg.DagsterInstance.get()
    assert sorted(instance.get_dynamic_partitions("symbol")) == ["BTC-USDT", "ETH-USDT"]
    [candles] = [k for k in instance.get_asset_keys() if k.path[-1] == "candles"]
    assert instance.get_materialized_partitions(candles) == {
        f"{d}|{s}" for d in ("2024-12-05", "2024-12-06") for s in ("BTC-USDT", "ETH-USDT")
    }


# --- 6: usage errors, not tracebacks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--timeframe", "7x"],
            "argument --timeframe: unknown timeframe '7x'; expected a timeframe that divides a day, e.g. 1m, 5m, 15m, 1h, 4h, 1d",
        ),
        (["--timeframe", "1h"], "argument --timeframe: bundled has no '1h' candles; choose from 15m"),
        (
            ["--source", "kraken"],
            "argument --source: unknown candle source 'kraken'; expected bundled, replay:DIR or ccxt:EXCHANGE_ID",
        ),
        (["--source", "ccxt:nosuchexchange"], "argument --source: ccxt has no exchange 'nosuchexchange'"),
        (
            ["--symbols", "BTCUSDT"],
            "argument --symbols: 'BTCUSDT' is not BASE/QUOTE, e.g. BTC/USDT (did you mean BTC/USDT?)",
        ),
        (
            ["--symbols", "btc/usdt,DOGE/USDT"],
            "argument --symbols: bundled offers no 15m candles for DOGE/USDT; choose from BNB/USDT, BTC/USDT, ETH/USDT, SOL/USDT, XRP/USDT",
        ),
        (
            ["--select", "nosuch"],
            "argument --select: 'nosuch' matches no asset; assets: candles, champion, coin_model, daily_report, daily_summary, "
            "exports, exports_daily, features, labels, market_quotes, paper_trades, regimes, roster, shadow_trades, "
            "shared_encoder, signals, trade_analysis",
        ),
        # the partitions are the days the source holds: the bundled sample's
        (
            ["--date", "2017-06-01"],
            "argument --start/--date: 2017-06-01 is before 2024-07-01 (bundled holds candles from 2024-07-01 on)",
        ),
        (
            ["--date", "2025-06-01"],
            "argument --end/--date: 2025-06-01 is after 2024-12-31, the last day bundled holds candles for",
        ),
    ],
)
def test_bad_options_are_usage_errors(huracan_home, capsys, argv, expected):
    assert cli("run", *argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("usage: huracan run")
    assert_one_clear_message(captured.out, captured.err, expected)
    assert dg.DagsterInstance.get().get_runs() == []  # nothing ran


def test_a_bad_environment_value_names_the_variable(huracan_home, capsys, monkeypatch):
    monkeypatch.setenv("HURACAN_SYMBOLS", "BTC_USDT")
    assert cli("run", "--date", DAY) == 2
    assert "HURACAN_SYMBOLS (environment): 'BTC_USDT' is not BASE/QUOTE" in capsys.readouterr().err


def test_symbol_spellings_are_normalised(huracan_home, capsys):
    assert cli("run", "--date", DAY, "--symbols", "btc/usdt,eth-usdt", "--select", "candles") == 0
    assert f"huracan run: {DAY}..{DAY} × BTC/USDT, ETH/USDT from bundled" in capsys.readouterr().out
