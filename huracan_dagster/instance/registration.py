"""Register symbols in the instance's dynamic partitions, safely when several ``huracan run`` start at once.

Dagster adds dynamic partitions as read-then-insert: two first runs that both read "BTC-USDT is new" both
insert it, and the second dies on ``UNIQUE constraint failed: dynamic_partitions``. The race is harmless —
the symbol *is* registered — so a conflict is answered by reading again and adding only what is still
missing (on SQLite and PostgreSQL alike); a lock would only help processes sharing one file system.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

import dagster as dg
from sqlalchemy.exc import IntegrityError, OperationalError

from huracan_dagster.defs.partitions import SYMBOL_DIMENSION

#: conflicts tolerated before giving up; each one means another process registered some of the symbols
ATTEMPTS = 8


def register_symbols(instance: dg.DagsterInstance, keys: list[str], dimension: str = SYMBOL_DIMENSION) -> Sequence[str]:
    """Add the ``keys`` the instance does not know yet; return every registered key in registration order."""
    wanted = list(dict.fromkeys(keys))
    for attempt in range(ATTEMPTS):
        registered = instance.get_dynamic_partitions(dimension)
        new = [k for k in wanted if k not in registered]
        if not new:
            return registered
        try:
            instance.add_dynamic_partitions(dimension, new)
        except (IntegrityError, OperationalError) as error:  # another process won the insert, or held the lock
            if attempt == ATTEMPTS - 1:
                raise RuntimeError(
                    f"could not register symbols {', '.join(new)} in {dimension!r} after {ATTEMPTS} attempts: {error.orig}"
                ) from error
            time.sleep(random.uniform(0.01, 0.05 * (attempt + 1)))
            continue
        return instance.get_dynamic_partitions(dimension)
    raise AssertionError("unreachable: the loop returns or raises")
