"""MLflow tracking of a trained model: the run's params, metrics, tags, artifacts and plots, and the coin's
registered model, on a real SQLite store and on PostgreSQL."""

from __future__ import annotations

import contextlib
import itertools
import math
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from huracan_core.models.artifacts import REQUIRED_FILES
from huracan_core.models.diagnostics import signal_diagnostics
from huracan_core.models.gates import Gate, evaluate_gates
from huracan_core.models.plots import equity_svg, importance_svg, importance_title, signal_svg
from huracan_core.models.tracking import (
    MAX_ENTITIES_PER_BATCH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
    TrackingConfig,
    log_training_run,
    logging_batches,
    mlflow_ui_command,
    registered_model_name,
    set_aliases,
    ui_landing,
)
from huracan_core.models.training import TrainedModel
from tests.core.trained_model import CAPITAL, CUTOFF, FOLD_KEYS, FOLDS, TAGS, model_files, trained_model
from tests.services.postgres import throwaway_database

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: bytes) -> list[str]:
    """Every text of the picture, in document order (parsing it proves it is well-formed XML)."""
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


def _lines(svg: bytes) -> list[list[tuple[float, float]]]:
    return [
        [tuple(map(float, p.split(","))) for p in line.get("points", "").split()]
        for line in ET.fromstring(svg).iter(f"{SVG}polyline")
    ]


def params() -> dict[str, object]:
    """Nested like a dataclass's asdict, and more than one batch's worth (100 params a call)."""
    return {
        "rounds": 150,
        "learning_rate": 0.05,
        "walk_forward": {"folds": 3, "embargo_bars": 12},
        "columns": ", ".join(f"feature_{i}" for i in range(2000)),  # longer than MLflow's 6000 characters
        "extra": {f"p{i:03d}": i for i in range(120)},
    }


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return trained_model()


@pytest.fixture(scope="module")
def sqlite_config(tmp_path_factory: pytest.TempPathFactory) -> TrackingConfig:
    """One SQLite store for the module: creating MLflow's schema takes seconds."""
    return TrackingConfig.local(tmp_path_factory.mktemp("home"))


def assert_recorded(config: TrackingConfig, trained: TrainedModel) -> None:
    """Two runs of the same coin: both recorded in full, registered as versions 1 and 2 of one model."""
    from mlflow import MlflowClient

    started = time.perf_counter()
    first = log_training_run(config, trained, params=params(), files=model_files(trained), tags=TAGS)
    elapsed = time.perf_counter() - started
    print(f"log_training_run on {config.tracking_uri.split(':')[0]}: {elapsed:.2f} s")
    second = log_training_run(config, trained, params=params(), files=model_files(trained), tags=TAGS)
    assert (first.model_name, first.version, second.model_name, second.version) == (
        "huracan-BTC-USDT-15m",
        "1",
        "huracan-BTC-USDT-15m",
        "2",
    )
    assert first.run_id != second.run_id and first.experiment_id == second.experiment_id
    # the run's link opens MLflow's UI in its model-training mode (its default is GenAI)
    assert first.run_path == f"#/experiments/{first.experiment_id}/runs/{first.run_id}?workflowType=machine_learning"

    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    experiment = client.get_experiment_by_name("huracan")
    assert experiment is not None
    assert experiment.experiment_id == first.experiment_id and experiment.artifact_location == config.artifact_root
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    run = client.get_run(first.run_id)
    assert (
        run.info.status == "FINISHED"
        and run.info.run_name == f"BTC-USDT 2024-12-01 00:00 UTC · {'passed' if trained.passed else 'FAILED'} gates"
    )
    assert run.info.artifact_uri.startswith(config.artifact_root)

    data = run.data
    assert data.params["rounds"] == "150" and data.params["walk_forward.folds"] == "3"
    assert data.params["extra.p119"] == "119" and len(data.params) == 125  # two batches of params
    assert len(data.params["columns"]) == 6000
    aggregate = trained.model.aggregate
    assert data.metrics["sharpe"] == pytest.approx(aggregate["sharpe"])
    assert data.metrics["net_pnl"] == pytest.approx(aggregate["net_pnl"])
    assert data.metrics["trade_count"] == 40
    assert data.metrics["rules_net_pnl"] == pytest.approx(trained.baselines["rules"].aggregate["net_pnl"])
    assert data.metrics["flat_trade_count"] == 0
    assert data.metrics["ablation_net_pnl"] == 12.0
    assert data.metrics["break_even_fee_bps"] == 2.5
    assert data.metrics["gates_passed"] == float(trained.passed)
    for key in FOLD_KEYS:
        history = sorted((m.step, m.value) for m in client.get_metric_history(first.run_id, f"fold_{key}"))
        assert history == [(f, pytest.approx(trained.folds[f][f"model_{key}"])) for f in range(FOLDS)], key
    assert [m.step for m in client.get_metric_history(first.run_id, "fold_rules_sharpe")] == [0, 1, 2]
    signal = trained.signal
    assert signal is not None
    assert data.metrics["ic_mean"] == pytest.approx(signal.ic_mean) and data.metrics["icir"] == pytest.approx(
        signal.icir
    )
    assert data.metrics["q5_minus_q1_bps"] == pytest.approx(signal.q5_minus_q1_bps)
    assert data.metrics["absolute_trade_count"] == 12 and data.metrics["calibrated_trade_count"] == 40
    history = sorted((m.step, m.value) for m in client.get_metric_history(first.run_id, "fold_ic"))
    assert history == [(f, pytest.approx(signal.folds[f].ic)) for f in range(FOLDS)]
    assert [m.step for m in client.get_metric_history(first.run_id, "fold_absolute_trade_count")] == [0, 1, 2]
    assert data.tags["decision_rule"] == "calibrated: long > 4.5 bps, short disabled"
    assert data.tags["signal_summary"] == signal.summary()
    assert {k: data.tags[k] for k in TAGS} == TAGS
    assert data.tags["gate_result"] == ("passed" if trained.passed else "failed")
    assert data.tags["gate_summary"] == trained.gates.summary()
    # every figure of this model is a number: nothing to say about what could not be measured
    assert "not_measured" not in data.tags and not any(k.startswith("non_finite") for k in data.tags)
    assert (data.tags["symbol"], data.tags["timeframe"], data.tags["cutoff"]) == ("BTC-USDT", "15m", CUTOFF.isoformat())

    artifacts = {a.path for a in client.list_artifacts(first.run_id, "model")}
    assert artifacts == {f"model/{n}" for n in (*REQUIRED_FILES, "sha256.txt")}
    assert {a.path for a in client.list_artifacts(first.run_id, "plots")} == {
        "plots/equity.svg",
        "plots/feature_importance.svg",
        "plots/signal.svg",
    }
    local = Path(
        client.download_artifacts(
            first.run_id, "model/model.bin", dst_path=str(Path(config.artifact_root).parent / "dl")
        )
    )
    assert local.read_bytes() == trained.booster_text.encode()

    versions = client.search_model_versions("name = 'huracan-BTC-USDT-15m'")
    assert sorted((str(v.version), v.run_id) for v in versions) == sorted([("1", first.run_id), ("2", second.run_id)])
    version = client.get_model_version("huracan-BTC-USDT-15m", "1")
    assert version.source == f"{run.info.artifact_uri}/model"
    assert version.tags["gate_result"] == data.tags["gate_result"]
    verdict = "passed" if trained.passed else "failed"
    assert version.tags["status"] == f"{verdict} gates"
    assert version.description.startswith("Passed gates" if trained.passed else "FAILED GATES (standard), never trades")


def test_runs_are_tracked_and_registered_in_sqlite(sqlite_config: TrackingConfig, trained: TrainedModel) -> None:
    assert sqlite_config.tracking_uri.startswith("sqlite:////")
    assert_recorded(sqlite_config, trained)


@pytest.mark.slow
def test_runs_are_tracked_and_registered_in_postgres(tmp_path: Path, trained: TrainedModel) -> None:
    with throwaway_database("huracan_mlflow_test") as url:
        config = TrackingConfig(tracking_uri=url, artifact_root=str(tmp_path / "artifacts"))
        assert_recorded(config, trained)
        from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

        # MLflow caches one engine per database URI (tracking and registry apart) for the life of the process:
        # let go of the throwaway database's connections before it is dropped
        for store in (TrackingStore, RegistryStore):
            engine = store._engine_map.pop(url, None)
            if engine is not None:
                engine.dispose()


def test_no_trades_and_non_finite_figures_are_tracked(sqlite_config: TrackingConfig) -> None:
    from mlflow import MlflowClient

    idle = trained_model("ETH-USDT", model_trades=0, sharpe_gap=math.inf)
    assert idle.model.ledger.height == 0 and not idle.passed
    tracked = log_training_run(sqlite_config, idle, params={"rounds": 5}, files=model_files(idle), tags=TAGS)
    assert (tracked.model_name, tracked.version) == ("huracan-ETH-USDT-15m", "1")
    run = MlflowClient(tracking_uri=sqlite_config.tracking_uri).get_run(tracked.run_id)
    assert run.data.metrics["trade_count"] == 0 and run.data.metrics["gates_passed"] == 0
    assert run.data.tags["gate_result"] == "failed" and "trade_count 0" in run.data.tags["gate_summary"]
    assert all(math.isfinite(v) for v in run.data.metrics.values())
    # what could not be measured is said once: one tag naming the figures, an infinite one with its value
    assert not any(k.startswith("non_finite") for k in run.data.tags)
    not_measured = run.data.tags["not_measured"].split(", ")
    assert "sharpe_gap (inf)" in not_measured and "sharpe" in not_measured and "hit_rate" in not_measured
    assert not {n.split(" (")[0] for n in not_measured} & set(run.data.metrics)
    version = MlflowClient(tracking_uri=sqlite_config.tracking_uri).get_model_version(tracked.model_name, "1")
    assert version.tags["status"] == "failed gates" and "trade_count 0 trades" in (version.description or "")
    assert (
        f"model: 0 trades, net +0.00; rules: {idle.baselines['rules'].ledger.height} trades"
        in _texts(equity_svg(idle, CAPITAL))[2]
    )


def test_non_finite_figures_are_named_once_not_logged() -> None:
    from huracan_core.models.tracking import _metrics

    model = trained_model()
    model.folds[0]["model_sharpe"] = model.folds[2]["model_sharpe"] = math.nan
    broken = replace(model, break_even_fee_bps=None)
    metrics, not_measured = _metrics(broken)
    assert ("fold_sharpe", 1) in metrics and {("fold_sharpe", 0), ("fold_sharpe", 2)}.isdisjoint(metrics)
    # the flat baseline never trades, so its ratios are undefined by design: left out, not listed as unmeasured
    assert not_measured == "fold_sharpe (folds 0, 2)"
    assert ("flat_net_pnl", 0) in metrics and not any(k.startswith("flat_sharpe") for k, _ in metrics)
    assert not any(k == "break_even_fee_bps" for k, _ in metrics)


def test_a_version_that_failed_its_gates_is_never_champion(sqlite_config: TrackingConfig) -> None:
    from mlflow import MlflowClient

    failed = trained_model("SOL/USDT")
    assert not failed.passed
    # the same figures judged by a gate they clear
    passed = replace(failed, gates=evaluate_gates(failed.model.aggregate, [Gate("trades", "trade_count", ">=", 1)]))
    first = log_training_run(sqlite_config, failed, params={}, files=model_files(failed), tags=TAGS)
    second = log_training_run(sqlite_config, passed, params={}, files=model_files(passed), tags=TAGS)
    with pytest.raises(ValueError, match=rf"{first.model_name} version {first.version} failed its gates.*trade_count"):
        set_aliases(sqlite_config, first.model_name, {"champion": first.version})
    set_aliases(sqlite_config, second.model_name, {"champion": second.version, "challenger": first.version})
    client = MlflowClient(tracking_uri=sqlite_config.tracking_uri, registry_uri=sqlite_config.tracking_uri)
    model = client.get_registered_model(first.model_name)
    assert {k: str(v) for k, v in model.aliases.items()} == {"champion": second.version, "challenger": first.version}
    assert client.get_model_version(first.model_name, second.version).tags["status"] == "passed gates"


def test_the_ui_opens_on_the_training_runs_of_a_typed_experiment(tmp_path: Path) -> None:
    """MLflow 3.17's UI opens in its GenAI mode unless the link asks for model training; the experiment is typed
    for model training, also one an older Huracan created without the type."""
    from mlflow import MlflowClient

    fresh = TrackingConfig.local(tmp_path / "fresh")
    client = MlflowClient(tracking_uri=fresh.tracking_uri)
    landing = ui_landing(fresh)  # before any run: the experiment is created, typed
    experiment = client.get_experiment_by_name("huracan")
    assert experiment is not None
    assert landing == f"#/experiments/{experiment.experiment_id}?workflowType=machine_learning"
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"

    older = TrackingConfig.local(tmp_path / "older")
    client = MlflowClient(tracking_uri=older.tracking_uri)
    experiment_id = client.create_experiment("huracan", artifact_location=older.artifact_root)
    assert "mlflow.experimentKind" not in client.get_experiment(experiment_id).tags
    assert ui_landing(older) == f"#/experiments/{experiment_id}?workflowType=machine_learning"
    assert client.get_experiment(experiment_id).tags["mlflow.experimentKind"] == "custom_model_development"


def test_batches_stay_within_mlflow_limits() -> None:
    metrics = {(f"m{i}", i % 7): float(i) for i in range(2_500)}
    params = {f"p{i}": str(i) for i in range(230)}
    tags = {f"t{i}": str(i) for i in range(130)}
    batches = list(logging_batches(metrics, params, tags))
    for m, p, t in batches:
        assert (
            len(m) <= MAX_METRICS_PER_BATCH
            and len(p) <= MAX_PARAMS_TAGS_PER_BATCH
            and len(t) <= MAX_PARAMS_TAGS_PER_BATCH
        )
        assert len(m) + len(p) + len(t) <= MAX_ENTITIES_PER_BATCH
    assert sorted((x.key, x.step) for b in batches for x in b[0]) == sorted(metrics)
    assert {x.key for b in batches for x in b[1]} == set(params) and {x.key for b in batches for x in b[2]} == set(tags)
    assert len(list(logging_batches({("sharpe", 0): 1.0}, {"a": "1"}, {"b": "2"}))) == 1


def test_plots_are_deterministic_svgs_that_say_what_the_model_did(trained: TrainedModel) -> None:
    equity = equity_svg(trained, CAPITAL)
    assert equity == equity_svg(trained, CAPITAL)
    texts = _texts(equity)
    model, rules = trained.model.ledger, trained.baselines["rules"].ledger
    assert texts[2] == (
        f"model: {model.height} trades, net {model['net_pnl'].sum():+,.2f}; "
        f"rules: {rules.height} trades, net {rules['net_pnl'].sum():+,.2f}; flat: no trades"
    )
    assert {"model", "rules", "flat"} <= set(texts) and f"over {FOLDS} folds" in texts[0]
    model_line, rules_line, flat_line = _lines(equity)
    assert len({y for _, y in flat_line}) == 1 and flat_line[0] == model_line[0] == rules_line[0]  # one start
    assert [x for x, _ in model_line] == sorted(x for x, _ in model_line)  # time runs right
    # a step line: each exit moves the equity once, and more equity is drawn higher
    assert sum(a[1] != b[1] for a, b in itertools.pairwise(model_line)) <= model.height
    assert (model_line[-1][1] < model_line[0][1]) == (model["net_pnl"].sum() > 0)

    importance = importance_svg(trained.importance)
    assert importance == importance_svg(dict(reversed(trained.importance.items())))
    many = {f"feature_{i:02d}": float(i) for i in range(40)}
    assert importance_svg(many, top=20) == importance_svg(many, top=20) != importance_svg(many, top=10)
    names = [t for t in _texts(importance_svg(many, top=20)) if t.startswith("feature_")]
    assert names == [f"feature_{i:02d}" for i in range(39, 19, -1)]  # the largest gain first
    assert "no importance recorded" in _texts(importance_svg({}))
    # the booster's inputs are the feature columns and the side: the count names them apart, as the params count
    assert f"top 3 of {len(trained.columns)} features and the side input" in importance_title(trained.importance)
    assert "top 20 of 40 inputs" in importance_title(many)

    assert trained.signal is not None
    signal = signal_svg(trained)
    assert signal == signal_svg(replace(trained)) and _texts(signal)[1] == trained.signal.summary()
    assert [t.split(" ·")[0] for t in _texts(signal) if t.startswith("Q")] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    # undefined buckets (constant predictions) are left out of the picture, not drawn at 0
    constant = signal_diagnostics([(0, np.zeros(50), np.linspace(-40, 10, 50))])
    texts = _texts(signal_svg(replace(trained, signal=constant)))
    assert any(t.endswith("4 empty") for t in texts) and sum(t.startswith("Q") for t in texts) == 1
    no_folds = replace(trained, folds=[])
    assert "over 0 folds" in _texts(equity_svg(no_folds, CAPITAL))[0]


def test_names_config_and_ui_command(tmp_path: Path) -> None:
    assert (
        registered_model_name("BTC/USDT", "15m") == registered_model_name("btc-usdt", "15m") == "huracan-BTC-USDT-15m"
    )
    config = TrackingConfig.local(tmp_path)
    assert config.tracking_uri == f"sqlite:///{tmp_path.resolve()}/mlflow/mlflow.db"
    assert config.artifact_root == f"{tmp_path.resolve()}/mlflow/artifacts" and config.experiment == "huracan"
    with pytest.raises(ValueError, match="relative path"):
        TrackingConfig(tracking_uri="sqlite:////x.db", artifact_root="mlruns")
    argv = mlflow_ui_command(config, port=5055)
    assert argv[1:4] == ["-m", "mlflow", "server"]
    assert argv[argv.index("--backend-store-uri") + 1] == config.tracking_uri
    assert argv[argv.index("--default-artifact-root") + 1] == config.artifact_root
    assert argv[argv.index("--port") + 1] == "5055" and argv[argv.index("--host") + 1] == "127.0.0.1"


def test_a_copied_home_tracks_into_its_own_folder_and_leaves_the_original_untouched(
    tmp_path: Path, trained: TrainedModel
) -> None:
    """MLflow records absolute artifact locations: a home copied elsewhere went on writing its runs into the home it
    was copied from. The store moves every location to the copy when it is opened there."""
    import shutil

    from mlflow import MlflowClient

    source = tmp_path / "source"
    first = log_training_run(TrackingConfig.local(source), trained, params={}, files={"model.bin": b"x"}, tags=TAGS)
    shutil.copytree(source, tmp_path / "copy")
    before = {p: p.read_bytes() for p in source.rglob("*") if p.is_file()}

    config = TrackingConfig.local(tmp_path / "copy")
    second = log_training_run(config, trained, params={}, files={"model.bin": b"y"}, tags=TAGS)
    assert {p: p.read_bytes() for p in source.rglob("*") if p.is_file()} == before  # nothing written at the old place
    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    assert client.get_experiment(second.experiment_id).artifact_location == config.artifact_root
    for tracked in (first, second):  # the copied run too: its artifacts are read from the copy
        run = client.get_run(tracked.run_id)
        assert run.info.artifact_uri.startswith(config.artifact_root)
        assert client.get_model_version(tracked.model_name, tracked.version).source.startswith(config.artifact_root)
        assert client.download_artifacts(tracked.run_id, "model/model.bin", str(tmp_path / "dl" / tracked.run_id))


def _open_at_once(uri: str, artifacts: str, barrier, errors) -> None:
    from huracan_core.models.tracking import tracking_client

    barrier.wait()  # every process opens the fresh database at the same moment, as a backfill's first models do
    try:
        client = tracking_client(TrackingConfig(tracking_uri=uri, artifact_root=artifacts))
        client.search_experiments()
    except Exception as error:
        errors.put(f"{type(error).__name__}: {error}"[:300])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_processes_opening_a_new_tracking_database_at_once_all_succeed(tmp_path: Path, backend: str) -> None:
    import multiprocessing

    with contextlib.ExitStack() as stack:
        uri = (
            f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
            if backend == "sqlite"
            else stack.enter_context(throwaway_database("mlflow_race")).replace(
                "postgresql://", "postgresql+psycopg2://"
            )
        )
        context = multiprocessing.get_context("spawn")
        barrier, errors = context.Barrier(3), context.Queue()
        processes = [
            context.Process(target=_open_at_once, args=(uri, str(tmp_path / "artifacts"), barrier, errors))
            for _ in range(3)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(120)
        failures = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
        assert failures == [] and all(p.exitcode == 0 for p in processes), failures
