"""The code location loads the way Dagster loads it: by module, through workspace.yaml; one chain per timeframe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, timedelta

import dagster as dg
import pytest

from huracan_core.sources import open_source
from huracan_dagster.defs.assets.integrity import integrity_job_name
from huracan_dagster.defs.definitions import (
    build_definitions,
    daily_job_name,
    encoder_job_name,
    mechanic_job_name,
    summary_job_name,
)
from huracan_dagster.defs.partitions import asset_key
from huracan_dagster.settings import Settings
from tests.conftest import REPO

#: the date × symbol chain of the daily job; the date-partitioned shared encoder, roster and summary, and the
#: unpartitioned Mechanic have jobs of their own
CHAIN = (
    "candles",
    "market_quotes",
    "features",
    "regimes",
    "signals",
    "labels",
    "coin_model",
    "champion",
    "shadow_trades",
    "trade_analysis",
    "paper_trades",
    "exports",
)
DATED = ("roster", "daily_summary", "exports_daily", "daily_report")
ASSETS = (*CHAIN, "shared_encoder", *DATED, "challengers")
#: one for every timeframe: the analysts' DuckDB file; and each timeframe's dbt models (tests/assets/test_dbt.py)
SHARED = {dg.AssetKey("analytics_db")}


def _chain_keys(graph) -> set[dg.AssetKey]:
    return {k for k in graph.get_all_asset_keys() - SHARED if len(k.path) == 2}


CANDLE_CHECKS = {"candles_valid", "no_gaps", "no_zero_volume_candles", "no_extreme_prints"}


@pytest.mark.parametrize("timeframes", ["", "15m,1h"])
def test_definitions_validate_through_the_workspace(huracan_home, monkeypatch, timeframes):
    monkeypatch.setenv("HURACAN_TIMEFRAMES", timeframes)
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_dagster_cli_works_in_the_project_root_without_dagster_home(tmp_path):
    """As a Dagster user expects: no DAGSTER_HOME, so Dagster makes a temporary instance; nothing in the project
    root may require the variable (a repo-root dagster.yaml naming Huracan's storages used to: KeyError)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "HURACAN_"))}
    env["HURACAN_HOME"] = str(tmp_path / "home")  # the definitions read nothing there; keep the repo clean
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr and "KeyError" not in result.stderr
    assert not (REPO / "dagster.yaml").exists() or "huracan_dagster" not in (REPO / "dagster.yaml").read_text()


#: imported only by the steps that use them: a run worker, the CLI and a Celery step start without them
STEP_ONLY_IMPORTS = ("scipy.stats", "pandera", "pandas")


def test_loading_the_code_location_imports_no_library_only_a_step_uses(huracan_home):
    """Every run worker, Celery step and ``huracan`` command starts by loading the code location: a library that
    only the candle validation (pandera, pandas) or the anomaly tests (scipy.stats) need is a second of every start."""
    probe = (
        "import sys; from huracan_dagster.defs.definitions import build_definitions; "
        "from huracan_dagster.settings import Settings; build_definitions(Settings.from_env()).get_repository_def(); "
        f"print(','.join(m for m in {STEP_ONLY_IMPORTS!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_definitions_hold_the_prefixed_chain_its_checks_and_daily_job(huracan_home, monkeypatch):
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "")
    defs = build_definitions(Settings.from_env())
    graph = defs.resolve_asset_graph()
    assert _chain_keys(graph) == {asset_key("15m", name) for name in ASSETS}
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
    assert set(defs.resources) >= {
        "source",
        "archive",
        "universe",
        "frames_io",
        "costs",
        "models",
        "mlflow",
        "promotion",
        "broadcaster",
    }
    summary = defs.resolve_job_def(summary_job_name("15m"))
    assert summary.asset_layer.selected_asset_keys == {asset_key("15m", n) for n in DATED}
    assert defs.resolve_job_def(mechanic_job_name("15m")).asset_layer.selected_asset_keys == {
        asset_key("15m", "challengers")
    }
    # the shadow trader reads the day's champion, never a window of coin models
    assert set(graph.get(asset_key("15m", "shadow_trades")).parent_keys) >= {asset_key("15m", "champion")}
    assert asset_key("15m", "coin_model") not in graph.get(asset_key("15m", "shadow_trades")).parent_keys


#: every asset that prices a trade (an edge against costs, a label, a model's walk-forward trades, a champion's
#: evaluation window, the day's shadow trades, the Mechanic's challengers)
PRICING = ("signals", "labels", "coin_model", "champion", "shadow_trades", "challengers")


def test_every_asset_that_prices_a_trade_declares_the_quotes_of_the_days_its_candles_cover(huracan_home):
    """The quotes' look-back and look-ahead are those of the candles each pricing asset reads (the labels' next
    day included), so the planner runs them first and no priced bar lacks its day's quote."""
    from huracan_dagster.cli.window_plan import date_offsets

    graph = build_definitions(Settings.from_env()).resolve_asset_graph()
    quotes = asset_key("15m", "market_quotes")
    for name in PRICING:
        node = graph.get(asset_key("15m", name))
        assert quotes in node.parent_keys, name
        if node.partitions_def is None:  # the Mechanic: every day, like its labels
            continue
        day_inputs = {p: date_offsets(node.partition_mappings.get(p)) for p in node.parent_keys if p != quotes}
        candles = day_inputs.get(asset_key("15m", "candles"))
        assert date_offsets(node.partition_mappings.get(quotes)) == candles, name
    assert graph.get(quotes).group_name == "market_data_15m"
    assert {k.name for k in graph.asset_check_keys if k.asset_key == quotes} == {"quotes_sane"}


def test_automation_is_defined_and_off_for_a_recorded_sample_on_for_a_live_exchange(huracan_home, monkeypatch):
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "")
    for source, expected in (
        ("bundled", dg.DefaultScheduleStatus.STOPPED),
        ("ccxt:binance", dg.DefaultScheduleStatus.RUNNING),
    ):
        monkeypatch.setenv("HURACAN_SOURCE", source)
        defs = build_definitions(Settings.from_env())
        schedules = {s.name: s for s in defs.schedules}
        # a live exchange's order books are sampled every 15 minutes; a recorded source has none to sample
        sampler = {"quote_sampler_every_15m"} if source.startswith("ccxt:") else set()
        assert set(schedules) == {
            "engine_15m",
            "shared_encoder_15m_daily",
            "integrity_15m_daily",
            "research_weekly",
            *sampler,
        }
        if sampler:
            assert schedules["quote_sampler_every_15m"].cron_schedule == "*/15 * * * *"
            assert defs.resolve_job_def("quote_sampler").name == "quote_sampler"
        assert (
            schedules["engine_15m"].cron_schedule == "0 2 * * *" and schedules["engine_15m"].execution_timezone == "UTC"
        )
        data = [s for name, s in schedules.items() if not name.startswith("integrity")]
        assert all(s.default_status == expected for s in data)
        # the Archive's integrity sweep reads nothing a recorded source lacks: it always runs
        assert schedules["integrity_15m_daily"].default_status == dg.DefaultScheduleStatus.RUNNING
        sensors = {s.name for s in defs.sensors}
        assert sensors >= {
            "mechanic_15m",
            "automation_15m",
            "broadcast_run_started",
            "broadcast_run_succeeded",
            "broadcast_run_failed",
            "broadcast_failed_checks",
        }
    graph = defs.resolve_asset_graph()
    for name in ("labels", "trade_analysis", "roster", "daily_summary"):  # they catch up by themselves
        assert graph.get(asset_key("15m", name)).automation_condition is not None, name


def test_two_timeframes_define_two_chains_under_their_prefixes_and_two_jobs(huracan_home, monkeypatch):
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "15m,1h")
    defs = build_definitions(Settings.from_env())
    graph = defs.resolve_asset_graph()
    keys = _chain_keys(graph)
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
        assert (
            graph.get(asset_key(tf, "features")).metadata["recipe_hash"]
            != graph.get(asset_key(other, "features")).metadata["recipe_hash"]
        )
    assert sorted(j.name for j in defs.jobs if not j.name.startswith("__")) == sorted(
        [
            name(tf)
            for tf in ("15m", "1h")
            for name in (daily_job_name, encoder_job_name, summary_job_name, mechanic_job_name, integrity_job_name)
        ]
        + ["analytics", "research"]
    )


@pytest.mark.parametrize("value", ["0", "-7", "weekly", "2.5"])
def test_a_retrain_cadence_that_is_not_a_whole_number_of_days_is_refused_naming_the_variable(value):
    with pytest.raises(ValueError, match=f"HURACAN_RETRAIN_EVERY_DAYS='{value}'"):
        Settings.from_env({"HURACAN_RETRAIN_EVERY_DAYS": value})


def test_the_retrain_cadence_reaches_the_models_resource(huracan_home, monkeypatch):
    monkeypatch.setenv("HURACAN_RETRAIN_EVERY_DAYS", "7")
    models = build_definitions(Settings.from_env()).resources["models"]
    assert models.retrain_every_days == 7 and models.cadence().describe() == "every 7 days (Mondays)"


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("HURACAN_RESEARCH_DAYS", "0", "give a whole number of days"),
        ("HURACAN_RESEARCH_DAYS", "weekly", "give a whole number of days"),
        ("HURACAN_RESEARCH_DAYS", "74", "the search space 'default' needs at least 75 days"),
        ("HURACAN_RESEARCH_SPACE", "/nowhere/space.toml", "no such file"),
        ("HURACAN_RESEARCH_CRON", "0 3 * * 8", "give a cron expression of 5 fields"),
    ],
)
def test_a_research_setting_that_cannot_be_used_is_refused_naming_the_variable(variable, value, reason):
    with pytest.raises(ValueError, match=f"^{variable}='{re.escape(value)}': .*{reason}"):
        Settings.from_env({variable: value})


def test_the_research_settings_reach_the_search_its_weeks_and_its_schedule(huracan_home, monkeypatch, tmp_path):
    space = tmp_path / "short.toml"
    space.write_text("[exits]\nhold_bars = [4]\n[walk_forward]\ntrain_days = 30\ntest_days = 10\nstep_days = 10\n")
    monkeypatch.setenv("HURACAN_RESEARCH_SPACE", str(space))
    monkeypatch.setenv("HURACAN_RESEARCH_DAYS", "40")  # one fold of that space: shorter than the default's
    monkeypatch.setenv("HURACAN_RESEARCH_CRON", "30 4 * * 2")
    settings = Settings.from_env()
    defs = build_definitions(settings)
    node = defs.resolve_asset_graph().get(dg.AssetKey("research_search"))
    assert node.metadata["window_days"] == 40 and node.metadata["space"] == str(space)
    days, weeks = open_source(settings.source).recorded_days(settings.timeframes), node.partitions_def
    assert days is not None and weeks is not None  # the bundled sample: recorded days
    first, week = days[0], date.fromisoformat(str(weeks.get_first_partition_key()))
    assert week.weekday() == 0 and first + timedelta(days=40) <= week < first + timedelta(days=47)
    assert defs.resolve_schedule_def("research_weekly").cron_schedule == "30 4 * * 2"


def test_an_unknown_order_type_is_refused_naming_the_variable():
    with pytest.raises(ValueError, match="unknown order type 'limit' \\(HURACAN_ORDER_TYPE\\)"):
        Settings.from_env({"HURACAN_ORDER_TYPE": "limit"})


def test_the_order_type_reaches_the_costs_resource_and_the_code_versions(huracan_home, monkeypatch):
    """Partitions priced as taker are stale once the orders are makers: every priced asset's version moves."""
    taker = build_definitions(Settings.from_env())
    monkeypatch.setenv("HURACAN_ORDER_TYPE", "maker")
    maker = build_definitions(Settings.from_env())
    assert maker.resources["costs"].cost_model().order_type == "maker"
    assert taker.resources["costs"].cost_model().order_type == "taker"
    graphs = taker.resolve_asset_graph(), maker.resolve_asset_graph()
    for name in ("signals", "labels", "coin_model", "champion", "shadow_trades", "trade_analysis"):
        key = asset_key("15m", name)
        before, after = (graph.get(key).code_version for graph in graphs)
        assert before and after and before != after, name


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        ("*regimes", {"candles", "features", "regimes"}),  # Dagster's legacy syntax: everything upstream
        ("+regimes", {"candles", "features", "regimes"}),
        ("+signals", {"candles", "features", "regimes", "market_quotes", "signals"}),
        (
            "regimes*",
            {
                "regimes",
                "signals",
                "labels",
                "coin_model",
                "champion",
                "shadow_trades",
                "trade_analysis",
                "paper_trades",
                "exports",
                "roster",
                "daily_summary",
                "exports_daily",
                "daily_report",
            },
        ),
        ("candles or features", {"candles", "features"}),
        ('key:"15m/labels"', {"labels"}),
    ],
)
def test_selections_in_either_syntax_resolve_inside_the_timeframe(huracan_home, select, expected):
    from huracan_dagster.cli.selection import resolve_selection

    graph = build_definitions(Settings.from_env()).resolve_asset_graph()
    assert {key.path[-1] for key in resolve_selection(graph, "15m", select)} == expected
