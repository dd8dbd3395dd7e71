"""A service's start and what it left behind: waiting until it answers, and the processes read from /proc that the
stop tests of `huracan ui` and `huracan mlflow` look for after one signal."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest


def wait_until_answering(process: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    """Poll ``url`` until the service answers; a clear error with its log's tail when it exits or times out first."""
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{url} did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.3)


def descendants(pid: int) -> set[int]:
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


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (a zombie is not)."""
    running = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def assert_stopped(service: subprocess.Popen, below: set[int], url: str, log: Path) -> None:
    """After one signal to ``service``: it exits 0, none of ``below`` (what it had started) is still running, and
    ``url`` on its port no longer answers."""
    assert service.wait(timeout=60) == 0, log.read_text()
    deadline = time.time() + 30
    while alive(below) and time.time() < deadline:
        time.sleep(0.5)
    assert not alive(below), f"left running: {alive(below)}"
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)
