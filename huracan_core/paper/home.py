"""What a home holds for its one Hamilton: the lock that keeps a second process out, and the kill switch file.

The lock is an ``flock`` on ``hamilton.lock``, taken without waiting: a second Hamilton on the same home is
refused at once, naming the holder (its pid, host and start, written into the file once the lock is held). The
kernel releases it when the holder dies, ``kill -9`` included, so a restart is never locked out by a corpse.

The kill switch is the file ``hamilton.kill`` (its text: the reason): Hamilton reads it at every bar, so
``huracan hamilton --kill`` works on a running process without talking to it.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = "hamilton.lock"
KILL_FILE = "hamilton.kill"


class AlreadyRunning(RuntimeError):
    """Another Hamilton holds this home's lock."""


@contextmanager
def hamilton_lock(home: Path) -> Iterator[None]:
    path = home / LOCK_FILE
    home.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a process that has not said who it is yet"
            raise AlreadyRunning(
                f"another Hamilton runs on this home ({holder}; lock {path}): one at a time, or the two would "
                "trade the same state twice"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            f"pid {os.getpid()}@{socket.gethostname()} since {datetime.now(UTC).isoformat(timespec='seconds')}"
        )
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def press_kill(home: Path, reason: str) -> Path:
    """Turn the kill switch on (atomically: a reader sees no file or the whole reason)."""
    path = home / KILL_FILE
    home.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(reason.strip() or "no reason given")
    os.replace(temporary, path)
    return path


def clear_kill(home: Path) -> bool:
    """Turn the kill switch off; False when it was not on."""
    path = home / KILL_FILE
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def kill_reason(home: Path) -> str | None:
    """The kill switch's reason while it is on, else None."""
    try:
        return (home / KILL_FILE).read_text().strip() or "no reason given"
    except FileNotFoundError:
        return None
