"""features and regimes as Dagster assets: history through the partition mapping, the declared universe, day
boundaries, causality checked per partition."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from huracan_core.features.feature import Feature
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import history_days
from huracan_core.sources import open_source
from huracan_core.symbols import to_key
from huracan_dagster.defs.assets.candles import candle_assets
from huracan_dagster.defs.assets.features import feature_assets
from tests.assets.pipeline import (
    CANDLES,
    FEATURES,
    REGIMES,
    SYMBOLS,
    TF,
    evaluations,
    failure_text,
    latest_metadata,
    materialize,
    resources,
)

RECIPE = FeatureRecipe.default(TF)
ASSETS = [*candle_assets(TF), *feature_assets(RECIPE)]
REFERENCE = to_key(RECIPE.reference_symbol)


def run(
    instance, archive, start: str, end: str, *, assets=ASSETS, selection=None, symbols=SYMBOLS, **resource_args
) -> dg.ExecuteInProcessResult:
    return materialize(instance, archive, start, end, symbols, assets=assets, selection=selection, **resource_args)


def feature_file(archive, symbol: str, day: str, recipe: FeatureRecipe = RECIPE):
    return archive / f"features/{recipe.version_hash}/{symbol}/{day}.parquet"


@pytest.fixture(scope="module")
def materialized(tmp_path_factory):
    """Candles for the history days, then one ranged run of candles → features → regimes for two days.

    The universe is declared as exactly the two symbols materialized, the reference BTC-USDT among them.
    """
    archive = tmp_path_factory.mktemp("archive")
    instance = dg.DagsterInstance.ephemeral()
    assert REFERENCE in SYMBOLS
    first = (date(2024, 11, 20) - timedelta(days=history_days(RECIPE))).isoformat()  # the history the days read
    assert run(instance, archive, first, "2024-11-19", selection=[CANDLES]).success
    result = run(instance, archive, "2024-11-20", "2024-11-21")
    assert result.success, failure_text(result)
    return instance, archive, result


def test_every_partition_is_recorded_with_people_metadata(materialized):
    instance, archive, _ = materialized
    keys = {f"2024-11-{d}|{s}" for d in (20, 21) for s in SYMBOLS}
    for asset in (FEATURES, REGIMES):
        assert instance.get_materialized_partitions(asset) == keys
    for key in keys:
        day, symbol = key.split("|")
        meta = latest_metadata(instance, FEATURES, key)
        stored = pl.read_parquet(feature_file(archive, symbol, day))
        assert meta["recipe_hash"].value == RECIPE.version_hash and meta["rows"].value == stored.height
        assert stored["recipe_hash"].unique().to_list() == [RECIPE.version_hash]
        assert meta["history_bars"].value >= RECIPE.history_bars
        assert meta["features"].value == len(RECIPE.output_columns)
        assert sorted(meta["universe"].value.split(", ")) == sorted(SYMBOLS)  # the declared universe, nothing else
        assert stored["universe_hash"].unique().to_list() == [meta["universe_hash"].value]
        regimes = latest_metadata(instance, REGIMES, key)
        shares = [v.value for k, v in regimes.items() if k.startswith("share_")]
        assert len(shares) == 4 and sum(shares) == pytest.approx(1.0, abs=1e-3)
        assert (archive / f"regimes/{symbol}/{TF}/{day}.parquet").is_file()


def test_causality_is_judged_on_each_symbols_last_partition_of_the_run(materialized):
    _, _, result = materialized
    last = {f"2024-11-21|{s}" for s in SYMBOLS}
    for check, asset in (("features_causal", FEATURES), ("regimes_causal", REGIMES)):
        judged = evaluations(result, check)
        assert sorted(e.partition for e in judged) == sorted(last), check
        assert all(e.passed and e.blocking and e.asset_key == asset for e in judged), check
        assert all(e.metadata["found"].value.startswith("causal") for e in judged)


def test_a_day_partition_equals_one_continuous_computation(materialized):
    """Over the declared universe (BTC, ETH) each stored day equals that day of one continuous computation.

    Each partition is computed from its own window, so cumulative features (OBV, PVT) start their level at that
    window's start: their changes agree within a day, their levels (and the step between two days) do not.
    """
    _, archive, _ = materialized
    bundled = open_source("bundled")
    start, end = datetime(2024, 7, 1, tzinfo=UTC), datetime(2024, 11, 22, tzinfo=UTC)
    continuous = RECIPE.compute_many({s: bundled.fetch(s.replace("-", "/"), TF, start, end) for s in SYMBOLS})
    for symbol in SYMBOLS:
        for d in (20, 21):
            stored = pl.read_parquet(feature_file(archive, symbol, f"2024-11-{d}"))
            want = continuous[symbol].filter(pl.col("timestamp").dt.date() == date(2024, 11, d))
            assert stored.height > 0 and stored["timestamp"].to_list() == want["timestamp"].to_list()
            for column in RECIPE.output_columns:
                a, b = stored[column], want[column]
                if column in RECIPE.cumulative_features:  # levels depend on the start; changes must agree
                    a, b = a.diff(), b.diff()
                assert (a.is_null() == b.is_null()).all(), (symbol, d, column)
                diff = ((a - b).abs() / (b.abs() + 1e-12)).drop_nulls()
                assert diff.is_empty() or diff.max() < 1e-9, (symbol, d, column, diff.max())


def test_too_little_history_gives_nulls_with_the_reason(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    result = run(instance, tmp_path, "2024-07-01", "2024-07-01")  # the first day of the sample: no earlier candles
    assert result.success, failure_text(result)
    reasons = latest_metadata(instance, FEATURES, "2024-07-01|BTC-USDT")["null_reasons"].value
    assert "0 bars of history" in reasons and "sma_200" in reasons
    frame = pl.read_parquet(feature_file(tmp_path, "BTC-USDT", "2024-07-01"))
    assert (
        frame.height < 200 and frame["sma_200"].null_count() == frame.height
    )  # too few bars: null, never a wrong number
    numeric = frame.select(pl.col(pl.Float64))
    assert not numeric.select(pl.any_horizontal(pl.all().is_nan()).any()).item()


def test_features_fail_clearly_when_their_own_candles_are_missing(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    result = run(instance, tmp_path, "2024-12-02", "2024-12-02", selection=[FEATURES])
    assert not result.success
    message = failure_text(result)
    assert "no candles for partitions" in message
    assert all(f"2024-12-02|{s}" in message for s in SYMBOLS)
    assert not instance.get_materialized_partitions(FEATURES)


def test_features_name_each_declared_member_whose_candles_are_missing(tmp_path):
    """The universe ranked by prior quote volume declares members the archive lacks: the run fails naming them."""
    instance = dg.DagsterInstance.ephemeral()
    day = "2024-12-02"
    ranked = resources(tmp_path, universe=None)["universe"]
    declared = {to_key(m) for m in ranked.members_by_day(TF, [date.fromisoformat(day)])[date.fromisoformat(day)]}
    absent = declared - set(SYMBOLS)
    if not absent:
        pytest.skip(f"the ranked universe of {day} is {sorted(declared)}: no member outside {SYMBOLS} to leave out")
    assert run(instance, tmp_path, "2024-12-01", day, selection=[CANDLES]).success
    result = run(instance, tmp_path, day, day, selection=[FEATURES], universe=None)
    assert not result.success
    message = failure_text(result)
    assert "MissingPartitionError" in message and "declared inputs without candles" in message
    assert all(member in message for member in absent), (sorted(absent), message)
    assert not instance.get_materialized_partitions(FEATURES)


def test_features_read_nothing_but_their_declared_inputs(tmp_path):
    """Candles of a symbol outside the declared universe change no byte of the features."""
    day, outsider = "2024-12-02", "SOL-USDT"
    assert outsider not in SYMBOLS
    objects = {}
    for name, extra in (("fresh", []), ("busy", [outsider])):
        archive, instance = tmp_path / name, dg.DagsterInstance.ephemeral()
        symbols = [*SYMBOLS, *extra]
        assert run(instance, archive, "2024-11-29", day, symbols=symbols, selection=[CANDLES]).success
        result = run(instance, archive, day, day, selection=[FEATURES])
        assert result.success, failure_text(result)
        objects[name] = {
            p.relative_to(archive).as_posix(): p.read_bytes() for p in (archive / "features").rglob("*.parquet")
        }
    assert sorted(objects["fresh"]) == sorted(f"features/{RECIPE.version_hash}/{s}/{day}.parquet" for s in SYMBOLS)
    assert objects["busy"] == objects["fresh"]


def test_a_peeking_feature_fails_the_blocking_causality_check(tmp_path):
    peek = Feature("next_close", lambda: pl.col("close").shift(-1), 0, "test")
    cheat = FeatureRecipe(RECIPE.timeframe, RECIPE.reference_symbol, (*RECIPE.features, peek))
    instance = dg.DagsterInstance.ephemeral()
    assert run(instance, tmp_path, "2024-12-01", "2024-12-02", selection=[CANDLES]).success
    result = run(
        instance,
        tmp_path,
        "2024-12-02",
        "2024-12-02",
        assets=[*candle_assets(TF), *feature_assets(cheat)],
        selection=[FEATURES, REGIMES],
    )
    judged = evaluations(result, "features_causal")
    assert sorted(e.partition for e in judged) == sorted(f"2024-12-02|{s}" for s in SYMBOLS)
    for check in judged:
        assert not check.passed and check.blocking
        assert "NOT causal" in check.metadata["found"].value and "next_close" in check.metadata["found"].value
    assert not result.success  # blocking: regimes did not run on peeking features
    assert not instance.get_materialized_partitions(REGIMES)
    assert not evaluations(result, "regimes_causal")
