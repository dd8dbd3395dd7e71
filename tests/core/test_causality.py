"""Causality is tested, not promised: every feature and regime column, truncated at t, equals the full run at t."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from huracan_core.features import FeatureRecipe
from huracan_core.features.causality import check_causality
from huracan_core.regimes import RegimeDetector
from tests.conftest import REAL_CANDLES, requires_shared_candles

RECIPE = FeatureRecipe.default("15m")
WINDOWS = [
    # the 2024-08-05 crash: both candle sets hold it
    pytest.param(datetime(2024, 8, 1, tzinfo=UTC), id="2024-08-crash"),
    # the 2023-03-24 halt, flat candles then missing ones: only the shared set reaches back to it
    pytest.param(datetime(2023, 3, 15, tzinfo=UTC), id="2023-03-halt", marks=requires_shared_candles),
]


@pytest.fixture(scope="module", params=WINDOWS)
def universe(request: pytest.FixtureRequest) -> dict[str, pl.DataFrame]:
    """Two weeks (1400 bars) of three pairs from the window's start."""
    return {
        s: pl.read_parquet(REAL_CANDLES / f"{s}_15m.parquet").filter(pl.col("timestamp") >= request.param).head(1400)
        for s in ("BTC-USDT", "ETH-USDT", "SOL-USDT")
    }


def _sampled(candles: pl.DataFrame, count: int) -> list:
    after_warmup = candles["timestamp"].slice(RECIPE.warmup_bars)
    step = max(1, after_warmup.len() // count)
    return after_warmup.gather_every(step).head(count).to_list()


def _features_and_regimes(universe: dict[str, pl.DataFrame]):
    def compute(eth: pl.DataFrame) -> pl.DataFrame:
        end = eth["timestamp"].max()
        cut = {s: c.filter(pl.col("timestamp") <= end) for s, c in universe.items()}
        features = RECIPE.compute(eth, symbol="ETH-USDT", reference=cut["BTC-USDT"], universe=cut)
        regimes = RegimeDetector().detect(features)
        return features.join(regimes, on="timestamp")

    return compute


def test_recipe_and_regimes_are_causal(universe: dict[str, pl.DataFrame]) -> None:
    eth = universe["ETH-USDT"]
    report = check_causality(_features_and_regimes(universe), eth, _sampled(eth, 30))
    assert report.ok, report.summary()
    assert report.checked_timestamps == 30
    assert {"htf_bias", "corr_btc", "rs_rank", "regime", "regime_confidence"} <= set(report.checked_columns)


def test_catches_a_peeking_feature(universe: dict[str, pl.DataFrame]) -> None:
    def peeking(candles: pl.DataFrame) -> pl.DataFrame:
        honest = RECIPE.compute(candles).select("timestamp", "rsi_14", "adx")
        return honest.with_columns(candles["close"].shift(-1).alias("next_close"))

    eth = universe["ETH-USDT"]
    report = check_causality(peeking, eth, _sampled(eth, 5))
    assert not report.ok
    assert report.offending_columns == ["next_close"]
    assert "next_close" in report.summary()


def test_a_given_full_frame_is_judged_and_must_hold_the_recomputed_columns(universe: dict[str, pl.DataFrame]) -> None:
    """A caller's own full frame (a stored partition) is what the truncated recomputations are compared with: a
    value altered in it is a violation, and a column the recomputation lacks is an error, not a skipped column."""

    def honest(candles: pl.DataFrame) -> pl.DataFrame:
        return RECIPE.compute(candles).select("timestamp", "rsi_14", "adx")

    eth = universe["ETH-USDT"]
    stamps = _sampled(eth, 4)
    stored = honest(eth)
    assert check_causality(honest, eth, stamps, full=stored).ok
    altered = stored.with_columns(pl.col("adx") * 1.01)
    assert check_causality(honest, eth, stamps, full=altered).offending_columns == ["adx"]
    with pytest.raises(ValueError, match=r"recomputed columns differ.*'extra'"):
        check_causality(honest, eth, stamps, full=stored.with_columns(extra=pl.lit(1.0)))


def test_catches_the_still_forming_hour(universe: dict[str, pl.DataFrame]) -> None:
    """Reading the current hour's last close (instead of the last closed hour's) is caught."""

    def forming_hour(candles: pl.DataFrame) -> pl.DataFrame:
        hour = pl.col("timestamp").dt.truncate("1h")
        return candles.select("timestamp", pl.col("close").last().over(hour).alias("hour_close"))

    eth = universe["ETH-USDT"]
    stamps = [t for t in _sampled(eth, 12) if t.minute != 45]
    report = check_causality(forming_hour, eth, stamps)
    assert report.offending_columns == ["hour_close"]
