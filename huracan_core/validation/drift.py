"""Schema and dtype drift: a required column missing or renamed, prices as text, a timestamp that is no time.

Such a frame breaks every rule at once, so it is judged before the value rules run (they would only fail on
the dtype) and reported like any other bad candle: every partition the frame was to fill is named, with the
column and the reason; text that does not even parse as a number is listed row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

import polars as pl

from huracan_core.schema import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from huracan_core.validation.problems import Problem


def has_usable_timestamp(frame: pl.DataFrame) -> bool:
    """True when rows can be placed on their day: ``timestamp`` is there with the canonical dtype."""
    return frame.schema.get("timestamp") == REQUIRED_COLUMNS["timestamp"]


def schema_problems(
    frame: pl.DataFrame, *, partitions: Sequence[str], partition_of: Callable[[date], str]
) -> list[Problem]:
    """Missing columns and wrong dtypes on each of ``partitions``; unparseable text on the partition of its row.

    ``partitions`` are the partitions the frame was fetched for: a column-wide problem spoils all of them.
    """
    expected = {**REQUIRED_COLUMNS, **{c: t for c, t in OPTIONAL_COLUMNS.items() if c in frame.columns}}
    unknown = [c for c in frame.columns if c not in expected and c not in OPTIONAL_COLUMNS]
    found: list[tuple[str, str]] = []
    for column, dtype in expected.items():
        if column not in frame.columns:
            extra = f" (the frame has unexpected columns {', '.join(map(repr, unknown))})" if unknown else ""
            found.append((column, f"required column missing{extra}"))
        elif frame.schema[column] != dtype:
            found.append((column, f"wrong dtype {frame.schema[column]} (expected {dtype})"))
    problems = [Problem(key, column, reason, ()) for column, reason in found for key in partitions]
    for column, dtype in expected.items():
        if column != "timestamp" and frame.schema.get(column) == pl.String:
            problems += _unparseable(frame, column, dtype, partition_of)
    return problems


def _unparseable(
    frame: pl.DataFrame, column: str, dtype: pl.DataType, partition_of: Callable[[date], str]
) -> list[Problem]:
    """Rows whose text is not a number at all (``'n/a'``), on the partition of each row; needs usable timestamps."""
    if not has_usable_timestamp(frame):
        return []
    bad = frame.filter(
        pl.col(column).is_not_null() & pl.col(column).str.strip_chars().cast(dtype, strict=False).is_null()
    )
    rows: dict[str, list[str]] = {}
    values: dict[str, list[str]] = {}
    for moment, value in bad.select("timestamp", column).iter_rows():
        if not isinstance(moment, datetime):
            continue  # a row without a time belongs to no partition; the time itself is reported by the value rules
        key = partition_of(moment.date())
        rows.setdefault(key, []).append(moment.strftime("%Y-%m-%dT%H:%MZ"))
        if value not in values.setdefault(key, []):
            values[key].append(value)
    return [
        Problem(key, column, f"text that is not a number: {', '.join(map(repr, values[key][:3]))}", tuple(labels))
        for key, labels in sorted(rows.items())
    ]
