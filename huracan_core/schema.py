"""The canonical candle frame that every source produces and every later stage consumes.

One symbol per frame, one row per closed candle, sorted by ``timestamp`` (the candle's open time, UTC).
``quote_volume`` and ``trades`` are optional: the ccxt path does not always have them.
"""

from __future__ import annotations

import polars as pl

TIMESTAMP_DTYPE = pl.Datetime("ms", "UTC")

REQUIRED_COLUMNS: dict[str, pl.DataType] = {
    "timestamp": TIMESTAMP_DTYPE,
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),
}
OPTIONAL_COLUMNS: dict[str, pl.DataType] = {
    "quote_volume": pl.Float64(),
    "trades": pl.Int64(),
}
PRICE_COLUMNS = ("open", "high", "low", "close")


def empty_candles() -> pl.DataFrame:
    return pl.DataFrame(schema=REQUIRED_COLUMNS)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Bring a source's frame to the canonical dtypes and column order wherever that loses nothing.

    Numbers are widened (integers and Float32 to Float64; integral floats to the Int64 ``trades``), integer
    timestamps are read as epoch milliseconds (what exchanges send), datetimes move to UTC milliseconds.
    Anything else — a missing or renamed column, prices stored as text, a timestamp as text — is left as it came
    for the blocking rules to report per partition (``huracan_core.validation``): a source must not guess what
    a drifted file meant, and a guess that fails would surface as a bare cast error naming no partition.
    Unknown columns are dropped, except while a required column is missing: then the report can name them.
    """
    exprs = []
    for name, dtype in {**REQUIRED_COLUMNS, **OPTIONAL_COLUMNS}.items():
        if name not in frame.columns:
            continue
        conformed = timestamp_expr(frame.schema[name]) if name == "timestamp" else _lossless_cast(frame[name], dtype)
        exprs.append(pl.col(name) if conformed is None else conformed)
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    if any(c not in frame.columns for c in REQUIRED_COLUMNS):
        exprs += [pl.col(c) for c in frame.columns if c not in known]
    return frame.select(exprs)


def timestamp_expr(dtype: pl.DataType) -> pl.Expr | None:
    """``timestamp`` as UTC milliseconds, or None when ``dtype`` is no time (text, floats): the rules say so."""
    col = pl.col("timestamp")
    if dtype.is_integer():
        return pl.from_epoch(col, time_unit="ms").dt.replace_time_zone("UTC").dt.cast_time_unit("ms").alias("timestamp")
    if isinstance(dtype, pl.Datetime):
        col = col.dt.replace_time_zone("UTC") if dtype.time_zone is None else col.dt.convert_time_zone("UTC")
        return col.dt.cast_time_unit("ms")
    return None


def _lossless_cast(series: pl.Series, dtype: pl.DataType) -> pl.Expr | None:
    """The cast of a numeric column to ``dtype`` when it changes no value, else None (left for the rules)."""
    if series.dtype == dtype:
        return None
    if not series.dtype.is_numeric():
        return None
    if dtype.is_integer() and series.dtype.is_float():
        values = series.drop_nulls()
        if not (values.is_finite().all() and (values == values.floor()).all()):
            return None
    return pl.col(series.name).cast(dtype, strict=True)
