"""A thread pool per process and purpose, created on first use.

A pool inherited through ``fork`` has no threads behind it and would never run what is submitted to it, so each
process (a forked run worker, a helper) makes its own.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

_pools: dict[tuple[int, str], ThreadPoolExecutor] = {}


def process_pool(purpose: str, threads: int) -> ThreadPoolExecutor:
    """This process's pool for ``purpose``; its threads are named for it, so a profile or a stack dump says what
    they do."""
    key = (os.getpid(), purpose)
    pool = _pools.get(key)
    if pool is None:
        pool = _pools[key] = ThreadPoolExecutor(threads, thread_name_prefix=purpose)
    return pool
