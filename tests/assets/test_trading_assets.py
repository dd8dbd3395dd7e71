"""shadow_trades and trade_analysis: ranged materializations from candles to post-exit outcomes on the bundled sample."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from huracan_core.features.recipe import FeatureRecipe
from huracan_dagster.assets.candles import candles
from huracan_dagster.assets.features import feature_assets
from huracan_dagster.assets.trading import TradingConfig, trading_assets
from huracan_dagster.io_manager import PartitionedFrameIOManager
from huracan_dagster.partitions import SYMBOL_DIMENSION
from huracan_dagster.resources import ArchiveResource, CandleSourceResource

RECIPE = FeatureRecipe.default("15m")
ASSETS = [candles, *feature_assets(RECIPE), *trading_assets("15m")]
SYMBOLS = ["BTC-USDT", "ETH-USDT"]
DAYS = ["2024-11-28", "2024-11-29", "2024-11-30", "2024-12-01"]  # BTC exits late on 12-01: post-exit needs 12-02
CHEAP = TradingConfig(taker_fee_bps=0.0, maker_fee_bps=0.0)  # default 10 bps/side fees leave no trade on the sample


def _resources(archive: Path) -> dict:
    store = ArchiveResource(root=str(archive))
    return {"source": CandleSourceResource(spec="bundled"), "archive": store,
            "frames_io": PartitionedFrameIOManager(archive=store, timeframe="15m", recipe_hash=RECIPE.version_hash)}


def _materialize(instance, archive, selection, start, end, config=CHEAP) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions(SYMBOL_DIMENSION, [s for s in SYMBOLS if s not in instance.get_dynamic_partitions(SYMBOL_DIMENSION)])
    run_config = dg.RunConfig(ops={"shadow_trades": config}) if "shadow_trades" in selection else None
    return dg.materialize(
        ASSETS, selection=selection, instance=instance, resources=_resources(archive), run_config=run_config,
        tags={"dagster/asset_partition_range_start": f"{start}|{SYMBOLS[0]}", "dagster/asset_partition_range_end": f"{end}|{SYMBOLS[-1]}"},
    )


def _meta(instance, asset: str, partition: str) -> dict:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1).records
    return records[0].asset_materialization.metadata


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    archive = tmp_path_factory.mktemp("archive")
    instance = dg.DagsterInstance.ephemeral()
    # candle history first: the recipe's features need ~11 earlier days of candles to be defined
    assert _materialize(instance, archive, ["candles"], "2024-11-16", "2024-11-27").success
    everything = ["candles", "features", "regimes", "shadow_trades", "trade_analysis"]
    assert _materialize(instance, archive, everything, DAYS[0], DAYS[-1]).success
    return instance, archive


def test_every_partition_is_materialized_and_recorded(pipeline):
    instance, archive = pipeline
    expected = {f"{d}|{s}" for d in DAYS for s in SYMBOLS}
    for asset in ("shadow_trades", "trade_analysis"):
        assert instance.get_materialized_partitions(dg.AssetKey(asset)) == expected
    for d in DAYS:
        for s in SYMBOLS:
            assert (archive / f"shadow_trades/{s}/{d}.parquet").is_file()
            assert (archive / f"trade_analysis/{s}/{d}.parquet").is_file()


def test_ledgers_hold_only_their_day_flat_at_day_end_and_net_below_gross(pipeline):
    _, archive = pipeline
    total = 0
    for d in DAYS:
        for s in SYMBOLS:
            ledger = pl.read_parquet(archive / f"shadow_trades/{s}/{d}.parquet")
            total += ledger.height
            assert ledger["entry_time"].dt.date().cast(pl.String).eq(d).all()
            assert ledger["exit_time"].dt.date().cast(pl.String).eq(d).all()
            assert (ledger["net_bps"] < ledger["gross_bps"]).all()
            assert set(ledger["symbol"]) <= {s}
    assert total > 0, "the zero-fee configuration should trade on the sample"


def test_costs_json_per_symbol_and_day(pipeline):
    _, archive = pipeline
    for d in DAYS:
        for s in SYMBOLS:
            payload = json.loads((archive / f"costs/{s}/{d}.json").read_text())
            assert {"fee_bps", "spread_bps", "avg_slip_bps"} <= set(payload) and payload["symbol"] == s and payload["date"] == d
            assert payload["fee_bps"] == 0.0 and payload["spread_bps"] > 0 and payload["avg_slip_bps"] > 0


def test_metadata_carries_plot_metrics_and_recipe_hash(pipeline):
    instance, archive = pipeline
    for d in DAYS:
        meta = _meta(instance, "shadow_trades", f"{d}|BTC-USDT")
        ledger = pl.read_parquet(archive / f"shadow_trades/BTC-USDT/{d}.parquet")
        assert meta["trades"].value == ledger.height
        assert meta["equity_curve"].value.startswith("![equity](data:image/png;base64,")
        assert "| hit_rate |" in meta["metrics"].value and "| expectancy_bps |" in meta["metrics"].value
        assert meta["recipe_hash"].value == RECIPE.version_hash
        assert {"hit_rate", "mean_net_bps", "mean_gross_bps", "cost_share_of_gross", "paid_fee_bps"} <= set(meta)
        analysis = _meta(instance, "trade_analysis", f"{d}|BTC-USDT")
        assert {"winners_vs_losers", "regimes", "patterns", "failure_reasons", "post_exit"} <= set(analysis)


def test_post_exit_waits_for_next_day_candles_then_fills(pipeline, tmp_path):
    instance, archive = pipeline
    last = DAYS[-1]
    waiting = {s: _meta(instance, "trade_analysis", f"{last}|{s}")["post_exit"].value for s in SYMBOLS}
    late = {s for s in SYMBOLS if waiting[s] != "complete"}
    assert late, f"a late exit on {last} is needed to see the wait: {waiting}"
    for s in late:
        assert waiting[s].startswith("waiting for 2024-12-02 candles")
        assert pl.read_parquet(archive / f"trade_analysis/{s}/{last}.parquet")["after_120m_bps"].null_count() > 0
    # earlier days read their next day's candles: nothing pending
    assert all(_meta(instance, "trade_analysis", f"{d}|{s}")["post_exit"].value == "complete" for d in DAYS[:-1] for s in SYMBOLS)

    assert _materialize(instance, archive, ["candles"], "2024-12-02", "2024-12-02").success
    assert _materialize(instance, archive, ["trade_analysis"], last, last).success
    for s in SYMBOLS:
        assert _meta(instance, "trade_analysis", f"{last}|{s}")["post_exit"].value == "complete"
        filled = pl.read_parquet(archive / f"trade_analysis/{s}/{last}.parquet")
        assert filled.select(pl.col("^after_.*_bps$").null_count()).sum_horizontal().item() == 0


def test_rematerializing_writes_the_same_bytes(pipeline):
    instance, archive = pipeline
    objects = lambda: {p.relative_to(archive).as_posix(): p.read_bytes() for prefix in ("shadow_trades", "costs") for p in (archive / prefix).rglob("*.*")}  # noqa: E731
    first = objects()
    assert _materialize(instance, archive, ["shadow_trades"], DAYS[0], DAYS[-1]).success
    assert objects() == first


def test_default_fees_are_a_finding_not_an_error(tmp_path):
    """10 bps per side makes the round trip dearer than the largest expected edge: no trade, still recorded."""
    instance = dg.DagsterInstance.ephemeral()
    assert _materialize(instance, tmp_path, ["candles", "features", "regimes", "shadow_trades"], DAYS[1], DAYS[1], TradingConfig()).success
    for s in SYMBOLS:
        assert _meta(instance, "shadow_trades", f"{DAYS[1]}|{s}")["trades"].value == 0
        assert json.loads((tmp_path / f"costs/{s}/{DAYS[1]}.json").read_text())["fee_bps"] == 10.0
