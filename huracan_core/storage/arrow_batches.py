"""A range's day frames converted to Arrow together, each written from its own slice.

polars hands a frame to Arrow column by column, a few µs a column whatever the rows: a day of the default recipe's
features (96 rows, 74 columns) costs 0.2–0.3 ms, nearly all of it that fixed part, and a ranged step converts one
frame per partition. Converting consecutive frames of one schema as one frame and slicing the table (no copy) pays
the fixed part once a batch. A slice writes the same Parquet bytes as its frame converted alone; a frame with a
categorical or enum column, which Arrow's writer keeps as a dictionary, converts alone, since a slice would keep the
whole batch's dictionary.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import pyarrow as pa

#: frames converted at once: bounds the copy a batch makes (64 days of features: ~4 MB)
ARROW_BATCH = 64


def arrow_writable(frame: pl.DataFrame) -> bool:
    """What ``store.parquet_bytes`` gives to Arrow's writer: a frame with rows and no 128-bit integer."""
    return frame.height > 0 and pl.Int128 not in frame.dtypes


def _batchable(frame: pl.DataFrame) -> bool:
    """Top-level categoricals are the columns ``parquet_bytes`` writes as dictionaries; nested ones go decoded."""
    return arrow_writable(frame) and not any(isinstance(d, pl.Categorical | pl.Enum) for d in frame.dtypes)


def with_arrow_tables(
    items: Iterable[tuple[str, pl.DataFrame]],
) -> Iterator[tuple[str, pl.DataFrame, pa.Table | None]]:
    """``(key, frame, its Arrow table or None)`` in the order given: None where the frame converts alone (it is
    not batchable, or alone in its batch)."""
    pending: list[tuple[str, pl.DataFrame]] = []

    def flush() -> Iterator[tuple[str, pl.DataFrame, pa.Table | None]]:
        if len(pending) == 1:
            yield *pending[0], None
        elif pending:
            table = pl.concat([frame for _, frame in pending], rechunk=True).to_arrow()
            offset = 0
            for key, frame in pending:
                yield key, frame, table.slice(offset, frame.height)
                offset += frame.height
        pending.clear()

    for key, frame in items:
        if pending and (len(pending) == ARROW_BATCH or frame.schema != pending[0][1].schema):
            yield from flush()
        if _batchable(frame):
            pending.append((key, frame))
        else:
            yield from flush()
            yield key, frame, None
    yield from flush()
