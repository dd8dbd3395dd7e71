"""Per-bar market regime: TREND, RANGE, PANIC or UNKNOWN, from three linear scores over features.

Precedence is fixed: TREND if its score clears its threshold, else RANGE, else PANIC, else UNKNOWN.
Confidence is tanh(margin / ``confidence_margin``) in [0, 1]: for the chosen regime the margin is its score
minus its threshold; for UNKNOWN it is how far the closest score stays below its threshold. Bars whose inputs
are null (warm-up) are UNKNOWN with null scores and confidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import polars as pl

from huracan_core.regimes.config import RegimeConfig
from huracan_core.versions import modules_used, source_hash

K = TypeVar("K")
REGIMES = ("TREND", "RANGE", "PANIC", "UNKNOWN")
INPUT_COLUMNS = (
    "trend_strength", "adx", "ema_slope", "momentum_slope", "compression", "bb_width_pct",
    "volatility_ratio", "volatility_percentile", "kurtosis", "skewness",
)  # fmt: skip
OUTPUT_COLUMNS = ("timestamp", "regime", "regime_confidence", "trend_score", "range_score", "panic_score")


class RegimeDetector:
    def __init__(self, config: RegimeConfig | None = None) -> None:
        self.config = config or RegimeConfig()

    @property
    def version_hash(self) -> str:
        """Short hash over the config's values and the detector's source (scores, precedence, confidence)."""
        return source_hash(*modules_used(RegimeDetector), extra=self.config)

    def scores(self) -> list[pl.Expr]:
        """The three documented scores as expressions over feature columns."""
        c = self.config

        def directional(name: str) -> pl.Expr:
            return pl.col(name).abs() if c.two_sided_trend else pl.col(name)

        trend = (
            c.trend_bias
            + c.trend_strength * directional("trend_strength")
            + c.trend_adx * c.adx_scale * pl.col("adx")
            + c.trend_ema_slope * directional("ema_slope")
            + c.trend_momentum_slope * directional("momentum_slope")
        )
        range_ = (
            c.range_bias
            + c.range_compression * pl.col("compression")
            + c.range_bb_width * pl.col("bb_width_pct")
            + c.range_trend_strength * directional("trend_strength")
        )
        panic = (
            c.panic_bias
            + c.panic_volatility_ratio * (pl.col("volatility_ratio") - c.volatility_ratio_centre)
            + c.panic_volatility_percentile * pl.col("volatility_percentile")
            + c.panic_kurtosis * pl.col("kurtosis")
            + c.panic_skewness * pl.col("skewness")
        )
        return [trend.alias("trend_score"), range_.alias("range_score"), panic.alias("panic_score")]

    def detect(self, features: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
        """Regime per bar: columns ``OUTPUT_COLUMNS``."""
        return self.lazy(features).collect()

    def detect_many(self, features: Mapping[K, pl.DataFrame]) -> dict[K, pl.DataFrame]:
        """``detect`` of many frames (a ranged run's partitions) in one query: a bar's regime is a function of its
        own features alone, so each frame's rows are exactly what ``detect`` gives it, in its own order."""
        if not features:
            return {}
        detected = self.detect(pl.concat(list(features.values()), how="diagonal_relaxed"))
        out, offset = {}, 0
        for key, frame in features.items():
            out[key] = detected.slice(offset, frame.height)
            offset += frame.height
        return out

    def lazy(self, features: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
        c = self.config
        trend, range_, panic = pl.col("trend_score"), pl.col("range_score"), pl.col("panic_score")
        gaps = [trend - c.trend_threshold, range_ - c.range_threshold, panic - c.panic_threshold]
        defined = pl.all_horizontal([g.is_not_null() for g in gaps])
        regime = (
            pl.when(~defined).then(pl.lit("UNKNOWN"))
            .when(gaps[0] > 0).then(pl.lit("TREND"))
            .when(gaps[1] > 0).then(pl.lit("RANGE"))
            .when(gaps[2] > 0).then(pl.lit("PANIC"))
            .otherwise(pl.lit("UNKNOWN"))
        )  # fmt: skip
        margin = (
            pl.when(gaps[0] > 0).then(gaps[0])
            .when(gaps[1] > 0).then(gaps[1])
            .when(gaps[2] > 0).then(gaps[2])
            .otherwise(-pl.max_horizontal(gaps))
        )  # fmt: skip
        confidence = pl.when(defined).then((margin / c.confidence_margin).tanh())
        return (
            features.lazy()
            .select("timestamp", *self.scores())
            .with_columns(regime.alias("regime"), confidence.alias("regime_confidence"))
            .select(OUTPUT_COLUMNS)
        )


def regime_shares(frame: pl.DataFrame) -> dict[str, float]:
    """Share of bars in each regime (all four keys present), over the bars given."""
    total = frame.height
    counts = dict(frame.group_by("regime").len().iter_rows())
    return {r: (counts.get(r, 0) / total if total else 0.0) for r in REGIMES}
