"""The code location loads the way Dagster loads it: by module, through workspace.yaml."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg

from huracan_dagster.definitions import DAILY_JOB, build_definitions
from huracan_dagster.settings import Settings
from tests.conftest import REPO


def test_definitions_validate_through_the_workspace(huracan_home):
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_definitions_hold_the_candles_asset_checks_and_daily_job(huracan_home):
    defs = build_definitions(Settings.from_env())
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("candles") in graph.get_all_asset_keys()
    checks = {k.name for k in graph.asset_check_keys if k.asset_key == dg.AssetKey("candles")}
    assert checks == {"candles_valid", "no_gaps", "no_zero_volume_candles", "no_extreme_prints"}
    assert defs.resolve_job_def(DAILY_JOB).name == DAILY_JOB
    partitions = graph.get(dg.AssetKey("candles")).partitions_def
    assert isinstance(partitions, dg.MultiPartitionsDefinition)
    assert [d.name for d in partitions.partitions_defs] == ["date", "symbol"]
