"""The cores this process may use: a container's or ``taskset``'s limit (``os.sched_getaffinity``), not the
machine's count, which would oversubscribe a process given fewer."""

from __future__ import annotations

import os


def usable_cores() -> int:
    return len(os.sched_getaffinity(0))


def at_most_cores(requested: int) -> int:
    """``requested`` processes or threads, never more than the usable cores, and at least one."""
    return max(1, min(requested, usable_cores()))
