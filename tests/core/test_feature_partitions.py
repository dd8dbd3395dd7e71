"""Feature partitions read exactly their declared inputs: own candles, reference and universe over one window."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.day_keys import MissingPartitionError
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import compute_feature_partitions, history_days
from huracan_core.sources.bundled import bundled_source

RECIPE = FeatureRecipe.default("15m")
DAY = date(2024, 12, 4)


@pytest.fixture(scope="module")
def candles() -> dict[tuple[date, str], pl.DataFrame]:
    source = bundled_source()
    out = {}
    for symbol in ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"):
        for n in range(history_days(RECIPE) + 2):
            day = DAY - timedelta(days=n)
            out[(day, symbol)] = source.fetch(symbol, "15m", day_start(day), day_start(day + timedelta(days=1)))
    return out


def test_symbols_outside_the_declared_universe_change_nothing(candles):
    universe = {DAY: ["BTC/USDT", "ETH/USDT", "SOL/USDT"]}
    without_xrp = {k: v for k, v in candles.items() if k[1] != "XRP-USDT"}
    [a] = compute_feature_partitions(RECIPE, candles, [(DAY, "BTC-USDT")], universe).parts
    [b] = compute_feature_partitions(RECIPE, without_xrp, [(DAY, "BTC-USDT")], universe).parts
    assert a.frame.equals(b.frame) and a.universe == ("BTC-USDT", "ETH-USDT", "SOL-USDT")
    assert a.frame["rs_rank"].null_count() == 0


def test_extra_days_before_the_window_change_nothing(candles):
    """A day computed alone and inside a longer range gives identical values (the window is the declaration)."""
    universe = {DAY - timedelta(days=n): ["BTC/USDT", "ETH/USDT"] for n in range(2)}
    alone = compute_feature_partitions(RECIPE, candles, [(DAY, "ETH-USDT")], universe).parts[0]
    ranged = {
        p.day: p
        for p in compute_feature_partitions(
            RECIPE, candles, [(DAY, "ETH-USDT"), (DAY - timedelta(days=1), "ETH-USDT")], universe
        ).parts
    }
    assert alone.frame.equals(ranged[DAY].frame)


def test_a_range_in_one_pass_gives_every_day_the_bytes_it_gets_alone() -> None:
    """Ten days of three coins in one pass per coin equal each day computed from its own window alone — also the
    data's first days (too little history: computed alone, with nulls), and the days after a missing candle day."""
    source = bundled_source()
    symbols = ("BTC-USDT", "ETH-USDT", "SOL-USDT")
    first = date(2024, 7, 1)  # the sample's first day
    days = [first + timedelta(days=n) for n in range(history_days(RECIPE) + 12)]
    candles = {
        (d, s): source.fetch(s, "15m", day_start(d), day_start(d + timedelta(days=1))) for d in days for s in symbols
    }
    gap = days[-8]
    gappy = {k: v for k, v in candles.items() if k != (gap, "ETH-USDT")}
    universe = {d: ["BTC/USDT", "SOL/USDT"] for d in days}  # ETH (with the gap) is no one else's input
    early = [(d, s) for d in days[:3] for s in symbols]
    late = [(d, s) for d in days[-10:] for s in symbols if (d, s) in gappy]
    ranged = {(p.day, p.symbol): p for p in compute_feature_partitions(RECIPE, gappy, early + late, universe).parts}
    assert len(ranged) == len(early) + len(late)
    for key in early + late:
        [alone] = compute_feature_partitions(RECIPE, gappy, [key], universe).parts
        assert alone.frame.equals(ranged[key].frame), key
        assert alone.null_reasons == ranged[key].null_reasons and alone.history_bars == ranged[key].history_bars
    # the gap leaves ETH's following days short of history (computed alone); their values are still exact
    assert ranged[(gap + timedelta(days=1), "ETH-USDT")].history_bars < RECIPE.history_bars
    assert ranged[(days[-1], "BTC-USDT")].history_bars >= RECIPE.history_bars
    assert "history" in ranged[(first, "BTC-USDT")].null_reasons


def test_a_changed_universe_changes_rs_rank_and_its_recorded_hash(candles):
    wide = compute_feature_partitions(
        RECIPE, candles, [(DAY, "BTC-USDT")], {DAY: ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]}
    ).parts[0]
    narrow = compute_feature_partitions(RECIPE, candles, [(DAY, "BTC-USDT")], {DAY: ["BTC/USDT", "ETH/USDT"]}).parts[0]
    assert wide.frame["universe_hash"][0] != narrow.frame["universe_hash"][0]
    assert not wide.frame["rs_rank"].equals(narrow.frame["rs_rank"])


def test_a_declared_member_without_candles_is_an_error_naming_it(candles):
    gappy = {k: v for k, v in candles.items() if k != (DAY - timedelta(days=2), "SOL-USDT")}
    with pytest.raises(MissingPartitionError, match=r"2024-12-04\|BTC-USDT.*SOL-USDT \(2024-12-02\)"):
        compute_feature_partitions(RECIPE, gappy, [(DAY, "BTC-USDT")], {DAY: ["BTC/USDT", "SOL/USDT"]})


def test_the_reference_is_a_declared_input(candles):
    no_btc = {k: v for k, v in candles.items() if k[1] != "BTC-USDT"}
    with pytest.raises(MissingPartitionError, match="BTC-USDT"):
        compute_feature_partitions(RECIPE, no_btc, [(DAY, "ETH-USDT")], {DAY: ["ETH/USDT", "SOL/USDT"]})
