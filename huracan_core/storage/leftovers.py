"""Temporary files that a killed process leaves in ``HURACAN_HOME``: found, reported, and removed once no live
writer can still rename them.

Every atomic write in Huracan goes through a temporary name beside its target and then a rename: the local
Archive and the reports, the analysts' DuckDB file (and DuckDB's ``.wal`` beside it), the instance config. A
process killed between the two leaves the temporary file behind: nothing reads it and nothing would ever remove
it. Each temporary name carries its writer's pid (``temporary_name``), so a sweep removes a file only when its
writer is gone; the caller adds a bound that only the orchestrator knows (``before``: the start of the oldest run
still alive, for a home shared by several hosts, where a pid says nothing).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

#: the temporary names above: ``.<target>.pid<pid>.<anything>tmp``, or DuckDB's ``….tmp.wal`` beside one
TEMPORARY_NAME = re.compile(r"^\..+\.pid(?P<pid>\d+)\.(?:.*\.)?tmp(\.wal)?$")


def temporary_prefix(target: str) -> str:
    """The start of a temporary name for ``target`` written by this process (``mkstemp`` adds the rest)."""
    return f".{target}.pid{os.getpid()}."


def temporary_name(target: str) -> str:
    """A temporary name for ``target`` written by this process, when one per process is enough."""
    return f"{temporary_prefix(target)}tmp"


@dataclass(frozen=True)
class Leftover:
    path: Path
    #: last modification, seconds since the epoch
    modified: float
    size: int
    #: the process that wrote it
    pid: int


def find_leftovers(folders: Iterable[Path]) -> list[Leftover]:
    """Every temporary file under ``folders`` (those that exist), oldest first."""
    found = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob(".*"):
            match = TEMPORARY_NAME.match(path.name)
            if match and path.is_file():
                try:
                    stat = path.stat()
                except FileNotFoundError:  # renamed by its writer while we looked
                    continue
                found.append(Leftover(path, stat.st_mtime, stat.st_size, int(match["pid"])))
    return sorted(found, key=lambda leftover: (leftover.modified, str(leftover.path)))


def sweep_leftovers(
    found: Iterable[Leftover], before: float, alive: Callable[[int, float], bool] | None = None
) -> list[Leftover]:
    """Remove the temporary files whose writer is gone and that were last written before ``before``; returns those
    removed. ``alive(pid, since)``: whether the writer still runs (default: a process with that pid that started
    before the file was written exists on this host). A file that changed since it was found is left alone."""
    alive = alive or process_alive
    removed = []
    for leftover in found:
        if leftover.modified >= before or alive(leftover.pid, leftover.modified):
            continue
        try:
            if leftover.path.stat().st_mtime != leftover.modified:
                continue
            leftover.path.unlink()
        except FileNotFoundError:
            continue
        removed.append(leftover)
    return removed


def process_alive(pid: int, since: float) -> bool:
    """A process ``pid`` exists and started no later than ``since`` (a pid reused by a newer process is not the
    writer). Where the start time cannot be read (off Linux), an existing pid counts as alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = _start_time(pid)
    return started is None or started <= since + 1.0


def _start_time(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return time.time() - uptime + int(stat[19]) / os.sysconf("SC_CLK_TCK")
