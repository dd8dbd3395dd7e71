"""Which process executes a run, so that a run whose process died can be told from one still running.

``huracan run`` executes its runs in its own process (``cli/code_location.py``): no daemon watches them. Killed with
``kill -9`` or by the OOM killer, it leaves its run STARTED in the instance forever. Each run is tagged with
the pid and host of its process (``huracan/process``); on the same host a pid that no longer exists (or now belongs to a process
started after the run) proves the run will never finish.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

#: ``<pid>@<host>``, then `` since <ticks>``: the process's start time in clock ticks since boot (Linux), so that a
#: reused pid is not taken for the run's. One tag, not three: the Runs page shows every tag of a run
OWNER_TAG = "huracan/process"
#: the tags of runs recorded before ``OWNER_TAG`` (an older home), still read
PID_TAG, HOST_TAG, PID_START_TAG = "huracan/pid", "huracan/host", "huracan/pid_start"
UNFINISHED = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.NOT_STARTED)
_OWNER = re.compile(r"(?P<pid>\d+)@(?P<host>\S+?)(?: since (?P<started>\d+))?")


@dataclass(frozen=True)
class Owner:
    """The process that executes a run."""

    pid: int
    host: str
    #: start time in clock ticks since boot; None off Linux
    started: str | None = None

    def tags(self) -> dict[str, str]:
        return {OWNER_TAG: f"{self.pid}@{self.host}" + (f" since {self.started}" if self.started else "")}


def owner_tags() -> dict[str, str]:
    """The tag naming this process; added to every run ``huracan run`` starts."""
    return Owner(os.getpid(), socket.gethostname(), _start_ticks(os.getpid())).tags()


def run_owner(tags: Mapping[str, str]) -> Owner | None:
    """The process a run's tags name; None for a run ``huracan run`` did not start (the daemon's, the UI's)."""
    if (found := _OWNER.fullmatch(tags.get(OWNER_TAG, ""))) is not None:
        return Owner(int(found["pid"]), found["host"], found["started"])
    if tags.get(PID_TAG, "").isdigit():
        return Owner(int(tags[PID_TAG]), tags.get(HOST_TAG, "?"), tags.get(PID_START_TAG))
    return None


def process_gone(run: dg.DagsterRun) -> bool:
    """True when ``run`` is unfinished, was started on this host by ``huracan run``, and its process is gone.

    False whenever that is not certain: another host, no owner tag (a run launched from the UI, which the
    daemon watches), or a process that still exists.
    """
    owner = run_owner(run.tags)
    if run.status not in UNFINISHED or owner is None or owner.host != socket.gethostname():
        return False
    pid = owner.pid
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # exists, owned by someone else: a reused pid unless the start time matches
    fields = _stat(pid)
    if fields is None:
        return False
    if fields[0] == "Z":
        return True  # killed, not yet reaped by its parent
    return owner.started is not None and fields[19] != owner.started


def _start_ticks(pid: int) -> str | None:
    fields = _stat(pid)
    return None if fields is None else fields[19]


def _stat(pid: int) -> list[str] | None:
    """Fields 3.. of ``/proc/<pid>/stat`` (state first, start time at index 19), or None off Linux."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis
    return stat.rpartition(")")[2].split()
