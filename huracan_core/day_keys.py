"""(day, symbol) keys of the date × symbol partitions, as core functions see them.

Core functions take ``{(day, symbol): frame}`` and say by name which of the partitions they need are absent,
so that an orchestrator can tell a person exactly what to materialize first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TypeVar

from huracan_core.symbols import to_key

DayKey = tuple[date, str]
T = TypeVar("T")


class MissingPartitionError(LookupError):
    """Inputs a partition needs are absent; the message lists them as ``YYYY-MM-DD|BASE-QUOTE``."""


def label(key: DayKey) -> str:
    return f"{key[0].isoformat()}|{to_key(key[1])}"


def require(what: str, frames: Mapping[DayKey, object], wanted: Iterable[DayKey]) -> None:
    present = {(day, to_key(symbol)) for day, symbol in frames}
    absent = [label(k) for k in sorted(wanted) if (k[0], to_key(k[1])) not in present]
    if absent:
        shown = absent[:10] + ([f"… (+{len(absent) - 10} more)"] if len(absent) > 10 else [])
        raise MissingPartitionError(f"no {what} for partitions {shown}: materialize {what} for them first")


def keyed(frames: Mapping[DayKey, T]) -> dict[DayKey, T]:
    """``frames`` with every symbol spelled ``BASE-QUOTE``, so a lookup never misses ``BTC/USDT`` for ``BTC-USDT``."""
    return {(day, to_key(symbol)): frame for (day, symbol), frame in frames.items()}


def last_per_symbol(keys: Iterable[DayKey]) -> list[DayKey]:
    """Each symbol's latest day among ``keys``: where a run's sampled proofs look (a peek shows on every day)."""
    return sorted({symbol: (day, symbol) for day, symbol in sorted(keys)}.values())
