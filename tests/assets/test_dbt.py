"""dbt over the exports, run through its Dagster assets: the marts add up to the trade history, its tests are asset
checks that pass on good exports and fail on bad ones, a fresh home builds, and the models sit downstream of the
export assets.

Each ``dbt build`` costs several seconds, so one build serves every assertion about good exports.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from huracan_dagster.defs.assets.dbt import (
    DBT_DIR,
    HuracanDbtResource,
    dbt_assets_for,
    ensure_manifest,
    manifest_is_stale,
    mart_dir,
)
from huracan_dagster.defs.resources import ArchiveResource
from tests.assets.dbt_fixtures import DAYS, SYMBOLS, TIMEFRAME, daily_summary, trade_history, write_exports, write_table

MARTS = ("coin_daily_performance", "regime_engine_performance", "cost_share", "champion_history", "pattern_decay")
STAGING = (
    "stg_trade_history",
    "stg_daily_summary",
    "stg_champions",
    "stg_promotions",
    "stg_regime_analysis",
    "stg_pattern_performance",
    "stg_model_performance",
    "stg_signals",
)
EXPORTS = dg.AssetKey([TIMEFRAME, "exports"])
EXPORTS_DAILY = dg.AssetKey([TIMEFRAME, "exports_daily"])


def dbt_key(model: str, timeframe: str = TIMEFRAME) -> dg.AssetKey:
    return dg.AssetKey([timeframe, "dbt", model])


@pytest.fixture(scope="module")
def dbt_15m() -> dg.AssetsDefinition:
    return dbt_assets_for(TIMEFRAME)


def build(assets: dg.AssetsDefinition, home: Path) -> dg.ExecuteInProcessResult:
    dbt = HuracanDbtResource.for_home(home, home / "archive")
    return dg.materialize(
        [assets], resources={"dbt": dbt, "archive": ArchiveResource(root=str(home / "archive"))}, raise_on_error=False
    )


def mart(home: Path, name: str) -> pl.DataFrame:
    with duckdb.connect() as con:
        return con.execute(f"select * from read_parquet('{mart_dir(home, TIMEFRAME) / name}.parquet')").pl()


def checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], bool]:
    return {(e.asset_key.path[-1], e.check_name): e.passed for e in result.get_asset_check_evaluations()}


@pytest.fixture(scope="module")
def built(dbt_15m: dg.AssetsDefinition, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("dbt") / "home"
    trades = write_exports(home / "archive")
    return home, trades, build(dbt_15m, home)


def test_build_succeeds_and_every_dbt_test_is_a_passing_check(built, dbt_15m) -> None:
    home, _, result = built
    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {dbt_key(m) for m in (*MARTS, *STAGING)}
    manifest = json.loads(ensure_manifest().read_text())
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    evaluated = checks(result)
    assert len(evaluated) == len(tests) == len(dbt_15m.check_specs) > 50
    assert all(evaluated.values()), [k for k, ok in evaluated.items() if not ok]
    # the kinds of test the issue asks for, each on its model
    for model, check in [
        ("coin_daily_performance", "unique_combination_of_columns_coin_daily_performance_timeframe__day__symbol"),
        ("coin_daily_performance", "relationships_coin_daily_performance_symbol__symbol__ref_stg_daily_summary_"),
        ("stg_trade_history", "accepted_values_stg_trade_history_policy__model__rules"),
        ("stg_trade_history", "not_null_stg_trade_history_trade_id"),
    ]:
        assert evaluated[(model, check)] is True
    # every mart is a parquet file, and says where with how many rows
    for name in MARTS:
        assert (mart_dir(home, TIMEFRAME) / f"{name}.parquet").is_file()
    event = next(
        e for e in result.get_asset_materialization_events() if e.asset_key == dbt_key("coin_daily_performance")
    )
    assert event.materialization.metadata["rows"].value == len(DAYS) * len(SYMBOLS)
    assert (home / "exports" / f"dbt_{TIMEFRAME}.duckdb").is_file()


def test_coin_daily_performance_adds_up_the_trade_history(built) -> None:
    home, trades, _ = built
    daily = mart(home, "coin_daily_performance").sort("day", "symbol")
    # the grain is complete: every day × coin of the daily summary, days without trades included
    assert daily.height == len(DAYS) * len(SYMBOLS)
    assert set(zip(daily["day"], daily["symbol"], strict=True)) == {(d, s) for d in DAYS for s in SYMBOLS}
    costs = pl.sum_horizontal("fees_paid", "spread_paid", "slippage_paid", "funding_paid")
    expected = trades.group_by("day", "symbol").agg(
        trades=pl.len(),
        wins=(pl.col("net_pnl") > 0).sum(),
        net_bps_total=pl.col("net_bps").sum(),
        net_pnl=pl.col("net_pnl").sum(),
        gross_pnl=(pl.col("gross_bps") * pl.col("size") / 1e4).sum(),
        costs_paid=costs.sum(),
    )
    joined = daily.join(expected, on=["day", "symbol"], how="left", suffix="_expected")
    for row in joined.iter_rows(named=True):
        n = row["trades_expected"] or 0
        assert row["trades"] == n and row["wins"] == (row["wins_expected"] or 0)
        for column in ("net_bps_total", "net_pnl", "gross_pnl", "costs_paid"):
            assert row[column] == pytest.approx(row[f"{column}_expected"] or 0.0, abs=1e-9), (
                row["day"],
                row["symbol"],
                column,
            )
        assert row["gross_pnl"] - row["costs_paid"] == pytest.approx(row["net_pnl"], abs=1e-9)
        assert (row["hit_rate"] is None) == (n == 0)
    # and the daily summary's own figures agree with it (the same ledger)
    summary = pl.concat([daily_summary(trades, d).with_columns(day=pl.lit(d)) for d in DAYS]).filter(
        pl.col("symbol") != "ALL"
    )
    both = daily.join(summary, on=["day", "symbol"], suffix="_summary")
    assert (both["trades"] == both["trades_summary"]).all()
    assert ((both["net_pnl"] - both["net_pnl_summary"]).abs() < 1e-5).all()


def test_cost_share_is_null_where_there_is_no_gross_profit(built) -> None:
    home, _, _ = built
    share = mart(home, "cost_share")
    assert share.height == len(DAYS) * len(SYMBOLS)
    for row in share.iter_rows(named=True):
        if row["gross_pnl"] <= 0:  # a gross loss, or no trades
            assert row["cost_share_of_gross"] is None, row
        else:
            assert row["cost_share_of_gross"] == pytest.approx(row["costs_paid"] / row["gross_pnl"])
    by_key = {(r["day"], r["symbol"]): r for r in share.iter_rows(named=True)}
    assert by_key[(DAYS[0], "ETH-USDT")]["cost_share_of_gross"] is None  # gross -1.0 USDT
    assert by_key[(DAYS[2], "BTC-USDT")]["cost_share_of_gross"] == pytest.approx(1.1 / 0.5)  # costs above the gross


def test_regime_engine_champion_and_pattern_marts(built) -> None:
    home, trades, _ = built
    regimes = mart(home, "regime_engine_performance")
    assert regimes["trades"].sum() == trades.height
    trend_rules = regimes.filter((pl.col("regime") == "TREND") & (pl.col("policy") == "rules")).row(0, named=True)
    assert trend_rules["engines_agreeing"] == 2 and trend_rules["trades"] == 2  # 'trend,leader' counts two engines
    assert trend_rules["mean_net_bps"] == pytest.approx((39.0 - 31.0) / 2)

    champions = mart(home, "champion_history").sort("symbol", "day")
    btc = champions.filter(pl.col("symbol") == "BTC-USDT")
    assert btc["changed"].to_list() == [False, True, False]
    assert btc["days_in_force"].to_list() == [1, 1, 2]
    assert btc["decision_source"].to_list() == [None, "engine", "engine"]  # joined to the promotions export
    assert not champions.filter(pl.col("symbol") == "ETH-USDT")["changed"].any()

    decay = mart(home, "pattern_decay")
    later = decay.filter((pl.col("pattern_key") == "TREND|long|2") & (pl.col("week_start") == DAYS[2])).row(
        0, named=True
    )
    assert later["trailing_weeks"] == 1 and later["trailing_mean_net_bps"] == pytest.approx(39.0)
    assert later["decay_bps"] == pytest.approx(-6.0 - 39.0)


def test_bad_exports_fail_their_dbt_tests_as_asset_checks(dbt_15m, tmp_path: Path) -> None:
    home = tmp_path / "home"
    trades = write_exports(home / "archive")
    bogus = (
        trade_history()
        .filter(pl.col("day") == DAYS[0])
        .head(1)
        .with_columns(policy=pl.lit("bogus"), trade_id=pl.lit("BTC-USDT-bogus"))
    )
    write_table(home / "archive", "trade_history", bogus.drop("day", "symbol"), DAYS[1], "BTC-USDT")
    twice = daily_summary(trades, DAYS[1])
    write_table(home / "archive", "daily_summary", pl.concat([twice, twice.head(1)]), DAYS[1])

    result = build(dbt_15m, home)
    assert not result.success  # a failed dbt test stops the build: its downstream models are not built
    evaluated = checks(result)
    assert evaluated[("stg_trade_history", "accepted_values_stg_trade_history_policy__model__rules")] is False
    assert (
        evaluated[("stg_daily_summary", "unique_combination_of_columns_stg_daily_summary_timeframe__day__symbol")]
        is False
    )
    assert evaluated[("stg_trade_history", "not_null_stg_trade_history_trade_id")] is True
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert {e.asset_key for e in failed} == {dbt_key("stg_trade_history"), dbt_key("stg_daily_summary")}
    assert all(e.severity == dg.AssetCheckSeverity.ERROR for e in failed)


def test_a_fresh_home_without_exports_builds_empty_marts(dbt_15m, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "archive").mkdir(parents=True)
    result = build(dbt_15m, home)
    assert result.success
    assert all(checks(result).values())
    for name in MARTS:
        assert mart(home, name).height == 0, name  # written with its columns and no rows
    assert "cost_share_of_gross" in mart(home, "cost_share").columns


def test_dbt_models_sit_downstream_of_the_export_assets(dbt_15m, tmp_path: Path) -> None:
    deps = {key.path[-1]: set(up) for key, up in dbt_15m.asset_deps.items()}
    assert set(deps) == {*MARTS, *STAGING}
    for model in STAGING:
        assert deps[model] == ({EXPORTS_DAILY} if model in ("stg_daily_summary", "stg_promotions") else {EXPORTS}), (
            model
        )
    assert deps["coin_daily_performance"] == {dbt_key("stg_daily_summary"), dbt_key("stg_trade_history")}
    assert deps["cost_share"] == {dbt_key("coin_daily_performance")}

    # with stand-ins for the export assets, the whole graph hangs below them; a second timeframe has its own keys
    exports = [dg.AssetSpec(EXPORTS), dg.AssetSpec(EXPORTS_DAILY)]
    dbt = HuracanDbtResource.for_home(tmp_path, tmp_path / "archive")
    defs = dg.Definitions(
        assets=[*exports, dbt_15m, dbt_assets_for("1h")],
        resources={"dbt": dbt, "archive": ArchiveResource(root=str(tmp_path / "archive"))},
    )
    graph = defs.resolve_asset_graph()
    below = dg.AssetSelection.assets(EXPORTS, EXPORTS_DAILY).downstream().resolve(graph)
    assert {dbt_key(m) for m in (*MARTS, *STAGING)} <= below
    assert not {dbt_key(m, "1h") for m in MARTS} & below
    assert graph.get(dbt_key("stg_trade_history", "1h")).parent_keys == {dg.AssetKey(["1h", "exports"])}
    assert {"dbt", "archive"} <= dbt_15m.required_resource_keys
    assert {s.asset_key for s in dbt_15m.check_specs} <= {dbt_key(m) for m in (*MARTS, *STAGING)}


def test_the_manifest_is_parsed_only_when_missing_or_stale(tmp_path: Path) -> None:
    manifest = ensure_manifest()
    assert not manifest_is_stale(DBT_DIR, manifest)
    assert manifest_is_stale(DBT_DIR, tmp_path / "manifest.json")  # missing
    project = tmp_path / "dbt"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: x\n")
    stale = tmp_path / "old.json"
    stale.write_text(
        json.dumps({"metadata": {"dbt_version": json.loads(manifest.read_text())["metadata"]["dbt_version"]}})
    )
    model = project / "models" / "m.sql"
    model.write_text("select 1")
    os.utime(stale, (1, 1))
    assert manifest_is_stale(project, stale)  # a model newer than the manifest
    os.utime(model, (0, 0))
    os.utime(project / "dbt_project.yml", (0, 0))
    assert not manifest_is_stale(project, stale)
    stale.write_text(json.dumps({"metadata": {"dbt_version": "0.0.1"}}))  # another dbt wrote it
    os.utime(stale, (2, 2))
    assert manifest_is_stale(project, stale)
