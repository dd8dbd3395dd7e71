"""Recipe behaviour on real candles and on built edge cases: names, hash, warm-up, nulls, halts, history."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
import polars as pl
import pytest

from huracan_core.features import FeatureRecipe, returns
from huracan_core.features.multi_timeframe import HIGHER_TIMEFRAMES
from huracan_core.trading.engines import DEFAULT_ENGINES
from tests.conftest import SHARED_CANDLES, real_15m, requires_shared_candles

#: every feature an engine reads, as the engines declare it
ENGINE_COLUMNS = sorted({column for engine in DEFAULT_ENGINES for column in engine.requires})
RECIPE = FeatureRecipe.default("15m")


@pytest.fixture(scope="module")
def btc() -> pl.DataFrame:
    return real_15m("BTC-USDT")


@pytest.fixture(scope="module")
def btc_features(btc: pl.DataFrame) -> pl.DataFrame:
    return RECIPE.compute(btc, symbol="BTC/USDT")


def _assert_all_finite(frame: pl.DataFrame) -> None:
    floats = [c for c, t in frame.schema.items() if t == pl.Float64]
    bad = frame.select(pl.col(floats).is_nan().any() | pl.col(floats).is_infinite().any()).row(0, named=True)
    assert not any(bad.values()), {k: v for k, v in bad.items() if v}


def test_names_and_hash() -> None:
    assert len(RECIPE.output_columns) >= 50
    assert ENGINE_COLUMNS and set(ENGINE_COLUMNS) <= set(RECIPE.output_columns) | {
        "open",
        "high",
        "low",
        "close",
        "volume",
    }
    assert len(set(RECIPE.output_columns)) == len(RECIPE.output_columns)
    assert all(f.build.__doc__ for f in RECIPE.features)
    h = RECIPE.version_hash
    assert re.fullmatch("[0-9a-f]{12}", h), h
    assert FeatureRecipe.default("15m").version_hash == h
    assert FeatureRecipe.default("1h").version_hash != h
    rsi = next(f for f in RECIPE.features if f.name == "_avg_gain")
    changed = dataclasses.replace(rsi, params={"source": "_gain", "n": 15})
    other = dataclasses.replace(RECIPE, features=tuple(changed if f is rsi else f for f in RECIPE.features))
    assert other.version_hash != h


def _copy_of(module: ModuleType, folder: Path, edit: Callable[[str], str] = lambda text: text) -> ModuleType:
    """``module`` loaded again, under its own name, from a file in ``folder`` holding its source passed through
    ``edit``: its functions keep their module, qualname and parameters, only their text can differ."""
    folder.mkdir()
    path = folder / f"{module.__name__.rpartition('.')[2]}.py"
    path.write_text(edit(inspect.getsource(module)))
    spec = importlib.util.spec_from_file_location(module.__name__, path)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy


def _replacing(recipe: FeatureRecipe, old: Callable, new: Callable) -> FeatureRecipe:
    features = tuple(dataclasses.replace(f, build=new) if f.build is old else f for f in recipe.features)
    return dataclasses.replace(recipe, features=features)


def test_hash_covers_the_expression_text(tmp_path: Path) -> None:
    """Editing a builder's body changes the hash; the same text loaded from another path does not."""
    body = "return CLOSE / CLOSE.shift(n) - 1.0"
    same = _copy_of(returns, tmp_path / "same")
    edited = _copy_of(returns, tmp_path / "edited", lambda text: text.replace(body, "return CLOSE.pct_change(n)"))
    original = returns.pct_return
    assert inspect.getsource(edited.pct_return) != inspect.getsource(original)
    for copy in (same.pct_return, edited.pct_return):
        assert (copy.__module__, copy.__qualname__) == (original.__module__, original.__qualname__)
        assert inspect.signature(copy) == inspect.signature(original)
    assert _replacing(RECIPE, original, same.pct_return).version_hash == RECIPE.version_hash
    assert _replacing(RECIPE, original, edited.pct_return).version_hash != RECIPE.version_hash


def test_output_frame_shape(btc_features: pl.DataFrame) -> None:
    assert btc_features.columns == ["timestamp", *RECIPE.output_columns, "recipe_hash"]
    assert btc_features["recipe_hash"].unique().to_list() == [RECIPE.version_hash]


def test_declared_lookback_is_where_values_start(btc_features: pl.DataFrame) -> None:
    """Each feature's first value is at its declared lookback, and nothing is null after it on clean data."""
    for f in RECIPE.features:
        if not f.is_output or f.family == "cross_asset":
            continue
        col = btc_features[f.name]
        assert col.head(f.lookback).null_count() == f.lookback, f.name
        assert col.slice(f.lookback).null_count() == 0, f.name
    assert RECIPE.warmup_bars == max(f.lookback for f in RECIPE.features) + 1


def test_short_history_is_null_with_reason(btc: pl.DataFrame) -> None:
    out = RECIPE.compute(btc.head(20))
    assert out["sma_200"].null_count() == 20 and out["adx"].null_count() == 20
    reasons = RECIPE.null_reasons(out)
    assert reasons["sma_200"] == "history of 20 bars < 200 bars this feature needs"
    assert reasons["corr_btc"] == "no reference series given"
    assert reasons["rs_rank"] == "no universe of other symbols given"
    assert "ret_1" in reasons and reasons["ret_1"].startswith("first 1 bars are warm-up")
    assert out["ema_20"][19] is not None


def test_cross_asset_reasons_and_values(btc: pl.DataFrame) -> None:
    eth = real_15m("ETH-USDT").head(3000)
    ref = btc.head(3000)
    universe = {"BTC/USDT": ref, "ETH/USDT": eth, "SOL/USDT": real_15m("SOL-USDT").head(3000)}
    out = RECIPE.compute(eth, symbol="ETH/USDT", reference=ref, universe=universe)
    tail = out.slice(200)
    assert tail["corr_btc"].null_count() == 0 and tail["corr_btc"].is_between(-1, 1).all()
    assert tail["corr_btc"].mean() > 0.5  # ETH and BTC move together on 15m
    assert set(tail["rs_rank"].unique().to_list()) <= {0.0, 0.5, 1.0}
    assert set(tail["leader_flag"].unique().to_list()) <= {-1.0, 0.0, 1.0}
    as_ref = RECIPE.compute(ref, symbol="BTC-USDT", reference=ref, universe=universe)
    assert as_ref["corr_btc"].null_count() == as_ref.height
    assert RECIPE.null_reasons(as_ref, symbol="BTC-USDT", reference=ref)["beta_btc"] == "symbol is the reference"


def test_compute_many_equals_compute(btc: pl.DataFrame) -> None:
    frames = {s: real_15m(s).head(2000) for s in ("BTC-USDT", "ETH-USDT", "XRP-USDT")}
    many = RECIPE.compute_many(frames)
    single = RECIPE.compute(frames["ETH-USDT"], symbol="ETH-USDT", reference=frames["BTC-USDT"], universe=frames)
    assert many["ETH-USDT"].equals(single)
    assert many["BTC-USDT"]["corr_btc"].null_count() == 2000


@requires_shared_candles
def test_halt_gives_no_nan_or_inf() -> None:
    """2023-03-24 (shared set only): flat zero-volume candles 11:30-12:30, then five missing candles."""
    btc = pl.read_parquet(SHARED_CANDLES / "BTC-USDT_15m.parquet")
    window = btc.filter(
        pl.col("timestamp").is_between(datetime(2023, 3, 10, tzinfo=UTC), datetime(2023, 3, 26, tzinfo=UTC))
    )
    halt = window.filter(
        pl.col("timestamp").is_between(
            datetime(2023, 3, 24, 11, 30, tzinfo=UTC), datetime(2023, 3, 24, 12, 30, tzinfo=UTC)
        )
    )
    assert (halt["volume"] == 0).all() and (halt["high"] == halt["low"]).all()
    out = RECIPE.compute(window)
    _assert_all_finite(out)
    at_halt = out.filter(pl.col("timestamp") == datetime(2023, 3, 24, 12, 30, tzinfo=UTC))
    for name in ("volume_ratio", "cmf", "spread_bps", "bb_position", "rsi_14", "adx", "ignition", "volume_zscore"):
        assert at_halt[name][0] is not None, name


def test_flat_frame_is_well_defined() -> None:
    n = 700
    ts = pl.datetime_range(
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * (n - 1)),
        "15m",
        eager=True,
    )
    flat = pl.DataFrame({"timestamp": ts, "open": 100.0, "high": 100.0, "low": 100.0, "close": 100.0, "volume": 0.0})
    flat = flat.with_columns(pl.col("timestamp").dt.cast_time_unit("ms"))
    out = RECIPE.compute(flat)
    _assert_all_finite(out)
    last = out.row(-1, named=True)
    expected = {"rsi_14": 50.0, "bb_position": 0.5, "price_position": 0.5, "stoch_k": 50.0, "adx": 0.0, "plus_di": 0.0,
                "volume_ratio": 1.0, "volume_zscore": 0.0, "cmf": 0.0, "atr_14": 0.0, "trend_strength": 0.0,
                "volatility_ratio": 1.0, "spread_bps": 0.0, "ret_20": 0.0, "obv": 0.0}  # fmt: skip
    for name, value in expected.items():
        assert last[name] == value, name
    # The distribution of all-zero returns has no shape: null, and said so.
    assert last["kurtosis"] is None and "later bars undefined" in RECIPE.null_reasons(out)["kurtosis"]


@requires_shared_candles
def test_htf_flags_use_only_closed_hours(btc: pl.DataFrame) -> None:
    """trend_1h at a 15m bar equals the flag of the last 1h candle closed by that bar's close (real 1h file,
    shared set only)."""
    n = HIGHER_TIMEFRAMES["1h"]
    hourly = pl.read_parquet(SHARED_CANDLES / "BTC-USDT_1h.parquet").filter(pl.col("timestamp") >= btc["timestamp"][0])
    hourly = hourly.select(
        (pl.col("timestamp") + pl.duration(hours=1)).alias("closed_at"),
        (pl.col("close") - pl.col("close").rolling_mean(n)).sign().cast(pl.Float64).alias("expected"),
    )
    out = RECIPE.compute(btc.head(5000)).select("timestamp", "trend_1h")
    out = out.with_columns((pl.col("timestamp") + pl.duration(minutes=15)).dt.truncate("1h").alias("closed_at"))
    joined = out.join(hourly, on="closed_at").drop_nulls()
    assert joined.height > 4000
    assert (joined["trend_1h"] == joined["expected"]).all()


def test_history_bars_reproduce_continuous_run(btc: pl.DataFrame) -> None:
    """A day computed from only ``history_bars`` of trailing history equals the continuous computation."""
    day = datetime(2024, 9, 15, tzinfo=UTC)
    full = RECIPE.compute(btc.filter(pl.col("timestamp") < day + timedelta(days=1)))
    start = btc.filter(pl.col("timestamp") < day).height - RECIPE.history_bars
    part = RECIPE.compute(btc.slice(start).filter(pl.col("timestamp") < day + timedelta(days=1)))
    full_day, part_day = (f.filter(pl.col("timestamp") >= day) for f in (full, part))
    assert full_day.height == part_day.height == 96
    for name in RECIPE.output_columns:
        if name in RECIPE.cumulative_features or name.endswith("_btc") or name in ("rs_rank", "leader_flag"):
            continue
        want, got = full_day[name].to_numpy().astype(float), part_day[name].to_numpy().astype(float)
        scale = max(np.nanmedian(np.abs(want)), 1e-12)
        assert np.array_equal(np.isnan(want), np.isnan(got)), name
        assert np.nanmax(np.abs(want - got) / np.maximum(np.abs(want), scale)) <= 1e-9, name
    # Cumulative lines differ by a constant level, so their changes agree.
    for name in RECIPE.cumulative_features:
        np.testing.assert_allclose(
            np.diff(part_day[name].to_numpy()), np.diff(full_day[name].to_numpy()), rtol=1e-9, atol=1e-6
        )


def test_a_feature_in_price_or_volume_units_never_reaches_the_model_inputs(btc_15m) -> None:
    """The units a feature declares decide the model inputs; a feature whose values follow the coin's price or volume
    level but say they are scale-free is caught here, on real candles of a 60,000 USDT coin and a 0.5 USDT one."""
    from huracan_core.models.inputs import feature_inputs
    from tests.conftest import real_15m

    recipe = FeatureRecipe.default("15m")
    inputs = feature_inputs(list(recipe.output_columns), "15m")
    levels = [f.name for f in recipe.features if f.is_output and f.is_level]
    assert levels and not set(levels) & set(inputs) and set(inputs) == set(recipe.scale_free_columns)
    window = pl.col("timestamp").dt.month() >= 11
    btc, xrp = (
        recipe.compute(frame.filter(window), reference=btc_15m.filter(window))
        for frame in (btc_15m, real_15m("XRP-USDT"))
    )
    for name in inputs:  # a scale-free feature has the same order of magnitude on both (prices differ ~100,000 times)
        a, b = (frame[name].cast(pl.Float64).abs().median() for frame in (btc, xrp))
        if a and b:
            assert 1e-2 < a / b < 1e2, (
                f"{name} follows the price or volume level ({a:.3g} vs {b:.3g}): declare its units"
            )
    for name in levels:
        a, b = (frame[name].cast(pl.Float64).abs().median() for frame in (btc, xrp))
        assert not 1e-2 < a / b < 1e2, (
            f"{name} is declared {next(f.units for f in recipe.features if f.name == name)} but is scale-free"
        )
