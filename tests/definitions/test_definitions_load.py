"""The code location loads the way Dagster loads it: by module, through workspace.yaml; one chain per timeframe."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import pytest

from huracan_dagster.definitions import build_definitions, daily_job_name, encoder_job_name
from huracan_dagster.partitions import asset_key
from huracan_dagster.settings import Settings
from tests.conftest import REPO

#: the date × symbol chain of the daily job; the date-partitioned shared encoder has a job of its own
CHAIN = ("candles", "features", "regimes", "signals", "labels", "coin_model", "shadow_trades", "trade_analysis")
ASSETS = (*CHAIN, "shared_encoder")
CANDLE_CHECKS = {"candles_valid", "no_gaps", "no_zero_volume_candles", "no_extreme_prints"}


@pytest.mark.parametrize("timeframes", ["", "15m,1h"])
def test_definitions_validate_through_the_workspace(huracan_home, monkeypatch, timeframes):
    monkeypatch.setenv("HURACAN_TIMEFRAMES", timeframes)
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_definitions_hold_the_prefixed_chain_its_checks_and_daily_job(huracan_home, monkeypatch):
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "")
    defs = build_definitions(Settings.from_env())
    graph = defs.resolve_asset_graph()
    assert graph.get_all_asset_keys() == {asset_key("15m", name) for name in ASSETS}
    assert dg.AssetKey(["15m", "candles"]) == asset_key("15m", "candles")
    checks = {k.name for k in graph.asset_check_keys if k.asset_key == asset_key("15m", "candles")}
    assert checks == CANDLE_CHECKS
    causal = {(k.asset_key, k.name) for k in graph.asset_check_keys if k.name.endswith("_causal")}
    assert causal == {(asset_key("15m", n), f"{n}_causal") for n in ("features", "regimes", "signals")}
    job = defs.resolve_job_def(daily_job_name("15m"))
    assert job.name == "daily_pipeline_15m"
    assert {node.name for node in job.graph.node_defs} >= {f"15m__{name}" for name in CHAIN}
    encoder = defs.resolve_job_def(encoder_job_name("15m"))
    assert encoder.asset_layer.selected_asset_keys == {asset_key("15m", "shared_encoder")}
    assert isinstance(graph.get(asset_key("15m", "shared_encoder")).partitions_def, dg.DailyPartitionsDefinition)
    partitions = graph.get(asset_key("15m", "candles")).partitions_def
    assert isinstance(partitions, dg.MultiPartitionsDefinition)
    assert [d.name for d in partitions.partitions_defs] == ["date", "symbol"]
    assert set(defs.resources) >= {"source", "archive", "universe", "frames_io", "costs", "models", "mlflow"}


def test_two_timeframes_define_two_chains_under_their_prefixes_and_two_jobs(huracan_home, monkeypatch):
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "15m,1h")
    defs = build_definitions(Settings.from_env())
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert keys == {asset_key(tf, name) for tf in ("15m", "1h") for name in ASSETS}
    for tf, other in (("15m", "1h"), ("1h", "15m")):
        job = defs.resolve_job_def(daily_job_name(tf))
        selected = job.asset_layer.selected_asset_keys
        assert selected == {asset_key(tf, name) for name in CHAIN}, tf  # a job never reaches the other timeframe
        # every dependency stays inside its own timeframe
        for key in selected:
            assert all(parent.path[0] == tf for parent in graph.get(key).parent_keys), key
        assert {k.name for k in graph.asset_check_keys if k.asset_key == asset_key(tf, "candles")} == CANDLE_CHECKS
        for name in ASSETS:
            assert graph.get(asset_key(tf, name)).metadata["timeframe"] == tf
        # the two recipes differ: features of 1h never land in the objects of 15m
        assert graph.get(asset_key(tf, "features")).metadata["recipe_hash"] != graph.get(asset_key(other, "features")).metadata["recipe_hash"]
    assert sorted(j.name for j in defs.jobs if not j.name.startswith("__")) == sorted(
        [daily_job_name(tf) for tf in ("15m", "1h")] + [encoder_job_name(tf) for tf in ("15m", "1h")]
    )
