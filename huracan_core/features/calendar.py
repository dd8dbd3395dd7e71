"""Calendar: crypto trades around the clock, but liquidity still follows sessions and weekends."""

from __future__ import annotations

import polars as pl

from huracan_core.features.feature import Feature

TS = pl.col("timestamp")


def hour_of_day() -> pl.Expr:
    """UTC hour of the candle's open (0..23)."""
    return TS.dt.hour().cast(pl.Float64)


def day_of_week() -> pl.Expr:
    """ISO weekday of the candle's open (1 = Monday .. 7 = Sunday)."""
    return TS.dt.weekday().cast(pl.Float64)


def is_weekend() -> pl.Expr:
    """1 on Saturday and Sunday UTC, when spot liquidity is thinnest."""
    return (TS.dt.weekday() >= 6).cast(pl.Float64)


def features() -> list[Feature]:
    return [
        Feature("hour_of_day", hour_of_day, 0, "calendar"),
        Feature("day_of_week", day_of_week, 0, "calendar"),
        Feature("is_weekend", is_weekend, 0, "calendar"),
    ]
