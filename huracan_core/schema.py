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
    """Cast known columns to the canonical dtypes and order; unknown columns are dropped.

    Casting is strict: a value that cannot be represented raises rather than silently becoming null.
    Integer timestamps are read as epoch milliseconds (what exchanges send).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"candle frame lacks required columns {missing}")
    exprs = [_timestamp_expr(frame.schema["timestamp"])]
    for name, dtype in {**REQUIRED_COLUMNS, **OPTIONAL_COLUMNS}.items():
        if name != "timestamp" and name in frame.columns:
            exprs.append(pl.col(name).cast(dtype, strict=True))
    return frame.select(exprs)


def _timestamp_expr(dtype: pl.DataType) -> pl.Expr:
    col = pl.col("timestamp")
    if dtype.is_integer():
        return pl.from_epoch(col, time_unit="ms").dt.replace_time_zone("UTC").dt.cast_time_unit("ms")
    if isinstance(dtype, pl.Datetime):
        col = col.dt.replace_time_zone("UTC") if dtype.time_zone is None else col.dt.convert_time_zone("UTC")
        return col.dt.cast_time_unit("ms")
    raise ValueError(f"timestamp column has dtype {dtype}; expected epoch ms or a datetime")
