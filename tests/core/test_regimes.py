"""Regimes: documented scores, precedence, confidence, version, and non-trivial shares on real 15m data."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import polars as pl
import pytest

from huracan_core.features import FeatureRecipe
from huracan_core.regimes import RegimeConfig, RegimeDetector, regime_shares
from tests.conftest import SAMPLE_START, real_15m

PAIRS = ("BTC", "ETH", "SOL", "BNB", "XRP")


def _inputs(**overrides: float) -> pl.DataFrame:
    base = {
        "timestamp": [pl.datetime(2024, 1, 1, time_zone="UTC")],
        "trend_strength": 0.0, "adx": 20.0, "ema_slope": 0.0, "momentum_slope": 0.0, "compression": 0.5,
        "bb_width_pct": 0.02, "volatility_ratio": 1.0, "volatility_percentile": 0.5, "kurtosis": 0.0, "skewness": 0.0,
    }  # fmt: skip
    frame = pl.select(**{k: pl.lit(v) if not isinstance(v, list) else v[0] for k, v in base.items()})
    return frame.with_columns(**{k: pl.lit(v) for k, v in overrides.items()})


def test_scores_follow_the_documented_formula() -> None:
    row = (
        RegimeDetector()
        .detect(_inputs(trend_strength=-0.5, adx=40.0, ema_slope=0.1, momentum_slope=-0.2))
        .row(0, named=True)
    )
    assert row["trend_score"] == pytest.approx(-0.15 + 1.8 * 0.5 + 0.035 * 0.40 + 1.1 * 0.1 + 0.9 * 0.2)
    assert row["range_score"] == pytest.approx(0.1 + 1.2 * 0.5 - 0.8 * 0.02 - 0.9 * 0.5)
    assert row["panic_score"] == pytest.approx(-1.0 + 1.4 * 0.0 + 1.6 * 0.5)
    assert row["regime"] == "TREND"  # a down-trend is a trend
    one_sided = RegimeDetector(RegimeConfig(two_sided_trend=False)).detect(_inputs(trend_strength=-0.5))
    assert one_sided["regime"][0] != "TREND"


def test_precedence_and_confidence() -> None:
    detector = RegimeDetector()
    both = detector.detect(
        _inputs(trend_strength=0.5, compression=1.0, volatility_percentile=1.0, volatility_ratio=2.0)
    )
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


def test_version_follows_the_config_values() -> None:
    """The regimes asset's code version: equal configs give equal versions, any changed value another one."""
    version = RegimeDetector().version_hash
    assert re.fullmatch("[0-9a-f]{12}", version), version
    assert RegimeDetector(RegimeConfig()).version_hash == version
    for field in dataclasses.fields(RegimeConfig):
        default = getattr(RegimeConfig(), field.name)
        changed = (not default) if isinstance(default, bool) else default + 0.01
        assert RegimeDetector(RegimeConfig(**{field.name: changed})).version_hash != version, field.name


@pytest.fixture(scope="module")
def shares() -> dict[str, float]:
    """Shares over the 5 bundled pairs × 2024-07-08..12-31 (the first week is the recipe's warm-up)."""
    recipe = FeatureRecipe.default("15m")
    start = SAMPLE_START + timedelta(days=7)
    computed = recipe.compute_many({f"{p}-USDT": real_15m(f"{p}-USDT") for p in PAIRS}).values()
    features = pl.concat(f.filter(pl.col("timestamp") >= start) for f in computed)
    return regime_shares(RegimeDetector().detect(features))


def test_every_regime_fires_on_real_data(shares: dict[str, float]) -> None:
    """Measured with the defaults (5 pairs × 2024-H2, 15m): TREND 0.40, RANGE 0.39, PANIC 0.025, UNKNOWN 0.18 —
    close to the 10 pairs × 2024 of the config's notes. No regime may vanish or take most bars."""
    assert sum(shares.values()) == pytest.approx(1.0)  # no bar left outside the four regimes
    assert all(0.01 < share < 0.6 for share in shares.values()), shares


def test_many_frames_in_one_query_are_each_what_detect_gives_them() -> None:
    features = FeatureRecipe.default("15m").compute(real_15m("ETH-USDT").head(96 * 6))
    dated = features.with_columns(pl.col("timestamp").dt.date().alias("day"))
    days = dated.partition_by("day", as_dict=True, include_key=False)
    frames = {str(day): frame for (day,), frame in days.items()} | {"empty": features.clear()}
    detector = RegimeDetector()
    many = detector.detect_many(frames)
    assert list(many) == list(frames)
    for key, frame in frames.items():
        assert many[key].equals(detector.detect(frame)), key
