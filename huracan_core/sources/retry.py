"""Bounded exponential backoff with full jitter, for the transient failures of exchange APIs."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    #: seeded so that a replayed failure waits the same way (determinism); jitter still spreads clients apart
    seed: int = 0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def delays(self) -> list[float]:
        rng = random.Random(self.seed)
        caps = (min(self.max_delay_s, self.base_delay_s * 2**n) for n in range(self.max_attempts - 1))
        return [rng.uniform(0, cap) for cap in caps]


def call_with_retry(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    retry_on: tuple[type[BaseException], ...],
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Call ``fn``; on a ``retry_on`` error wait and try again, at most ``policy.max_attempts`` times.

    The last error is re-raised unchanged, so the caller can wrap it with what was being fetched.
    """
    delays = policy.delays()
    for attempt in range(policy.max_attempts):
        try:
            return fn()
        except retry_on as error:
            if attempt == policy.max_attempts - 1:
                raise
            if on_retry is not None:
                on_retry(attempt + 1, error, delays[attempt])
            policy.sleep(delays[attempt])
    raise AssertionError("unreachable: the loop returns or raises")
