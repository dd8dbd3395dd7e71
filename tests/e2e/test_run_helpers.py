"""``huracan run --workers 2``: the window's runs spread over the command and a helper process give the same bytes as
one after another; a helper killed mid-run fails its run and the command goes on without it; a command killed with
``kill -9`` takes its helper with it, leaving only what the next command reaps."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from huracan_core.cores import usable_cores
from huracan_dagster.instance.run_owner import run_owner
from tests.conftest import use_home
from tests.e2e.test_failures import REPO
from tests.e2e.test_recovery import huracan
from tests.ui.processes import alive

DAY = "2024-12-05"
SELECT = "candles or features or regimes or signals"

pytestmark = pytest.mark.skipif(usable_cores() < 2, reason="a helper process needs a second core")


def partitions(home: Path) -> dict[str, bytes]:
    archive = home / "archive"
    return {p.relative_to(archive).as_posix(): p.read_bytes() for p in sorted(archive.rglob("*.parquet"))}


def owners(instance: dg.DagsterInstance) -> dict[str, int]:
    """Each run's process."""
    return {run.run_id: owner.pid for run in instance.get_runs() if (owner := run_owner(run.tags))}


def command(out: int = subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "huracan_dagster.cli", "run", "--date", DAY, "--select", SELECT, "--workers", "2"],
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def end(process: subprocess.Popen) -> None:
    """Whatever is left of ``process``'s group (its helpers too, stopped or not), gone."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def helpers_running(instance: dg.DagsterInstance, process: subprocess.Popen) -> set[int]:
    """The helpers of ``process`` that own a STARTED run."""
    started = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    return {o.pid for r in started if (o := run_owner(r.tags)) and o.pid != process.pid}


def helper_stopped_mid_run(process: subprocess.Popen) -> int:
    """A helper of ``process`` stopped (SIGSTOP) while a run of its is STARTED: it cannot finish the run before the
    test kills it or its command."""
    with dg.DagsterInstance.get() as instance:
        deadline = time.monotonic() + 120
        while True:
            for helper in helpers_running(instance, process):
                os.kill(helper, signal.SIGSTOP)
                if helper in helpers_running(instance, process):
                    return helper
                os.kill(helper, signal.SIGCONT)  # its run ended in between: wait for its next one
            assert process.poll() is None and time.monotonic() < deadline, "no helper ever ran a run"
            time.sleep(0.05)


def test_two_processes_give_the_same_partitions_and_a_killed_helper_or_command_leaves_nothing_behind(
    tmp_path, monkeypatch
):
    whole = use_home(tmp_path / "whole", monkeypatch)
    done = huracan("run", "--date", DAY, "--select", SELECT, "--workers", "2")
    assert done.returncode == 0, done.stdout
    with dg.DagsterInstance.get() as instance:
        assert len(set(owners(instance).values())) == 2  # the command and its helper each ran some of the runs

    killed = use_home(tmp_path / "killed", monkeypatch)
    process = command(subprocess.PIPE)  # a helper killed mid-run: the command carries on without it, and says so
    try:
        os.kill(helper_stopped_mid_run(process), signal.SIGKILL)
        out, _ = process.communicate(timeout=240)
    finally:
        end(process)
    assert "did not finish: a helper process died" in out and "its run is marked failed" in out
    # a run of several symbols is run again symbol by symbol, and the window completes; a run of one fails it
    assert process.returncode == (0 if "again, symbol by symbol" in out else 1), out

    process = command()  # the command killed (as the OOM killer would): its helper dies with it
    try:
        helper = helper_stopped_mid_run(process)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10
        while alive({helper}):  # a zombie is not alive
            assert time.monotonic() < deadline, f"helper {helper} outlived the killed command"
            time.sleep(0.05)
    finally:
        end(process)

    again = huracan("run", "--date", DAY, "--select", SELECT)
    assert again.returncode == 0, again.stdout
    assert f"its process {helper}" in again.stdout  # the helper's run, marked failed
    with dg.DagsterInstance.get() as instance:
        assert not instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    assert partitions(killed) == partitions(whole)  # every partition, byte for byte
