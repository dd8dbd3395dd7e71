"""The learning chain through Dagster: signals → labels → shared encoder → coin models → the trader uses them.

One short chain (2 coins, 20 training days, small walk-forward and booster) is materialized once per module into
a real instance; the tests read what it left: the archive, the MLflow store and the instance's records.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.models.artifacts import CorruptModelError, read_model_folder
from huracan_core.models.policy import load_coin_model
from huracan_core.models.tracking import registered_model_name
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import partition_object_key
from huracan_dagster.defs.definitions import timeframe_assets
from huracan_dagster.defs.partitions import asset_key, partition_key
from huracan_dagster.defs.resources import CostsResource, MLflowResource, ModelSettingsResource
from tests.assets.pipeline import SYMBOLS, TF, materialize, register, resources
from tests.services.postgres import throwaway_database

TRAIN_DAYS = 20
FIRST, LAST = date(2024, 9, 1), date(2024, 9, 2)  # the model days; history runs back TRAIN_DAYS + warm-up
MODELS_SETTINGS = dict(
    walk_forward_train_days=8,
    walk_forward_test_days=4,
    walk_forward_step_days=4,
    rounds=20,
    encoder_epochs=1,
    encoder_device="cpu",
)
MODELS = ModelSettingsResource(**MODELS_SETTINGS)
KEYS = {
    n: asset_key(TF, n)
    for n in (
        "candles",
        "features",
        "regimes",
        "signals",
        "labels",
        "shared_encoder",
        "coin_model",
        "champion",
        "shadow_trades",
        "trade_analysis",
        "roster",
        "daily_summary",
    )
}


def _chain(instance: dg.DagsterInstance, archive: Path, mlflow: MLflowResource) -> list[dg.ExecuteInProcessResult]:
    assets = timeframe_assets(TF, train_days=TRAIN_DAYS)
    extra = {"costs": CostsResource(), "models": MODELS, "mlflow": mlflow}

    def run(start: date, end: date, names: list[str]) -> dg.ExecuteInProcessResult:
        result = materialize(
            instance,
            archive,
            start.isoformat(),
            end.isoformat(),
            assets=assets,
            selection=[KEYS[n] for n in names],
            extra_resources=extra,
        )
        assert result.success, f"{names} {start}..{end} failed"
        return result

    history = FIRST - timedelta(days=TRAIN_DAYS)
    runs = [
        run(history - timedelta(days=15), LAST + timedelta(days=1), ["candles"]),
        run(history - timedelta(days=3), LAST + timedelta(days=1), ["features", "regimes"]),
        run(history, LAST, ["signals", "labels"]),
    ]
    register(instance, SYMBOLS)
    encoders = dg.materialize(
        [a for a in assets if a.key == KEYS["shared_encoder"]],
        instance=instance,
        resources={**resources(archive), **extra},
        tags={
            "dagster/asset_partition_range_start": FIRST.isoformat(),
            "dagster/asset_partition_range_end": LAST.isoformat(),
        },
    )
    assert encoders.success
    assert sorted(e.partition for e in encoders.get_asset_check_evaluations() if e.passed) == [
        FIRST.isoformat(),
        LAST.isoformat(),
    ]
    runs.append(run(FIRST, LAST, ["coin_model", "champion", "shadow_trades", "trade_analysis"]))
    dated = dg.materialize(
        [a for a in assets if a.key in (KEYS["roster"], KEYS["daily_summary"])],
        instance=instance,
        resources={**resources(archive), **extra},
        tags={
            "dagster/asset_partition_range_start": FIRST.isoformat(),
            "dagster/asset_partition_range_end": LAST.isoformat(),
        },
    )
    assert dated.success
    return runs


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("learning")
    mlflow = MLflowResource.for_home(root)
    (root / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
        runs = _chain(instance, root / "archive", mlflow)
        index = {
            (day, s): LocalArtifactStore(root / "archive").read_parquet(
                partition_object_key("coin_model", symbol=s, day=day, timeframe=TF)
            )
            for day in (FIRST, LAST)
            for s in SYMBOLS
        }
        yield {
            "root": root,
            "store": LocalArtifactStore(root / "archive"),
            "mlflow": mlflow,
            "runs": runs,
            "index": index,
            "instance": instance,
        }


def test_every_learning_asset_materializes_every_partition(chain: dict) -> None:
    instance = chain["instance"]
    for name in ("signals", "labels", "coin_model", "shadow_trades", "trade_analysis"):
        days = [FIRST, LAST] if name != "signals" and name != "labels" else [FIRST - timedelta(days=1), LAST]
        for day in days:
            for symbol in SYMBOLS:
                assert instance.get_latest_materialization_event(KEYS[name]) is not None
                records = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=KEYS[name], asset_partitions=[partition_key(day, symbol)]), limit=1
                ).records
                assert records, f"{name} {day} {symbol} not recorded"
    checks = [e for r in chain["runs"] for e in r.get_asset_check_evaluations() if e.check_name == "signals_causal"]
    assert checks and all(e.passed for e in checks)
    intact = [e for r in chain["runs"] for e in r.get_asset_check_evaluations() if e.check_name == "model_files_intact"]
    assert sorted(e.partition for e in intact) == sorted(partition_key(d, s) for d in (FIRST, LAST) for s in SYMBOLS)
    assert all(
        e.passed and e.severity == dg.AssetCheckSeverity.ERROR and "sha256.txt matches" in e.description for e in intact
    )


def test_each_models_gate_verdict_is_a_warning_check_and_leads_its_metadata(chain: dict) -> None:
    """A model that fails its gates is a research result: its materialization succeeded (the chain's runs all did),
    and its partition carries a failed WARN check, non-blocking, saying why in the sentence its metadata starts with."""
    instance = chain["instance"]
    verdicts = {
        e.partition: e for r in chain["runs"] for e in r.get_asset_check_evaluations() if e.check_name == "passes_gates"
    }
    assert sorted(verdicts) == sorted(partition_key(d, s) for d in (FIRST, LAST) for s in SYMBOLS)
    for (day, symbol), index in chain["index"].items():
        row, verdict = index.row(0, named=True), verdicts[partition_key(day, symbol)]
        assert verdict.passed == row["passed"]
        assert verdict.severity == dg.AssetCheckSeverity.WARN and not verdict.blocking
        meta = _latest_metadata(instance, "coin_model", partition_key(day, symbol))
        assert next(iter(meta)) == "verdict" and meta["verdict"].value == verdict.description
        assert verdict.description.startswith("Passed all" if row["passed"] else "Failed ")
        assert verdict.description.endswith(".") and "nan" not in verdict.description
        gates = meta["gates"].value
        assert "| gate | value | needs | short by | passed |" in gates and "nan" not in gates.replace("n/a", "")
        shares = [
            float(line.rsplit(": ", 1)[1].rstrip("%"))
            for line in meta["top_features"].value.splitlines()
            if line.startswith("- `")
        ]
        assert "share of total gain" in meta["top_features"].value and 0 < sum(shares) <= 100.05
        assert shares == sorted(shares, reverse=True)


def test_model_folder_is_complete_checksummed_and_out_of_sample(chain: dict) -> None:
    store = chain["store"]
    for (day, _), index in chain["index"].items():
        row = index.row(0, named=True)
        assert row["cutoff"] == day_start(day), "a coin model of day D trains on data ending where D begins"
        files = read_model_folder(store, row["folder"])
        assert {"model.bin", "config.json", "metrics.json", "costs.json", "features.json", "encoder.pt"} <= set(files)
        assert files["model.bin"].startswith(b"tree"), "LightGBM's text format, not a pickle"
        model = load_coin_model(store, row["folder"])
        assert model.cutoff == day_start(day) and model.encoder is not None
        metrics = json.loads(files["metrics.json"])
        assert {"folds", "aggregate", "baselines", "ablation", "gates"} <= set(metrics)
        assert set(metrics["baselines"]) == {"rules", "flat"} and metrics["ablation"]["difference"]
        assert metrics["gates"]["passed"] == row["passed"] and row["gate_summary"].startswith(("passed", "failed"))


def test_a_tampered_model_is_refused_naming_file_and_model(chain: dict, tmp_path: Path) -> None:
    store = chain["store"]
    row = chain["index"][(FIRST, SYMBOLS[0])].row(0, named=True)
    target = Path(store.root) / row["folder"] / "model.bin"
    original = target.read_bytes()
    try:
        target.write_bytes(original.replace(b"tree", b"TREE", 1))
        with pytest.raises(CorruptModelError, match=rf"{row['folder']}.*model\.bin has sha256"):
            load_coin_model(store, row["folder"])
    finally:
        target.write_bytes(original)


def test_every_training_run_is_in_mlflow_with_a_registered_version(chain: dict) -> None:
    from mlflow import MlflowClient

    config = chain["mlflow"].config()
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    for (day, symbol), index in chain["index"].items():
        row = index.row(0, named=True)
        run = client.get_run(row["mlflow_run_id"])
        assert run.data.tags["partition_key"] == partition_key(day, symbol)
        assert run.data.tags["gate_result"] in ("passed", "failed") and run.data.tags["recipe_hash"]
        assert run.data.tags["dagster_run_id"] == chain["runs"][-1].run_id
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "model")}
        assert {"model/model.bin", "model/metrics.json", "model/sha256.txt"} <= artifacts
        version = client.get_model_version(registered_model_name(symbol, TF), row["mlflow_version"])
        assert version.run_id == run.info.run_id


def test_the_trader_records_policy_and_trades_only_the_champion_of_its_day(chain: dict) -> None:
    store = chain["store"]
    for day in (FIRST, LAST):
        for symbol in SYMBOLS:
            ledger = store.read_parquet(partition_object_key("shadow_trades", symbol=symbol, day=day, timeframe=TF))
            champion = store.read_parquet(partition_object_key("champion", symbol=symbol, day=day, timeframe=TF)).row(
                0, named=True
            )
            assert set(ledger["policy"].unique()) <= {"model", "rules"}
            for folder in ledger.filter(pl.col("policy") == "model")["model_version"].unique():
                assert folder == champion["champion_folder"]
                assert load_coin_model(store, folder).cutoff <= day_start(day)
            analysis = store.read_parquet(partition_object_key("trade_analysis", symbol=symbol, day=day, timeframe=TF))
            opportunities = analysis.filter(pl.col("kind") == "opportunity")
            assert opportunities.height > 0, "every bar's labelled outcome is analysed, traded or not"
            assert (opportunities["net_bps"] < opportunities["gross_bps"]).all()


@pytest.mark.slow
def test_mlflow_on_postgresql_records_the_materialization(chain: dict, tmp_path: Path) -> None:
    """The coin models of a day trained again from a copy of the chain's archive, tracked in MLflow on PostgreSQL."""
    archive = tmp_path / "archive"
    shutil.copytree(chain["root"] / "archive", archive)
    with throwaway_database("huracan_mlflow_assets") as url:
        mlflow = MLflowResource.for_home(tmp_path, tracking_uri=url)
        (tmp_path / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
            result = materialize(
                instance,
                archive,
                FIRST.isoformat(),
                FIRST.isoformat(),
                assets=timeframe_assets(TF, train_days=TRAIN_DAYS),
                selection=[KEYS["coin_model"]],
                extra_resources={"costs": CostsResource(), "models": MODELS, "mlflow": mlflow},
            )
            assert result.success
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=url, registry_uri=url)
        for symbol in SYMBOLS:
            [version] = client.search_model_versions(f"name = '{registered_model_name(symbol, TF)}'")
            run = client.get_run(version.run_id)
            assert run.data.tags["partition_key"] == partition_key(FIRST, symbol)
            assert {a.path for a in client.list_artifacts(run.info.run_id, "model")} >= {"model/model.bin"}


def test_every_coin_day_has_a_champion_decision_in_the_history_and_the_pointer_agrees(chain: dict) -> None:
    from huracan_core.champions.book import ChampionBook
    from huracan_core.champions.day_decisions import engine_decision_key
    from huracan_core.storage.keys import daily_summary_key, roster_key

    store, instance = chain["store"], chain["instance"]
    book = ChampionBook(store, "15m")
    for symbol in SYMBOLS:
        lines = {line["decision_key"]: line for line in book.history(symbol)}
        for day in (FIRST, LAST):
            row = store.read_parquet(partition_object_key("champion", symbol=symbol, day=day, timeframe=TF)).row(
                0, named=True
            )
            line = lines[engine_decision_key(day, symbol)]
            assert row["champion_folder"] == line["champion_after"] and row["reason"] == line["reason"]
            assert row["trade_ok"] == (line["champion"] is not None)
            if row["champion_folder"] is None:
                assert row["reason"].startswith("no champion")  # says why
            meta = _latest_metadata(instance, "champion", partition_key(day, symbol))
            assert meta["trade_ok"].value == row["trade_ok"] and "| effective_from |" in meta["promotions"].value
        newest = book.in_force(symbol, None)
        assert book.pointer(symbol) == newest["champion"]  # absent exactly when no champion
    roster = store.read_json(roster_key(TF))
    assert roster["date"] == LAST.isoformat() and {e["symbol"] for e in roster["symbols"]} == set(SYMBOLS)
    assert sorted(e["rank"] for e in roster["symbols"]) == [1, 2]
    for entry in roster["symbols"]:
        assert {
            "symbol",
            "model_path",
            "rank",
            "spread_bps",
            "fee_bps",
            "avg_slip_bps",
            "last_7d_net_bps",
            "trade_ok",
        } <= set(entry)
        assert entry["trade_ok"] == (entry["model_path"] is not None) and (entry["trade_ok"] or entry["reason"])
    for day in (FIRST, LAST):
        summary = store.read_json(daily_summary_key(TF, day))
        assert summary["models_trained"] == len(SYMBOLS) == summary["models_passed"] + summary["models_failed"]
        assert len(summary["failures"]) == summary["models_failed"]
        trades = sum(
            store.read_parquet(partition_object_key("shadow_trades", symbol=s, day=day, timeframe=TF)).height
            for s in SYMBOLS
        )
        assert summary["trades"] == trades == sum(c["trades"] for c in summary["per_coin"])
        assert sum(p["trades"] for p in summary["patterns"]) == trades  # every trade under its pattern
        assert (summary["hit_rate_pct"] is None) == (trades == 0)


def test_the_mechanic_trains_a_challenger_from_the_freshest_data_and_judges_it_once(chain: dict) -> None:
    from huracan_core.champions.book import ChampionBook
    from huracan_core.models.artifacts import read_model_folder as verified

    store, instance = chain["store"], chain["instance"]
    assets = timeframe_assets(TF, train_days=TRAIN_DAYS)
    mechanic = [a for a in assets if a.key == asset_key(TF, "challengers")]
    extra = {"costs": CostsResource(), "models": MODELS, "mlflow": chain["mlflow"]}

    def run() -> dict:
        result = dg.materialize(
            mechanic, instance=instance, resources={**resources(chain["root"] / "archive"), **extra}
        )
        assert result.success
        return result.get_asset_materialization_events()[0].materialization.metadata

    first = run()
    assert first["challengers_trained"].value == len(SYMBOLS)
    lines = [h for h in ChampionBook(store, "15m").history() if h["source"] == "mechanic"]
    assert {h["symbol"] for h in lines} == set(SYMBOLS)
    cutoff = day_start(
        LAST + timedelta(days=1)
    )  # the newest labelled day is LAST: the challenger is the next day's model
    for line in lines:
        [candidate] = line["candidates"]
        assert candidate["folder"] == f"challengers/{line['symbol']}/{TF}/{cutoff:%Y%m%d_%H%M%SZ}"
        assert line["effective_from"] == cutoff.isoformat()
        verified(store, candidate["folder"])  # complete and checksummed, like any model folder
        assert candidate["mlflow_version"]  # tracked like the Engine's models
    # nothing newer arrived: the next round trains nothing and records nothing
    assert run()["challengers_trained"].value == 0
    assert len([h for h in ChampionBook(store, "15m").history() if h["source"] == "mechanic"]) == len(SYMBOLS)


def test_a_day_off_the_retrain_cadence_trains_nothing_and_keeps_the_champion(chain: dict) -> None:
    from huracan_core.champions.book import ChampionBook
    from huracan_core.champions.day_decisions import engine_decision_key
    from huracan_core.models.day_models import INDEX_SCHEMA

    store, instance = chain["store"], chain["instance"]
    assert all(index.schema == INDEX_SCHEMA for index in chain["index"].values())
    day = LAST + timedelta(days=1)  # a Tuesday: off a weekly cadence, its history is what the chain materialized
    weekly = ModelSettingsResource(**{**MODELS_SETTINGS, "retrain_every_days": 7})
    extra = {"costs": CostsResource(), "models": weekly, "mlflow": chain["mlflow"]}
    result = materialize(
        instance,
        chain["root"] / "archive",
        day.isoformat(),
        day.isoformat(),
        assets=timeframe_assets(TF, train_days=TRAIN_DAYS),
        selection=[KEYS["coin_model"], KEYS["champion"]],
        extra_resources=extra,
    )
    assert result.success
    book = {line["decision_key"]: line for line in ChampionBook(store, "15m").history()}
    for symbol in SYMBOLS:
        index = store.read_parquet(partition_object_key("coin_model", symbol=symbol, day=day, timeframe=TF))
        assert index.height == 0 and index.schema == INDEX_SCHEMA
        assert not store.list_keys(f"models/{symbol}/{TF}/{day:%Y%m%d}"), "no model folder for the day"
        meta = _latest_metadata(instance, "coin_model", partition_key(day, symbol))
        assert meta["retrained"].value is False and "next 2024-09-09" in meta["reason"].value
        champion = store.read_parquet(partition_object_key("champion", symbol=symbol, day=day, timeframe=TF)).row(
            0, named=True
        )
        line = book[engine_decision_key(day, symbol)]
        assert line["candidates"] == [] and not champion["promoted"]
        assert (
            champion["champion_folder"] == line["champion_before"]
            and "no coin model trained for this day" in champion["reason"]
        )


def _digests(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_copied_home_trains_into_itself_and_leaves_the_original_untouched(chain: dict, tmp_path: Path) -> None:
    """Every stored path is relative to the home: a copy trains, tracks and records into itself alone."""
    from mlflow import MlflowClient

    source = chain["root"]
    before = {name: _digests(source / name) for name in ("archive", "mlflow")}
    copy = tmp_path / "copy"
    for name in ("archive", "mlflow"):
        shutil.copytree(source / name, copy / name)
    mlflow = MLflowResource.for_home(copy)
    (copy / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(copy / "dagster")) as instance:
        result = materialize(
            instance,
            copy / "archive",
            FIRST.isoformat(),
            FIRST.isoformat(),
            assets=timeframe_assets(TF, train_days=TRAIN_DAYS),
            selection=[KEYS["coin_model"]],
            extra_resources={"costs": CostsResource(), "models": MODELS, "mlflow": mlflow},
        )
        assert result.success
    assert {name: _digests(source / name) for name in ("archive", "mlflow")} == before
    config = mlflow.config()
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    for symbol in SYMBOLS:
        row = (
            LocalArtifactStore(copy / "archive")
            .read_parquet(partition_object_key("coin_model", symbol=symbol, day=FIRST, timeframe=TF))
            .row(0, named=True)
        )
        assert not Path(row["folder"]).is_absolute() and str(source) not in json.dumps(row, default=str)
        run = client.get_run(row["mlflow_run_id"])
        assert run.info.artifact_uri.startswith(str(copy)) and run.data.tags["model_folder"] == row["folder"]


def test_a_torn_champion_pointer_is_rebuilt_from_the_history_saying_so(chain: dict, tmp_path: Path) -> None:
    from huracan_core.champions.book import ChampionBook
    from huracan_core.storage.keys import PROMOTIONS_KEY, champion_pointer_key
    from huracan_dagster.defs.assets.champions import REPAIRED

    archive = tmp_path / "archive"
    for name in ("archive", "mlflow"):  # a copied home: the aliases follow the pointer in its own MLflow
        shutil.copytree(chain["root"] / name, tmp_path / name)
    store = LocalArtifactStore(archive)
    pointer = champion_pointer_key(SYMBOLS[0], TF)
    store.write_bytes(pointer, b'{"model_folder": "models/BT')  # a copy or a disk that cut it short
    lines_before = len(ChampionBook(store, "15m").history())
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        result = materialize(
            instance,
            archive,
            LAST.isoformat(),
            LAST.isoformat(),
            assets=timeframe_assets(TF, train_days=TRAIN_DAYS),
            selection=[KEYS["champion"]],
            extra_resources={"costs": CostsResource(), "models": MODELS, "mlflow": MLflowResource.for_home(tmp_path)},
        )
        assert result.success, "a torn pointer is repaired, never a bare JSONDecodeError"
    book = ChampionBook(store, "15m")
    assert book.pointer(SYMBOLS[0]) == book.in_force(SYMBOLS[0], None)["champion"]
    assert store.exists(pointer) == (book.pointer(SYMBOLS[0]) is not None)
    notes = {
        e.materialization.metadata[REPAIRED].value
        for e in result.get_asset_materialization_events()
        if REPAIRED in e.materialization.metadata
    }
    assert notes and all(f"{pointer} was not JSON (damaged); rebuilt from the history" in note for note in notes)
    assert len(book.history()) == lines_before + len(SYMBOLS)  # one line per decision taken again, no more
    assert PROMOTIONS_KEY in store.list_keys("champions/")


def test_the_integrity_sweep_names_a_tampered_model_that_is_not_the_champion(chain: dict, tmp_path: Path) -> None:
    from huracan_core.champions.book import ChampionBook
    from huracan_dagster.defs.assets.integrity import integrity_checks, integrity_job

    archive = tmp_path / "archive"
    shutil.copytree(chain["root"] / "archive", archive)
    store = LocalArtifactStore(archive)
    champions = {(ChampionBook(store, "15m").pointer(s) or {}).get("model_folder") for s in SYMBOLS}
    folder = next(
        i.row(0, named=True)["folder"]
        for i in chain["index"].values()
        if i.row(0, named=True)["folder"] not in champions
    )
    checks = integrity_checks(TF)
    job, schedule = integrity_job(TF, checks)
    defs = dg.Definitions(
        asset_checks=checks,
        jobs=[job],
        schedules=[schedule],
        assets=timeframe_assets(TF, train_days=TRAIN_DAYS),
        resources={**resources(archive), "models": MODELS, "mlflow": MLflowResource.for_home(tmp_path)},
    )

    def sweep() -> dict[str, dg.AssetCheckEvaluation]:
        result = defs.resolve_job_def(job.name).execute_in_process(instance=dg.DagsterInstance.ephemeral())
        assert result.success
        return {e.check_name: e for e in result.get_asset_check_evaluations()}

    clean = sweep()
    assert clean["archive_models_intact"].passed and clean["archive_encoders_intact"].passed
    assert clean["archive_models_intact"].metadata["folders_checked"].value >= len(chain["index"])
    (archive / folder / "model.bin").write_bytes(b"tampered")
    damaged = sweep()["archive_models_intact"]
    assert not damaged.passed and damaged.severity == dg.AssetCheckSeverity.ERROR
    assert f"{archive / folder}: model.bin has sha256" in damaged.description
    assert schedule.cron_schedule == "30 3 * * *"


def _latest_metadata(instance: dg.DagsterInstance, asset: str, partition: str) -> dict:
    """The metadata of the asset's newest materialization of ``partition``, as the UI shows it."""
    [record] = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=KEYS[asset], asset_partitions=[partition]), limit=1
    ).records
    assert record.asset_materialization is not None
    return dict(record.asset_materialization.metadata)
