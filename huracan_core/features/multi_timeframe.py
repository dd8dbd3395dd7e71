"""Higher-timeframe trend flags, built causally from the base candles themselves.

A base bar opened at t closes at t + base; by then only the 1h/4h candles that have *closed* may be used.
Each higher-timeframe candle is available from max(its open + its length, its last member's close), and base
bars pick the latest available one with an as-of join. The still-forming hour is never read.
Flags use an SMA (finite memory), so a partition computed from a short trailing history reproduces them exactly.
"""

from __future__ import annotations

import polars as pl

from huracan_core.features.feature import Feature
from huracan_core.features.rolling import rolling_mean
from huracan_core.timeframes import timeframe_ms

HIGHER_TIMEFRAMES: dict[str, int] = {"1h": 20, "4h": 12}  # higher timeframe -> SMA length in its own candles


def attach_htf_trends(frame: pl.LazyFrame, base_timeframe: str) -> pl.LazyFrame:
    """Add ``_htf_<tf>`` inputs: sign(close − SMA) of the last closed higher-timeframe candle."""
    base = pl.duration(milliseconds=timeframe_ms(base_timeframe))
    out = frame.with_columns((pl.col("timestamp") + base).alias("_avail"))
    for htf, n in HIGHER_TIMEFRAMES.items():
        htf_len = pl.duration(milliseconds=timeframe_ms(htf))
        bars = (
            frame.select("timestamp", "close", pl.col("timestamp").alias("_last"))
            .group_by_dynamic("timestamp", every=htf, closed="left", label="left")
            .agg(pl.col("close").last(), pl.col("_last").max())
            .select(
                pl.max_horizontal(pl.col("timestamp") + htf_len, pl.col("_last") + base).alias(f"_avail_{htf}"),
                (pl.col("close") - rolling_mean(pl.col("close"), n)).sign().cast(pl.Float64).alias(f"_htf_{htf}"),
            )
        )
        out = out.join_asof(bars, left_on="_avail", right_on=f"_avail_{htf}", strategy="backward").drop(f"_avail_{htf}")
    return out.drop("_avail")


def htf_trend(timeframe: str) -> pl.Expr:
    """+1 when the last closed ``timeframe`` candle closed above its SMA, −1 below."""
    return pl.col(f"_htf_{timeframe}")


def htf_bias() -> pl.Expr:
    """Mean of the 1h and 4h flags in [−1, 1]: agreement of the higher timeframes."""
    return (pl.col("trend_1h") + pl.col("trend_4h")) / 2.0


def features(base_timeframe: str) -> list[Feature]:
    base_ms = timeframe_ms(base_timeframe)
    lookbacks = {htf: n * max(1, timeframe_ms(htf) // base_ms) - 1 for htf, n in HIGHER_TIMEFRAMES.items()}
    return [
        Feature("trend_1h", htf_trend, lookbacks["1h"], "multi_timeframe", {"timeframe": "1h"}),
        Feature("trend_4h", htf_trend, lookbacks["4h"], "multi_timeframe", {"timeframe": "4h"}),
        Feature("htf_bias", htf_bias, max(lookbacks.values()), "multi_timeframe"),
    ]
