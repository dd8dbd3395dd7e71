"""Steps over workers (``HURACAN_EXECUTOR=celery``): two ``huracan workers`` on loopback take the steps of
``huracan run``'s runs from Redis, over one PostgreSQL instance and one Archive.

A window spreads over both workers and records every partition once; a worker's pool process killed in the middle
of a step has that step retried on a worker, and the run completes with every partition recorded once and every
file whole. Skips, saying why, without Redis or PostgreSQL on loopback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from huracan_core.features.recipe import FeatureRecipe
from huracan_core.storage.keys import partition_object_key
from huracan_core.storage.leftovers import find_leftovers, sweep_leftovers
from huracan_core.storage.local import LocalArtifactStore
from huracan_dagster.defs.partitions import asset_key, split_key
from huracan_dagster.instance.prepare import prepare_dagster_home
from huracan_dagster.settings import Settings
from tests.conftest import REPO, use_home
from tests.services.postgres import throwaway_database
from tests.ui.processes import alive, descendants

pytestmark = pytest.mark.slow

BROKER = os.environ.get("HURACAN_TEST_CELERY_BROKER", "redis://127.0.0.1:6379/0")
TF = "15m"
SYMBOLS = "BTC/USDT,ETH/USDT"
#: two assets that need no earlier day of their own and share a backfill policy: one ranged run per symbol holds
#: both steps, which the run sends at once, so two idle workers must each take one
SELECT = "+features or market_quotes"
WINDOW_ASSETS = ("features", "market_quotes")
FEATURES_STEP = f"{TF}__features"


@dataclass(frozen=True)
class Deployment:
    home: Path
    instance: dg.DagsterInstance
    #: the two ``huracan workers`` services
    services: list[subprocess.Popen]
    logs: list[Path]

    def pool_processes(self) -> set[int]:
        return {pid for service in self.services for pid in alive(descendants(service.pid))}


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {BROKER}: {error}")


def _wait_until_ready(services: list[subprocess.Popen], logs: list[Path], timeout: float = 90) -> None:
    """Celery says ``<name> ready.`` once a worker consumes its queue."""
    deadline = time.monotonic() + timeout
    while not all(" ready." in log.read_text() for log in logs):
        for service, log in zip(services, logs, strict=True):
            assert service.poll() is None, f"huracan workers exited {service.returncode}:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, "workers not ready:\n" + "\n".join(log.read_text()[-2000:] for log in logs)
        time.sleep(0.3)


def _stop(services: list[subprocess.Popen]) -> None:
    """One SIGTERM to each service stops it and everything it started (its worker, its pool), as for every service."""
    below = {pid for service in services for pid in descendants(service.pid)}
    for service in services:
        if service.poll() is None:
            service.send_signal(signal.SIGTERM)
    for service in services:
        try:
            service.wait(timeout=60)
        except subprocess.TimeoutExpired:
            service.kill()
    deadline = time.monotonic() + 30
    while alive(below) and time.monotonic() < deadline:
        time.sleep(0.3)
    left = alive(below)
    for pid in left:  # never leave a pool process behind, whatever failed
        os.kill(pid, signal.SIGKILL)
    assert [service.returncode for service in services] == [0, 0] and not left, (services, left)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    _redis_or_skip()
    queue = f"huracan-test-{uuid.uuid4().hex[:10]}"  # this test's steps only, whoever else uses the broker
    with throwaway_database("huracan_workers") as url, pytest.MonkeyPatch.context() as monkeypatch:
        home = use_home(tmp_path_factory.mktemp("workers") / "home", monkeypatch)
        for name, value in {
            "HURACAN_PG_URL": url,
            "HURACAN_SYMBOLS": SYMBOLS,
            "HURACAN_EXECUTOR": "celery",
            "HURACAN_CELERY_BROKER": BROKER,
            "HURACAN_CELERY_QUEUE": queue,
        }.items():
            monkeypatch.setenv(name, value)
        prepare_dagster_home(Settings.from_env())
        logs = [home / f"worker{n}.log" for n in (1, 2)]
        services = [
            subprocess.Popen(
                [sys.executable, "-m", "huracan_dagster.cli", "workers", "--processes", "1"],
                cwd=REPO,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for log in logs
        ]
        try:
            _wait_until_ready(services, logs)
            with dg.DagsterInstance.get() as instance:
                yield Deployment(home, instance, services, logs)
        finally:
            try:
                _stop(services)
            finally:
                import redis

                redis.Redis.from_url(BROKER).delete(queue, f"_kombu.binding.{queue}")


def _huracan_run(start: date, end: date) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "huracan_dagster.cli",
            "run",
            "--start",
            start.isoformat(),
            "--end",
            end.isoformat(),
            "--symbols",
            SYMBOLS,
            "--select",
            SELECT,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen, timeout: float = 150) -> str:
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        raise AssertionError(f"huracan run still running after {timeout} s:\n{out[-3000:]}") from None
    assert process.returncode == 0, out
    return out


def _runs_since(instance: dg.DagsterInstance, since: float) -> list[dg.DagsterRun]:
    return [record.dagster_run for record in instance.get_run_records() if record.create_timestamp.timestamp() >= since]


def _events(
    instance: dg.DagsterInstance, runs: list[dg.DagsterRun], kind: dg.DagsterEventType
) -> list[dg.EventLogEntry]:
    return [entry for run in runs for entry in instance.all_logs(run.run_id, of_type=kind)]


def _pid(entry: dg.EventLogEntry) -> int:
    """The process that wrote the event: for a step's events, the process that ran the step."""
    assert entry.dagster_event is not None and entry.dagster_event.pid is not None, entry
    return entry.dagster_event.pid


def _celery_worker(entry: dg.EventLogEntry) -> str | None:
    """The worker named by dagster-celery's "Executing steps … in celery worker" event, where it is one."""
    assert entry.dagster_event is not None
    worker = entry.dagster_event.engine_event_data.metadata.get("Celery worker")
    return None if worker is None else str(worker.value)


def _recorded(instance: dg.DagsterInstance, runs: list[dg.DagsterRun], asset: str) -> Counter[str]:
    """How many times each partition of ``asset`` was recorded by ``runs``."""
    ids = {run.run_id for run in runs}
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=asset_key(TF, asset)), limit=10_000)
    return Counter(r.partition_key for r in records.records if r.run_id in ids and r.partition_key)


def _window(start: date, end: date) -> set[str]:
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return {f"{day}|{symbol.replace('/', '-')}" for day in days for symbol in SYMBOLS.split(",")}


def _assert_recorded_once_and_whole(deployment: Deployment, runs: list[dg.DagsterRun], window: set[str]) -> None:
    """Every partition of the window recorded exactly once by these runs (their candles too: each day once), and
    each recorded partition's file reads back."""
    store = LocalArtifactStore(deployment.home / "archive")
    recipe_hash = FeatureRecipe.default(TF).version_hash
    for asset in ("candles", *WINDOW_ASSETS):
        recorded = _recorded(deployment.instance, runs, asset)
        assert set(recorded.values()) == {1}, f"{asset}: {recorded}"
        if asset in WINDOW_ASSETS:
            assert set(recorded) == window, asset
        else:
            assert set(recorded) >= window
        for partition in recorded:
            day, symbol = split_key(partition)
            key = partition_object_key(asset, symbol=symbol, day=day, timeframe=TF, recipe_hash=recipe_hash)
            assert store.read_parquet(key).height > 0, f"{asset} {partition}"


def test_a_window_spreads_over_both_workers_and_records_each_partition_once(deployment: Deployment) -> None:
    since = time.time()
    start, end = date(2024, 12, 4), date(2024, 12, 6)
    run = _huracan_run(start, end)
    _finish(run)

    runs = _runs_since(deployment.instance, since)
    assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    _assert_recorded_once_and_whole(deployment, runs, _window(start, end))
    steps = _events(deployment.instance, runs, dg.DagsterEventType.STEP_START)
    # every step in a worker's pool process, none in the run's own; both workers took steps
    pids = {_pid(entry) for entry in steps}
    assert run.pid not in pids and pids <= deployment.pool_processes(), (pids, deployment.pool_processes())
    engine = _events(deployment.instance, runs, dg.DagsterEventType.ENGINE_EVENT)
    handed = [name for name in map(_celery_worker, engine) if name is not None]
    assert len(handed) == len(steps) and len(set(handed)) == 2, handed
    assert find_leftovers([deployment.home / "archive"]) == []


def test_a_pool_process_killed_mid_step_has_its_step_retried_and_nothing_half_written(deployment: Deployment) -> None:
    since = time.time()
    start, end = date(2024, 12, 20), date(2024, 12, 24)  # five days: the features step runs for a while
    run = _huracan_run(start, end)
    killed = None
    deadline = time.monotonic() + 150
    while killed is None:
        assert run.poll() is None, "huracan run ended before any features step started:\n" + run.communicate()[0]
        assert time.monotonic() < deadline, "no features step started"
        started = _events(deployment.instance, _runs_since(deployment.instance, since), dg.DagsterEventType.STEP_START)
        on_features = [e for e in started if e.step_key == FEATURES_STEP]
        if on_features:
            killed = _pid(on_features[0])
            assert killed in deployment.pool_processes()
            os.kill(killed, signal.SIGKILL)  # as the OOM killer would, in the middle of the step
        else:
            time.sleep(0.05)
    out = _finish(run)

    runs = _runs_since(deployment.instance, since)
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs), out
    [victim] = [r for r in runs if _features_starts(deployment, r, killed)]
    attempts = [_pid(e) for e in _features_starts(deployment, victim, None)]
    succeeded = [
        _pid(e)
        for e in deployment.instance.all_logs(victim.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
        if e.step_key == FEATURES_STEP
    ]
    # the killed attempt never ended; the step ran again, once, in another pool process, and succeeded there
    assert len(attempts) == 2 and attempts[0] == killed != attempts[1], attempts
    assert succeeded == [attempts[1]], (attempts, succeeded)
    _assert_recorded_once_and_whole(deployment, runs, _window(start, end))
    # a temporary file can only be the killed writer's, and the next command's sweep removes it
    left = find_leftovers([deployment.home / "archive"])
    assert {leftover.pid for leftover in left} <= {killed}
    sweep_leftovers(left, before=time.time())
    assert find_leftovers([deployment.home / "archive"]) == []


def _features_starts(deployment: Deployment, run: dg.DagsterRun, pid: int | None) -> list[dg.EventLogEntry]:
    """The features step's starts in ``run`` (those in process ``pid`` only, when given), in order."""
    return [
        e
        for e in deployment.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
        if e.step_key == FEATURES_STEP and (pid is None or _pid(e) == pid)
    ]
