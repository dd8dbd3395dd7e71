"""`huracan ui` starts and stops like a service: one Ctrl-C or SIGTERM to it stops dagster dev, its webserver and
its daemon (before, a SIGTERM left them running)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO
from tests.ui.dagster_service import free_port
from tests.ui.processes import alive, assert_stopped, descendants, wait_until_answering


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
        wait_until_answering(ui, f"http://127.0.0.1:{port}/server_info", tmp_path / "ui.log", timeout=90)
        deadline = time.time() + 60
        while len(below := descendants(ui.pid)) < 3 and time.time() < deadline:  # dagster dev, webserver, daemon
            time.sleep(0.5)
        assert len(below) >= 3, below
        ui.send_signal(signum)
        assert_stopped(ui, below, f"http://127.0.0.1:{port}/server_info", tmp_path / "ui.log")
    finally:
        if ui.poll() is None:
            ui.kill()
        for pid in alive(descendants(ui.pid)):
            os.kill(pid, signal.SIGKILL)
        log.close()
