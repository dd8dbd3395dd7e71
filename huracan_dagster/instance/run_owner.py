"""Which process executes a run, so that a run whose process died can be told from one still running.

``huracan run`` executes its runs in its own process (``cli/code_location.py``): no daemon watches them. Killed with
``kill -9`` or by the OOM killer, it leaves its run STARTED in the instance forever. Each run is tagged with
the pid and host of its process; on the same host a pid that no longer exists (or now belongs to a process
started after the run) proves the run will never finish.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg

PID_TAG = "huracan/pid"
HOST_TAG = "huracan/host"
#: the process's start time in clock ticks since boot (Linux), so a reused pid is not taken for the run's
PID_START_TAG = "huracan/pid_start"
UNFINISHED = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.NOT_STARTED)


def owner_tags() -> dict[str, str]:
    """Tags naming this process; added to every run ``huracan run`` starts."""
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    started = _start_ticks(os.getpid())
    if started is not None:
        tags[PID_START_TAG] = started
    return tags


def process_gone(run: dg.DagsterRun) -> bool:
    """True when ``run`` is unfinished, was started on this host by ``huracan run``, and its process is gone.

    False whenever that is not certain: another host, no pid tag (a run launched from the UI, which the
    daemon watches), or a process that still exists.
    """
    tags = run.tags
    if (
        run.status not in UNFINISHED
        or tags.get(HOST_TAG) != socket.gethostname()
        or not tags.get(PID_TAG, "").isdigit()
    ):
        return False
    pid = int(tags[PID_TAG])
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
    recorded = tags.get(PID_START_TAG)
    return recorded is not None and fields[19] != recorded


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
