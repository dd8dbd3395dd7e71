"""Regimes: documented scores, precedence, confidence, and non-trivial shares on real 15m data."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from huracan_core.features import FeatureRecipe
from huracan_core.regimes import REGIMES, RegimeConfig, RegimeDetector, regime_shares
from tests.conftest import SHARED_CANDLES, requires_shared_candles

CANDLES = SHARED_CANDLES
pytestmark = requires_shared_candles
PAIRS = ("ADA", "AVAX", "BNB", "BTC", "DOGE", "DOT", "ETH", "LINK", "SOL", "XRP")


def _inputs(**overrides: float) -> pl.DataFrame:
    base = {
        "timestamp": [pl.datetime(2024, 1, 1, time_zone="UTC")],
        "trend_strength": 0.0, "adx": 20.0, "ema_slope": 0.0, "momentum_slope": 0.0, "compression": 0.5,
        "bb_width_pct": 0.02, "volatility_ratio": 1.0, "volatility_percentile": 0.5, "kurtosis": 0.0, "skewness": 0.0,
    }  # fmt: skip
    frame = pl.select(**{k: pl.lit(v) if not isinstance(v, list) else v[0] for k, v in base.items()})
    return frame.with_columns(**{k: pl.lit(v) for k, v in overrides.items()})


def test_scores_follow_the_documented_formula() -> None:
    row = RegimeDetector().detect(_inputs(trend_strength=-0.5, adx=40.0, ema_slope=0.1, momentum_slope=-0.2)).row(0, named=True)
    assert row["trend_score"] == pytest.approx(-0.15 + 1.8 * 0.5 + 0.035 * 0.40 + 1.1 * 0.1 + 0.9 * 0.2)
    assert row["range_score"] == pytest.approx(0.1 + 1.2 * 0.5 - 0.8 * 0.02 - 0.9 * 0.5)
    assert row["panic_score"] == pytest.approx(-1.0 + 1.4 * 0.0 + 1.6 * 0.5)
    assert row["regime"] == "TREND"  # a down-trend is a trend
    one_sided = RegimeDetector(RegimeConfig(two_sided_trend=False)).detect(_inputs(trend_strength=-0.5))
    assert one_sided["regime"][0] != "TREND"


def test_precedence_and_confidence() -> None:
    detector = RegimeDetector()
    both = detector.detect(_inputs(trend_strength=0.5, compression=1.0, volatility_percentile=1.0, volatility_ratio=2.0))
    assert both["regime"][0] == "TREND"
    ranging = detector.detect(_inputs(compression=1.0))
    assert ranging["regime"][0] == "RANGE"
    assert ranging["regime_confidence"][0] == pytest.approx(float(pl.Series([(1.284 - 0.6) / 0.5]).tanh()[0]))
    panic = detector.detect(_inputs(compression=0.0, volatility_ratio=1.5, volatility_percentile=0.95, kurtosis=6.0))
    assert panic["regime"][0] == "PANIC"
    calm = detector.detect(_inputs(compression=0.2))
    assert calm["regime"][0] == "UNKNOWN" and 0 < calm["regime_confidence"][0] < 1
    missing = detector.detect(_inputs().with_columns(pl.lit(None, pl.Float64).alias("adx")))
    assert missing["regime"][0] == "UNKNOWN" and missing["regime_confidence"][0] is None
    stricter = RegimeDetector(dataclasses.replace(RegimeConfig(), range_threshold=1.3)).detect(_inputs(compression=1.0))
    assert stricter["regime"][0] != "RANGE"


@pytest.fixture(scope="module")
def shares_2024() -> dict[str, float]:
    recipe = FeatureRecipe.default("15m")
    start = pl.datetime(2024, 1, 1, time_zone="UTC")
    candles = {
        f"{p}-USDT": pl.read_parquet(CANDLES / f"{p}-USDT_15m.parquet").filter(pl.col("timestamp") >= start - pl.duration(days=7))
        for p in PAIRS
    }
    features = pl.concat(f.filter(pl.col("timestamp") >= start) for f in recipe.compute_many(candles).values())
    return regime_shares(RegimeDetector().detect(features))


def test_every_regime_fires_on_real_data(shares_2024: dict[str, float]) -> None:
    """Measured with the defaults (10 pairs × 2024, 15m): TREND ~0.40, RANGE ~0.39, PANIC ~0.025, UNKNOWN ~0.19."""
    print(shares_2024)
    assert set(shares_2024) == set(REGIMES)
    assert sum(shares_2024.values()) == pytest.approx(1.0)
    assert all(0.01 < share < 0.6 for share in shares_2024.values()), shares_2024
