"""Blocking candle rules as a pandera schema; a frame that breaks any of them is never written.

Every failure is reported at once (``lazy=True``) and mapped back to the day partition of the bad row, so the
error names partition, column, rows and reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

import polars as pl

from huracan_core.schema import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from huracan_core.timeframes import timeframe_ms
from huracan_core.validation.drift import has_usable_timestamp, schema_problems
from huracan_core.validation.problems import CandleValidationError, Problem

if TYPE_CHECKING:  # pandera (and pandas beneath it) is imported where candles are validated, not by every process
    import pandera.polars as pa

__all__ = ["CandleValidationError", "Problem", "candle_schema", "validate_candles"]


def candle_schema(timeframe: str, columns: list[str]) -> pa.DataFrameSchema:
    import pandera.polars as pa

    def _elementwise(name: str, error: str, expr: Callable[[str], pl.Expr]) -> pa.Check:
        return pa.Check(lambda data: data.lazyframe.select(expr(data.key)), name=name, error=error)

    def _frame_check(name: str, error: str, expr: pl.Expr) -> pa.Check:
        return pa.Check(lambda data: data.lazyframe.select(expr), name=name, error=error)

    finite = _elementwise("finite", "NaN or infinite value", lambda c: pl.col(c).is_finite())
    positive = _elementwise("positive", "price is not positive", lambda c: pl.col(c) > 0)
    non_negative = _elementwise("non_negative", "negative value", lambda c: pl.col(c) >= 0)
    increasing = _elementwise(
        "strictly_increasing",
        "timestamp not after the previous row",
        lambda c: (pl.col(c).diff().dt.total_milliseconds() > 0).fill_null(True),
    )
    step = timeframe_ms(timeframe)
    aligned = _elementwise(
        "aligned", f"timestamp not aligned to {timeframe}", lambda c: pl.col(c).dt.epoch("ms") % step == 0
    )
    spec: dict[str, pa.Column] = {
        "timestamp": pa.Column(REQUIRED_COLUMNS["timestamp"], checks=[aligned, increasing], unique=True),
        **{c: pa.Column(pl.Float64, checks=[finite, positive]) for c in ("open", "high", "low", "close")},
        "volume": pa.Column(pl.Float64, checks=[finite, non_negative]),
    }
    if "quote_volume" in columns:
        spec["quote_volume"] = pa.Column(OPTIONAL_COLUMNS["quote_volume"], checks=[finite, non_negative])
    if "trades" in columns:
        spec["trades"] = pa.Column(OPTIONAL_COLUMNS["trades"], checks=[non_negative])
    body_low, body_high = pl.min_horizontal("open", "close"), pl.max_horizontal("open", "close")
    return pa.DataFrameSchema(
        spec,
        checks=[
            _frame_check("low_le_open_close", "low above open or close", pl.col("low") <= body_low),
            _frame_check("open_close_le_high", "high below open or close", body_high <= pl.col("high")),
            _frame_check("low_le_high", "high < low", pl.col("low") <= pl.col("high")),
        ],
    )


def validate_candles(
    frame: pl.DataFrame, *, timeframe: str, partition_of: Callable[[date], str], partitions: Sequence[str] | None = None
) -> pl.DataFrame:
    """Return ``frame`` unchanged if every blocking rule holds, else raise naming each bad partition.

    ``partition_of`` maps the UTC day of a bad row to its partition key. ``partitions`` are those the frame is
    meant to fill (default: the days it holds): a missing column or a wrong dtype spoils each of them. Rows
    without a usable timestamp are attributed to the first day of the frame.
    """
    fallback_day = _first_day(frame)
    if partitions is None:
        days = (
            sorted(set(frame["timestamp"].dt.date().drop_nulls()))
            if has_usable_timestamp(frame) and frame.height
            else []
        )
        partitions = [partition_of(d) for d in days or [fallback_day]]
    drift = schema_problems(frame, partitions=partitions, partition_of=partition_of)
    if drift:
        raise CandleValidationError(drift)
    from pandera.errors import SchemaErrors

    try:
        candle_schema(timeframe, frame.columns).validate(frame, lazy=True)
    except SchemaErrors as errors:
        raise CandleValidationError(_problems(frame, errors.failure_cases, partition_of, fallback_day)) from None
    return frame


def _first_day(frame: pl.DataFrame) -> date:
    if has_usable_timestamp(frame) and frame.height:
        first = frame["timestamp"].drop_nulls().min()
        if isinstance(first, datetime):
            return first.date()
    return date(1970, 1, 1)


def _problems(
    frame: pl.DataFrame, failures: pl.DataFrame, partition_of: Callable[[date], str], fallback_day: date
) -> list[Problem]:
    has_ts = has_usable_timestamp(frame)
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for row in failures.iter_rows(named=True):
        column = row["column"] or "<frame>"
        reason = _reason(row)
        index = row.get("index")
        day, label = fallback_day, "all rows"
        if index is not None and has_ts:
            moment = frame["timestamp"][int(index)]
            if isinstance(moment, datetime):
                day, label = moment.date(), moment.strftime("%Y-%m-%dT%H:%MZ")
            else:
                label = f"row {index}"
        elif index is not None:
            label = f"row {index}"
        grouped.setdefault((partition_of(day), column, reason), []).append(label)
    return [Problem(p, c, r, tuple(rows)) for (p, c, r), rows in sorted(grouped.items())]


def _reason(row: dict) -> str:
    check = str(row["check"])
    if check == "not_nullable":
        return "null or NaN value"
    if check == "field_uniqueness":
        return "duplicate timestamp"
    if check.startswith("dtype("):
        expected = check[len("dtype(") : -1].strip("'")
        return f"wrong dtype {row['failure_case']} (expected {expected})"
    if check == "column_in_dataframe":
        return "required column missing"
    return check
