"""``huracan run`` and ``huracan status`` end to end, through the Dagster instance of HURACAN_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import history_days
from huracan_core.storage import ArtifactStore, LocalArtifactStore
from huracan_dagster.cli.main import main
from huracan_dagster.cli.status import format_ranges
from huracan_dagster.defs.definitions import resources
from huracan_dagster.settings import Settings
from tests.services.postgres import throwaway_database
from tests.services.s3 import s3_server

SYMBOLS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")
PIPELINE = ("candles", "features", "regimes", "signals", "labels", "champion", "shadow_trades", "trade_analysis")
PER_DAY_CHAIN = " or ".join(PIPELINE)


def keys(days: range, month: str = "2024-12", symbols=SYMBOLS) -> set[str]:
    return {f"{month}-{d:02d}|{s}" for d in days for s in symbols}


@pytest.fixture(params=["local", "s3+postgres"])
def archive(request, huracan_home, monkeypatch) -> Iterator[ArtifactStore]:
    """The default embedded profile, or the production one: the Dagster instance and MLflow on PostgreSQL, the
    Archive and MLflow's artifacts on S3 (a loopback server); the store ``huracan run`` writes to."""
    with ExitStack() as stack:
        if request.param == "s3+postgres":
            s3 = stack.enter_context(s3_server(monkeypatch))
            monkeypatch.setenv("HURACAN_S3_URL", f"s3://{s3.bucket}/huracan")
            monkeypatch.setenv("HURACAN_S3_ENDPOINT", s3.endpoint)
            monkeypatch.setenv("HURACAN_PG_URL", stack.enter_context(throwaway_database("huracan_dagster")))
            monkeypatch.setenv("HURACAN_MLFLOW_URI", stack.enter_context(throwaway_database("huracan_mlflow")))
        yield resources(Settings.from_env())["archive"].store()
        dg.DagsterInstance.get().dispose()  # before its database is dropped


def test_run_materializes_every_partition_of_the_window_in_ranged_runs(huracan_home, archive, capsys, monkeypatch):
    monkeypatch.setenv(
        "HURACAN_SYMBOLS", "BTC/USDT,ETH/USDT,SOL/USDT"
    )  # the declared universe: no other candles needed
    # the per-day chain (coin models train on 150 days of it: tests/assets/test_learning_assets.py); without them
    # each day's champion decision has no challenger, and the rules trade
    assert (
        main(
            [
                "run",
                "--start",
                "2024-12-01",
                "--end",
                "2024-12-03",
                "--symbols",
                "BTC/USDT,ETH/USDT,SOL/USDT",
                "--select",
                PER_DAY_CHAIN,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    # the history the partition mappings declare: the champion weighs its incumbent on the 7 days before each day
    # (signals from 11-24), the signals warm up on 3 more (features and regimes from 11-21), and the features read
    # the recipe's history days of candles before those (14: candles from 11-07)
    first = date(2024, 11, 21) - timedelta(days=history_days(FeatureRecipe.default("15m")))
    assert f"history: candles {first}..2024-12-03" in out and "http://127.0.0.1:3000" in out
    assert "history: features and regimes 2024-11-21..2024-12-03" in out
    assert "history: signals 2024-11-24..2024-12-03 (champion of 2024-12-01 reads signals from 2024-11-24)" in out
    # each partition is materialized once: the history phases run ahead over the history and the window
    assert f"15m/candles: {((date(2024, 12, 3) - first).days + 1) * 3} partitions materialized" in out
    assert "15m/features: 39 partitions materialized" in out and "15m/regimes: 39 partitions materialized" in out
    assert "15m/signals: 30 partitions materialized" in out
    for asset in PIPELINE[4:]:
        assert f"15m/{asset}: 9 partitions materialized" in out
    instance = dg.DagsterInstance.get()
    window = keys(range(1, 4))
    spans = {"candles": first.day, "features": 21, "regimes": 21, "signals": 24}
    for asset in PIPELINE:
        history = keys(range(spans[asset], 31), "2024-11") if asset in spans else set()
        assert instance.get_materialized_partitions(dg.AssetKey(["15m", asset])) == window | history, asset
    runs = instance.get_runs()
    # ranged runs, cut by the assets' backfill policies as a UI backfill would cut them: never one per partition
    assert all(
        r.is_success and r.tags["dagster/asset_partition_range_start"] != r.tags["dagster/asset_partition_range_end"]
        for r in runs
    )
    assert len(runs) <= 12  # each history phase per symbol, then each day of the window
    # runs of the code location's named job, as the UI's and the daemon's are (the Overview timeline draws no other),
    # each tagged with the window and the coins its range covers
    assert {(r.job_name, r.remote_job_origin and r.remote_job_origin.location_name) for r in runs} == {
        ("daily_pipeline_15m", "huracan")
    }
    assert all(r.tags["huracan/window"].endswith("..2024-12-03") for r in runs)
    assert {s for r in runs for s in r.tags["huracan/symbols"].split(",")} == set(SYMBOLS)
    for asset in PIPELINE:  # and each partition once: no run repeated another's work
        records = instance.fetch_materializations(dg.AssetKey(["15m", asset]), limit=1000).records
        assert len(records) == len({r.partition_key for r in records}), asset
    runs_before = len(runs) + 1  # and one for the roster and the summary, below
    for key in window:
        day, symbol = key.split("|")
        assert archive.exists(f"candles/{symbol}/15m/{day}.parquet") and archive.exists(
            f"shadow_trades/{symbol}/15m/{day}.parquet"
        )
    assert (huracan_home / "archive").exists() == isinstance(
        archive, LocalArtifactStore
    )  # on S3 nothing is written here
    decision = (
        dg.DagsterInstance.get()
        .fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(["15m", "champion"]), asset_partitions=["2024-12-03|BTC-USDT"]),
            limit=1,
        )
        .records[0]
        .asset_materialization.metadata
    )
    assert (
        decision["trade_ok"].value is False
        and decision["reason"].value == "no champion yet: no coin model trained for this day"
    )

    # the day's roster and summary follow the window (their own date-partitioned run): every coin, and why none trades
    assert (
        main(
            [
                "run",
                "--start",
                "2024-12-01",
                "--end",
                "2024-12-03",
                "--symbols",
                "BTC/USDT,ETH/USDT,SOL/USDT",
                "--select",
                "roster or daily_summary",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "15m/roster: 3 partitions materialized" in out and "15m/daily_summary: 3 partitions materialized" in out
    assert "Champions for 2024-12-03" in out and "BTC-USDT: rank" in out and "trade_ok false: no champion yet" in out
    roster = archive.read_json("champions/roster/15m/latest.json")
    assert roster["date"] == "2024-12-03" and [e["rank"] for e in roster["symbols"]] == [1, 2, 3]
    assert {e["symbol"] for e in roster["symbols"]} == set(SYMBOLS)
    assert all(not e["trade_ok"] and e["model_path"] is None and e["reason"] for e in roster["symbols"])
    summary = archive.read_json("summaries/daily/15m/2024-12-03.json")
    assert summary["models_trained"] == 0 and summary["champions"] == 0
    ledgers = [archive.read_parquet(f"shadow_trades/{s}/15m/2024-12-03.parquet") for s in SYMBOLS]
    assert summary["trades"] == sum(ledger.height for ledger in ledgers)
    assert {c["symbol"] for c in summary["per_coin"]} == set(SYMBOLS)

    # a non-contiguous subset of the registered symbols: a range cannot skip ETH, so two runs
    assert main(["run", "--date", "2024-12-04", "--symbols", "BTC/USDT,SOL/USDT", "--select", "candles"]) == 0
    assert len(instance.get_runs()) == runs_before + 2

    assert main(["status"]) == 0
    status = capsys.readouterr().out
    days = (date(2024, 12, 3) - first).days + 1  # the history and the window
    assert f"15m/candles: {days * 3 + 2} partitions materialized" in status  # and 12-04 of BTC and SOL
    assert "15m/trade_analysis: 9 partitions materialized" in status
    assert f"BTC/USDT     {first}..2024-12-04" in status and f"ETH/USDT     {first}..2024-12-03" in status
    assert "failed checks (latest verdict per partition): 0" in status
    assert (
        "15m/roster: 3 partitions materialized\n  all symbols  2024-12-01..2024-12-03" in status
    )  # a date-partitioned asset


def test_status_lists_failed_warning_checks_per_partition(huracan_home, capsys, shared_candles):
    assert (
        main(
            [
                "run",
                "--date",
                "2020-03-12",
                "--symbols",
                "LINK/USDT",
                "--timeframe",
                "1h",
                "--source",
                f"replay:{shared_candles}",
                "--select",
                "candles",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert (
        "check 1h/candles:no_extreme_prints [WARN] failed on 1 partition: 2020-03-12|LINK-USDT — 1 extreme prints: "
        in out
    )
    main(["status"])
    assert "15m/candles:no_extreme_prints" not in (status := capsys.readouterr().out)  # 1h and 15m stay apart
    assert (
        "1h/candles:no_extreme_prints [WARN] failed on 1 partition: 2020-03-12|LINK-USDT — 1 extreme prints: " in status
    )


def test_a_failing_run_exits_non_zero_and_says_why(huracan_home, capsys, tmp_path, monkeypatch):
    """An exchange outage of a whole day in the middle of the data: that partition fails, naming itself."""
    from datetime import date

    import polars as pl

    from huracan_core.sources.bundled import bundled_source

    folder = tmp_path / "replay"
    folder.mkdir()
    frame = pl.read_parquet(bundled_source().folder / "BTC-USDT_15m.parquet")
    frame.filter(pl.col("timestamp").dt.date() != date(2024, 12, 10)).write_parquet(folder / "BTC-USDT_15m.parquet")
    monkeypatch.setenv("HURACAN_SOURCE", f"replay:{folder}")
    assert main(["run", "--date", "2024-12-10", "--symbols", "BTC/USDT", "--select", "candles"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "2024-12-10|BTC-USDT" in out and "no candles from replay" in out


def test_ranges():
    from datetime import date

    days = [date(2024, 1, d) for d in (1, 2, 3, 5, 7, 8)]
    assert format_ranges(days) == "2024-01-01..2024-01-03, 2024-01-05, 2024-01-07..2024-01-08"


def test_a_window_on_the_first_listed_day_materializes_its_own_candles(huracan_home, monkeypatch):
    """The history phases start at the first whole listed day; the window's own candles are run whatever the listing."""
    monkeypatch.setenv("HURACAN_SYMBOLS", "BTC/USDT")
    assert main(["run", "--date", "2024-07-01", "--symbols", "BTC/USDT", "--select", "+features"]) == 0
    instance = dg.DagsterInstance.get()
    assert "2024-07-01|BTC-USDT" in instance.get_materialized_partitions(dg.AssetKey(["15m", "features"]))


def test_a_window_the_source_cannot_feed_is_refused_before_anything_runs(huracan_home, tmp_path, capsys, monkeypatch):
    """Two months of 1h candles cannot train a model on 150 days: refused naming the days needed and held, not a
    run that materializes history and then fails half-way in the models."""
    from tests.e2e.test_declared_inputs import write_replay

    replay = tmp_path / "replay"
    write_replay(replay, ["BTC-USDT"])
    for path in replay.glob("*_1h.parquet"):
        pl.read_parquet(path).filter(pl.col("timestamp") >= datetime(2024, 11, 1, tzinfo=UTC)).write_parquet(path)
    monkeypatch.setenv("HURACAN_SYMBOLS", "BTC/USDT")
    assert main(["run", "--timeframe", "1h", "--date", "2024-12-31", "--source", f"replay:{replay}"]) == 2
    err = capsys.readouterr().err
    assert "huracan run: error: signals of 2024-08-03 reads candles from 2024-07-31" in err, err
    assert "holds whole days of 1h candles only from 2024-11-02 on: this selection can run from 2025-" in err
    assert dg.DagsterInstance.get().get_runs() == []  # nothing ran
    # what the source can feed runs whole: the per-day chain of a day with its warm-up in the source
    assert (
        main(
            [
                "run",
                "--timeframe",
                "1h",
                "--date",
                "2024-12-31",
                "--source",
                f"replay:{replay}",
                "--select",
                "candles or features or regimes or signals or labels",
            ]
        )
        == 0
    )
