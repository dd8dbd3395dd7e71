"""A day's signals read their warm-up days as declared inputs (a warm-up day with candles must have features too),
and a range computed in one query gives each day the bytes of its own window."""

from __future__ import annotations

import io
from datetime import date, timedelta

import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.day_keys import MissingPartitionError
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import compute_feature_partitions
from huracan_core.regimes import RegimeDetector
from huracan_core.sources.bundled import bundled_source
from huracan_core.trading.consensus import vote
from huracan_core.trading.costs import CostModel
from huracan_core.trading.signals import WARMUP_DAYS, day_bars, prove_signal_causality, signal_partitions

DAY = date(2024, 12, 4)


def test_a_warm_up_day_with_candles_but_no_features_is_an_error_naming_it():
    frame = pl.DataFrame({"timestamp": []})
    candles = {(DAY - timedelta(days=n), "BTC-USDT"): frame for n in range(4)}
    only_today = {(DAY, "BTC-USDT"): frame}
    with pytest.raises(MissingPartitionError, match=r"warm-up.*2024-12-01\|BTC-USDT.*2024-12-03\|BTC-USDT"):
        signal_partitions(candles, only_today, only_today, [(DAY, "BTC-USDT")], warmup_days=3, costs=CostModel())


def _parquet(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def test_a_range_in_one_query_gives_every_day_the_bytes_of_its_own_window():
    """Twelve days of two coins from the sample's first day, one coin missing a candle day, in one call: each day is
    byte for byte what ``vote`` gives on that day's own window (warm-up days and the day) and what the day gets
    computed alone — the first days (short warm-up) and the days after the gap included."""
    source = bundled_source()
    recipe = FeatureRecipe.default("15m")
    first = source.first_timestamp("BTC-USDT", "15m").date()
    days = [first + timedelta(days=n) for n in range(12)]
    gap = (days[6], "ETH-USDT")
    candles = {
        (d, s): source.fetch(s, "15m", day_start(d), day_start(d + timedelta(days=1)))
        for s in ("BTC-USDT", "ETH-USDT")
        for d in days
        if (d, s) != gap
    }
    wanted = sorted(candles)
    universe = {d: ["BTC/USDT"] for d in days}  # ETH's missing day is its own, not a declared input of BTC
    features = {(p.day, p.symbol): p.frame for p in compute_feature_partitions(recipe, candles, wanted, universe).parts}
    detector = RegimeDetector()
    regimes = {k: detector.detect(f) for k, f in features.items()}
    costs = CostModel()
    ranged = signal_partitions(candles, features, regimes, wanted, warmup_days=WARMUP_DAYS, costs=costs)
    assert sorted(ranged) == wanted
    inputs = {"candles": candles, "features": features, "regimes": regimes}
    for key in wanted:
        own_window = vote(day_bars(inputs, key, WARMUP_DAYS), key[1], costs=costs)
        assert ranged[key].equals(own_window.filter(pl.col("timestamp") >= day_start(key[0]))), key
        alone = signal_partitions(candles, features, regimes, [key], warmup_days=WARMUP_DAYS, costs=costs)[key]
        assert _parquet(alone) == _parquet(ranged[key]), key
        assert ranged[key].height == candles[key].height
    # the range is not trivially per-day: a day's warm-up changes its meta weights (the first day has none)
    assert not ranged[(days[4], "BTC-USDT")].equals(
        vote(
            candles[(days[4], "BTC-USDT")].join(features[(days[4], "BTC-USDT")], on="timestamp"),
            "BTC-USDT",
            costs=costs,
        )
    )


def test_the_signals_proof_judges_the_stored_partition():
    """The sampled proof compares truncated recomputations with the signals as computed: the range's own are
    causal, and a stored value that no truncated window gives is reported at its bar and column."""
    source = bundled_source()
    first = source.first_timestamp("BTC-USDT", "15m").date()
    days = [first + timedelta(days=n) for n in range(5)]
    candles = {
        (d, "BTC-USDT"): source.fetch("BTC-USDT", "15m", day_start(d), day_start(d + timedelta(days=1))) for d in days
    }
    features = {
        (p.day, p.symbol): p.frame
        for p in compute_feature_partitions(
            FeatureRecipe.default("15m"), candles, sorted(candles), {d: ["BTC/USDT"] for d in days}
        ).parts
    }
    detector = RegimeDetector()
    inputs = {"candles": candles, "features": features, "regimes": {k: detector.detect(f) for k, f in features.items()}}
    costs = CostModel()
    stored = signal_partitions(*inputs.values(), sorted(candles), warmup_days=WARMUP_DAYS, costs=costs)
    (report,) = prove_signal_causality(inputs, stored, 3, warmup_days=WARMUP_DAYS, costs=costs).values()
    assert report.ok and report.checked_timestamps == 3 and "direction" in report.checked_columns
    last = (days[-1], "BTC-USDT")
    tampered = stored | {last: stored[last].with_columns(pl.col("cost_bps") + 1.0)}
    (report,) = prove_signal_causality(inputs, tampered, 3, warmup_days=WARMUP_DAYS, costs=costs).values()
    assert report.offending_columns == ["cost_bps"] and len(report.violations) == 3
