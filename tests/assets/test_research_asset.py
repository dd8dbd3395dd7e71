"""The weekly research search through Dagster, on the bundled sample: its weeks and schedule follow the source's days
and the window; one week materialized writes what the metadata, the check and the DuckDB view say it did, and the
same week materialized again reads every unit from the cache and writes the same bytes.

The space is the smallest that still has every family (per-coin, pooled, market-neutral): one timeframe, one exit,
a short walk-forward and booster. Every expectation is read from what the run wrote, never from the sample's figures.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import dagster as dg
import duckdb
import polars as pl
import pytest
from mlflow.tracking import MlflowClient

from huracan_core.exports.database import build_database
from huracan_core.research.corrections import Admission
from huracan_core.research.judge import CoinVerdict, Judged
from huracan_core.research.report import TABLE
from huracan_core.research.run import ResearchOutcome
from huracan_core.research.space import UNIVERSE, load_space
from huracan_core.sources import open_source
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import export_search_key
from huracan_core.symbols import to_key
from huracan_dagster.defs.assets.research import CORRECTED, RESEARCH_KEY, corrected
from huracan_dagster.defs.definitions import (
    build_definitions,
    daily_job_name,
    mlflow_resource,
    partition_space,
    research_definitions,
    resources,
)
from huracan_dagster.defs.partitions import WINDOW_TAG, ResearchWeeks
from huracan_dagster.settings import Settings
from tests.conftest import use_home

SPACE = """
timeframes = ["15m"]
families = ["coin_lgbm", "pooled_lgbm"]
encoder = [false]
market_neutral = true
cross_section = ["ret_5", "volatility_20"]

[exits]
hold_bars = [4]

[walk_forward]
train_days = 30
test_days = 10
step_days = 10

[model]
rounds = 30
"""
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
DAYS = 60
#: what a search writes: its export (the view's rows) and, beside it, its equity, folds and page
WRITTEN = ("exports/research_candidates", "research")


def _settings(root: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    use_home(root / "home", monkeypatch)
    space = root / "space.toml"
    space.write_text(SPACE)
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "")
    monkeypatch.setenv("HURACAN_SYMBOLS", ",".join(SYMBOLS))
    monkeypatch.setenv("HURACAN_RESEARCH_SPACE", str(space))
    monkeypatch.setenv("HURACAN_RESEARCH_DAYS", str(DAYS))
    monkeypatch.setenv("HURACAN_RESEARCH_CRON", "")
    return Settings.from_env()


def _files(archive: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(archive)): path.read_bytes()
        for folder in WRITTEN
        for path in sorted((archive / folder).rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory):
    """One week materialized twice into one instance: the second run finds every unit in the cache."""
    root = tmp_path_factory.mktemp("research")
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = _settings(root, monkeypatch)
        source = open_source(settings.source)
        asset, _, _ = research_definitions(settings, partition_space(settings, source), source.name)
        used = {
            k: v for k, v in resources(settings).items() if k in ("archive", "universe", "costs", "mlflow", "promotion")
        }
        assert asset.partitions_def is not None
        week = asset.partitions_def.get_first_partition_key()
        with dg.instance_for_test(temp_dir=str(root / "home" / "dagster")) as instance:
            runs = []
            for _ in range(2):
                result = dg.materialize([asset], instance=instance, resources=used, partition_key=week)
                assert result.success
                runs.append((result, _files(settings.archive_root)))
            yield {"settings": settings, "week": week, "runs": runs, "source": source}


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    [materialization] = result.asset_materializations_for_node(RESEARCH_KEY.to_python_identifier())
    return {key: getattr(value, "value", value) for key, value in materialization.metadata.items()}


def _export(searched: dict, metadata: dict) -> pl.DataFrame:
    store = LocalArtifactStore(searched["settings"].archive_root)
    return store.read_parquet(export_search_key(TABLE, metadata["search_id"]))


def test_the_weeks_start_on_mondays_once_the_source_holds_a_window_before_them_and_end_inside_its_days(searched):
    settings, source = searched["settings"], searched["source"]
    first, last = source.recorded_days([settings.timeframe])
    graph = build_definitions(settings).resolve_asset_graph()
    node = graph.get(RESEARCH_KEY)
    assert node.group_name == "research" and {
        k.name for k in graph.asset_check_keys if k.asset_key == RESEARCH_KEY
    } == {CORRECTED}
    assert isinstance(node.partitions_def, dg.WeeklyPartitionsDefinition)
    weeks = [date.fromisoformat(k) for k in node.partitions_def.get_partition_keys()]
    assert weeks and all(w.weekday() == 0 for w in weeks)
    assert weeks == [weeks[0] + timedelta(days=7 * n) for n in range(len(weeks))]
    # the first: the first Monday whose window the source holds; the last: the week whose window ends on the
    # source's last day, or the week that contains the day after it
    assert first + timedelta(days=DAYS) <= weeks[0] < first + timedelta(days=DAYS + 7)
    assert weeks[-1] - timedelta(days=1) <= last < weeks[-1] + timedelta(days=6)
    plan = ResearchWeeks.of(partition_space(settings, source), DAYS)
    for week in weeks:
        start, end = plan.window(week)
        assert (end - start).days + 1 == DAYS and end == week - timedelta(days=1) and start >= first


def test_the_schedule_asks_for_the_week_under_way_and_skips_a_week_that_is_no_partition(searched):
    settings = searched["settings"]
    defs = build_definitions(settings)
    schedule = defs.resolve_schedule_def("research_weekly")
    assert schedule.cron_schedule == "0 3 * * 1" and schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED  # a recorded sample: automation is off
    assert RESEARCH_KEY not in defs.resolve_job_def(daily_job_name(settings.timeframe)).asset_layer.selected_asset_keys
    partitions = defs.resolve_asset_graph().get(RESEARCH_KEY).partitions_def
    assert partitions is not None
    keys = partitions.get_partition_keys()
    first, last = date.fromisoformat(keys[0]), date.fromisoformat(keys[-1])

    def tick(monday: date):
        context = dg.build_schedule_context(
            scheduled_execution_time=datetime.combine(monday, time(3), UTC), repository_def=defs.get_repository_def()
        )
        return schedule.evaluate_tick(context)

    for week in (first, last):  # on its Monday, a week's search reads the days up to the day before
        [request] = tick(week).run_requests or []
        assert request.partition_key == week.isoformat()
        assert request.tags[WINDOW_TAG] == f"{week - timedelta(days=DAYS)}..{week - timedelta(days=1)}"
    early, late = tick(first - timedelta(days=7)), tick(last + timedelta(days=7))
    assert not early.run_requests and not late.run_requests
    assert str(first - timedelta(days=7)) in str(early.skip_message) and str(first) in str(early.skip_message)
    assert str(last + timedelta(days=7)) in str(late.skip_message) and str(last) in str(late.skip_message)


def test_a_week_reports_its_candidates_verdicts_files_and_mlflow_run_as_written(searched):
    result, _ = searched["runs"][0]
    metadata = _metadata(result)
    export = _export(searched, metadata)
    week = date.fromisoformat(searched["week"])
    assert metadata["window"] == f"{week - timedelta(days=DAYS)}..{week - timedelta(days=1)}"
    # nothing of the week itself is read: the search's window ends the day before it
    assert export["window_end"].unique().to_list() == [week - timedelta(days=1)]
    assert metadata["symbols"] == ", ".join(SYMBOLS)
    assert set(export["symbol"]) <= {to_key(s) for s in SYMBOLS} | {UNIVERSE}
    assert metadata["candidates"] == export.height > 0
    assert metadata["admitted"] == int(export["admitted"].sum())
    table = metadata["candidates_table"].records
    assert [(r.data["symbol"], r.data["candidate"]) for r in table] == export.select("symbol", "candidate").rows()
    assert [r.data["sharpe"] for r in table] == export["sharpe"].to_list()
    assert Path(metadata["report"]).is_file() and Path(metadata["export"]).is_file()
    if metadata["admitted"] == 0:  # nothing survived: nothing is offered to the champion book
        assert "nothing was offered" in str(metadata["challengers"])
    assert metadata["units"] == metadata["computed"] > 0 and metadata["cached"] == 0
    assert 1 <= metadata["workers"] <= len(os.sched_getaffinity(0))
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == CORRECTED]
    found = {key: getattr(value, "value", value) for key, value in evaluation.metadata.items()}
    assert evaluation.partition == searched["week"] and evaluation.severity == dg.AssetCheckSeverity.WARN
    survived = found["verdicts"].count("| yes |")
    assert int(found["admitted"]) == survived == metadata["admitted"]
    assert int(found["coins"]) == export["symbol"].n_unique() == found["verdicts"].count("\n") - 1
    assert evaluation.passed == (survived > 0)


def test_the_weeks_mlflow_parent_run_holds_a_child_per_candidate(searched):
    result, _ = searched["runs"][0]
    metadata = _metadata(result)
    client = MlflowClient(tracking_uri=mlflow_resource(searched["settings"]).tracking_uri)
    parent = client.get_run(metadata["mlflow_parent_run_id"])
    assert parent.data.tags["huracan.search_id"] == metadata["search_id"]
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'", max_results=1000
    )
    assert len(children) == metadata["candidates"]


def test_the_duckdb_file_built_over_the_archive_shows_the_weeks_candidates(searched, tmp_path):
    result, _ = searched["runs"][0]
    metadata = _metadata(result)
    database = tmp_path / "huracan.duckdb"
    views = build_database(database, searched["settings"].archive_root)
    assert TABLE in views
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            f"SELECT count(*), sum(admitted::INT) FROM {TABLE} WHERE search_id = ?", [metadata["search_id"]]
        )
        assert rows.fetchone() == (metadata["candidates"], metadata["admitted"])


def test_the_same_week_again_reads_every_unit_from_the_cache_and_writes_the_same_bytes(searched):
    (first, written), (second, again) = searched["runs"]
    before, after = _metadata(first), _metadata(second)
    assert after["cached"] == after["units"] == before["units"] and after["computed"] == 0
    assert after["search_id"] == before["search_id"]
    assert written and again == written


def _outcome(verdicts: dict[str, CoinVerdict]) -> ResearchOutcome:
    """A search's outcome with only its verdicts: what the check reads."""
    empty = pl.DataFrame()
    window = (datetime(2024, 8, 1, tzinfo=UTC), datetime(2024, 9, 1, tzinfo=UTC))
    return ResearchOutcome(
        "s1", load_space("default"), Judged(empty, empty, empty, verdicts), {}, "", 0, 0, 0.0, {}, window
    )


def test_the_check_passes_when_a_coins_winner_survived_and_names_it_and_what_the_others_failed():
    admitted = cast(Admission, SimpleNamespace(admitted=True, reasons=[]))
    rejected = cast(Admission, SimpleNamespace(admitted=False, reasons=["DSR 0.400 < 0.95 over 2 trials", "a | b"]))
    verdicts = {
        "BTC/USDT": CoinVerdict("BTC/USDT", "15m·hold4·coin·plain", 2, admitted),
        "ETH/USDT": CoinVerdict("ETH/USDT", "15m·hold4·pooled·plain", 2, rejected),
        UNIVERSE: CoinVerdict(UNIVERSE, None, 1, None, "no candidate traded: no Sharpe to rank by"),
    }
    verdict = corrected(_outcome(verdicts))
    assert verdict.passed and verdict.metadata["admitted"] == 1 and verdict.metadata["coins"] == 3
    assert verdict.summary.endswith("on 1 of 2 coins and the market-neutral universe: BTC/USDT 15m·hold4·coin·plain")
    rows = verdict.metadata["verdicts"].value.splitlines()[2:]
    assert [row.split(" | ")[:2] for row in rows] == [
        ["| BTC/USDT", "yes"],
        ["| ETH/USDT", "no"],
        [f"| {UNIVERSE}", "no"],
    ]
    assert rows[1].endswith("| DSR 0.400 < 0.95 over 2 trials; a \\| b |")  # the cell stays one cell
    assert rows[2].endswith("| none | 1 | no candidate traded: no Sharpe to rank by |")
    nothing = corrected(_outcome({"ETH/USDT": verdicts["ETH/USDT"]}))
    assert not nothing.passed and nothing.summary == "no candidate survived the search's corrections on any of 1 coin"
