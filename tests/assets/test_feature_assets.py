"""features and regimes as Dagster assets: history through the partition mapping, day boundaries, causality."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import polars as pl
import pytest

from huracan_core.features.feature import Feature
from huracan_core.features.partitions import history_days
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.sources import open_source
from huracan_dagster.assets.candles import candles
from huracan_dagster.assets.features import feature_assets
from huracan_dagster.io_manager import PartitionedFrameIOManager
from huracan_dagster.partitions import SYMBOL_DIMENSION
from huracan_dagster.resources import ArchiveResource, CandleSourceResource

RECIPE = FeatureRecipe.default("15m")
SYMBOLS = ["BTC-USDT", "ETH-USDT"]


def run(instance, archive, assets, start: str, end: str, recipe: FeatureRecipe = RECIPE, selection=None) -> dg.ExecuteInProcessResult:
    store = ArchiveResource(root=str(archive))
    missing = [s for s in SYMBOLS if s not in instance.get_dynamic_partitions(SYMBOL_DIMENSION)]
    instance.add_dynamic_partitions(SYMBOL_DIMENSION, missing)
    return dg.materialize(
        assets, instance=instance, selection=selection, raise_on_error=False,
        resources={"source": CandleSourceResource(), "archive": store,
                   "frames_io": PartitionedFrameIOManager(archive=store, recipe_hash=recipe.version_hash)},
        tags={"dagster/asset_partition_range_start": f"{start}|{SYMBOLS[0]}", "dagster/asset_partition_range_end": f"{end}|{SYMBOLS[-1]}"},
    )


@pytest.fixture(scope="module")
def materialized(tmp_path_factory):
    """Candles for the history days, then one ranged run of candles → features → regimes for two days."""
    archive = tmp_path_factory.mktemp("archive")
    instance = dg.DagsterInstance.ephemeral()
    assert history_days(RECIPE) == 12
    assert run(instance, archive, [candles], "2024-11-08", "2024-11-19").success
    result = run(instance, archive, [candles, *feature_assets(RECIPE)], "2024-11-20", "2024-11-21")
    assert result.success
    return instance, archive, result


def test_every_partition_is_recorded_with_people_metadata(materialized):
    instance, archive, result = materialized
    keys = {f"2024-11-{d}|{s}" for d in (20, 21) for s in SYMBOLS}
    for asset in ("features", "regimes"):
        assert instance.get_materialized_partitions(dg.AssetKey(asset)) == keys
    record = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey("features"), asset_partitions=["2024-11-21|ETH-USDT"]), limit=1).records[0]
    meta = record.asset_materialization.metadata
    assert meta["recipe_hash"].value == RECIPE.version_hash and meta["rows"].value == 96
    assert meta["history_bars"].value >= RECIPE.history_bars
    assert (archive / f"features/{RECIPE.version_hash}/ETH-USDT/2024-11-21.parquet").is_file()
    regimes = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey("regimes"), asset_partitions=["2024-11-21|ETH-USDT"]), limit=1).records[0]
    shares = [v.value for k, v in regimes.asset_materialization.metadata.items() if k.startswith("share_")]
    assert len(shares) == 4 and sum(shares) == pytest.approx(1.0)
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["features_causal"] and checks["regimes_causal"]


def test_a_day_partition_equals_one_continuous_computation(materialized):
    _, archive, _ = materialized
    bundled = open_source("bundled")
    start, end = datetime(2024, 7, 1, tzinfo=UTC), datetime(2024, 11, 22, tzinfo=UTC)
    continuous = RECIPE.compute_many({s: bundled.fetch(s, "15m", start, end) for s in ("BTC/USDT", "ETH/USDT")})
    for symbol in SYMBOLS:
        stored = pl.concat([pl.read_parquet(archive / f"features/{RECIPE.version_hash}/{symbol}/2024-11-{d}.parquet") for d in (20, 21)])
        want = continuous[symbol].filter(pl.col("timestamp") >= datetime(2024, 11, 20, tzinfo=UTC))
        assert stored["timestamp"].to_list() == want["timestamp"].to_list()
        for column in RECIPE.output_columns:
            a, b = stored[column], want[column]
            if column in RECIPE.cumulative_features:  # levels depend on the start; changes must agree
                a, b = a.diff(), b.diff()
            assert (a.is_null() == b.is_null()).all(), column
            diff = ((a - b).abs() / (b.abs() + 1e-12)).drop_nulls()
            assert diff.is_empty() or diff.max() < 1e-9, (column, diff.max())


def test_too_little_history_gives_nulls_with_the_reason(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    result = run(instance, tmp_path, [candles, *feature_assets(RECIPE)], "2024-07-01", "2024-07-01")  # first day of the sample
    assert result.success
    record = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey("features"), asset_partitions=["2024-07-01|BTC-USDT"]), limit=1).records[0]
    reasons = record.asset_materialization.metadata["null_reasons"].value
    assert "0 bars of history" in reasons and "sma_200" in reasons
    frame = pl.read_parquet(tmp_path / f"features/{RECIPE.version_hash}/BTC-USDT/2024-07-01.parquet")
    assert frame["sma_200"].null_count() == 96  # 96 bars < 200: null, never a wrong number
    numeric = frame.select(pl.col(pl.Float64))
    assert not numeric.select(pl.any_horizontal(pl.all().is_nan()).any()).item()


def test_features_fail_clearly_when_their_own_candles_are_missing(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    result = run(instance, tmp_path, [candles, *feature_assets(RECIPE)], "2024-12-02", "2024-12-02", selection=["features"])
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "no candles for partitions ['2024-12-02|BTC-USDT', '2024-12-02|ETH-USDT']" in failure.step_failure_data.error.to_string()


def test_a_peeking_feature_fails_the_blocking_causality_check(tmp_path):
    peek = Feature("next_close", lambda: pl.col("close").shift(-1), 0, "test")
    cheat = FeatureRecipe(RECIPE.timeframe, RECIPE.reference_symbol, (*RECIPE.features, peek))
    instance = dg.DagsterInstance.ephemeral()
    assert run(instance, tmp_path, [candles], "2024-12-01", "2024-12-02").success
    result = run(instance, tmp_path, [candles, *feature_assets(cheat)], "2024-12-02", "2024-12-02", recipe=cheat, selection=["features", "regimes"])
    [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == "features_causal"]
    assert not check.passed and "next_close" in check.metadata["details"].value
    assert not result.success  # blocking: regimes did not run on peeking features
    assert not instance.get_materialized_partitions(dg.AssetKey("regimes"))
