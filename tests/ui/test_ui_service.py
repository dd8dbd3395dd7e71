"""`huracan ui` starts and stops like a service: one Ctrl-C or SIGTERM to it stops dagster dev, its webserver and
its daemon (before, a SIGTERM left them running)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.ui.dagster_service import free_port


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc: parent links)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z":  # a zombie is gone already
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_one_signal_to_huracan_ui_stops_the_webserver_and_the_daemon(huracan_home, tmp_path, signum) -> None:
    port = free_port()
    log = (tmp_path / "ui.log").open("w")
    # huracan alone receives the signal, as from `kill` or a service manager (not the terminal's whole group)
    ui = subprocess.Popen(
        [sys.executable, "-m", "huracan_dagster.cli", "ui", "--port", str(port)],
        cwd=REPO,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                assert ui.poll() is None and time.time() < deadline, (tmp_path / "ui.log").read_text()
                time.sleep(0.5)
        deadline = time.time() + 60
        while len(below := _descendants(ui.pid)) < 3 and time.time() < deadline:  # dagster dev, webserver, daemon
            time.sleep(0.5)
        assert len(below) >= 3, below
        ui.send_signal(signum)
        assert ui.wait(timeout=60) == 0, (tmp_path / "ui.log").read_text()
        deadline = time.time() + 30
        while _alive(below) and time.time() < deadline:
            time.sleep(0.5)
        assert not _alive(below), f"left running: {_alive(below)}"
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
    finally:
        if ui.poll() is None:
            ui.kill()
        for pid in _alive(_descendants(ui.pid)):
            os.kill(pid, signal.SIGKILL)
        log.close()
