"""What the blocking rules report: one problem per partition, column and reason, with the rows that broke it.

The message is written for a person reading a terminal: the partition first, then the column and the reason,
then the rows; one file-wide problem over a month of days is one line naming the partitions, not thirty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: partitions (or rows) named in a message before the rest are counted
SHOWN_PARTITIONS = 5


@dataclass(frozen=True)
class Problem:
    partition: str
    column: str
    reason: str
    #: the bad rows (``2024-12-05T10:15Z`` or ``row 12``); empty when the problem is the column or the day itself
    rows: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.partition}: {self.detail()}"

    def detail(self) -> str:
        """Everything but the partition: ``column 'close': reason (2 rows: …)``."""
        if not self.rows:
            return f"column {self.column!r}: {self.reason}"
        return f"column {self.column!r}: {self.reason} ({len(self.rows)} rows: {abbreviated(self.rows)})"


class CandleValidationError(ValueError):
    """Candles that break a blocking rule; ``problems`` lists every one, the message groups them for people."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        partitions = sorted({p.partition for p in problems})
        lines = "\n".join(f"  - {line}" for line in _grouped(problems))
        super().__init__(
            f"invalid candles in {len(partitions)} partition(s) {abbreviated(partitions)}; nothing written:\n{lines}"
        )


def abbreviated(items: Sequence[str], shown: int = SHOWN_PARTITIONS) -> str:
    """``a, b, c`` or ``a, b, c, d, e … (+26 more)``: enough to find them, short enough to read."""
    return ", ".join(items[:shown]) + (f" … (+{len(items) - shown} more)" if len(items) > shown else "")


def _grouped(problems: list[Problem]) -> list[str]:
    """One line per distinct problem; the same column-wide problem on many partitions is written once."""
    partitions_of: dict[str, list[str]] = {}
    for problem in problems:
        partitions_of.setdefault(problem.detail(), []).append(problem.partition)
    return [f"{abbreviated(sorted(set(keys)))}: {detail}" for detail, keys in partitions_of.items()]
