"""MLflow tracking of a trained model: the run's params, metrics, tags, artifacts and plots, and the coin's
registered model, on a real SQLite store and on PostgreSQL."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from huracan_core.models.artifacts import REQUIRED_FILES
from huracan_core.models.diagnostics import signal_diagnostics
from huracan_core.models.gates import evaluate_gates
from huracan_core.models.plots import equity_png, importance_png, signal_png
from huracan_core.models.policy import DecisionRule
from huracan_core.models.tracking import (
    MAX_ENTITIES_PER_BATCH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
    TrackingConfig,
    _batches,
    log_training_run,
    mlflow_ui_command,
    registered_model_name,
)
from huracan_core.models.training import PolicyResult, TrainedModel
from huracan_core.trading.metrics import summary
from tests.services.postgres import throwaway_database

CAPITAL = 10_000.0
CUTOFF = datetime(2024, 12, 1, tzinfo=UTC)
START = CUTOFF - timedelta(days=3)
BAR = timedelta(minutes=15)
FOLDS = 3
FOLD_BARS = 96
PNG = b"\x89PNG\r\n\x1a\n"
TAGS = {"dagster_run_id": "run-8f1c", "partition": "2024-12-01|BTC-USDT", "recipe_hash": "a1b2c3d4"}
FOLD_KEYS = ("sharpe", "net_pnl", "hit_rate", "trade_count", "max_drawdown")


def booster_text() -> tuple[str, dict[str, float]]:
    """A real (tiny) LightGBM model: 200 random rows, 3 features, 5 rounds."""
    import lightgbm

    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 3))
    y = x[:, 0] * 2 + rng.normal(size=200)
    params = {
        "objective": "regression",
        "num_leaves": 4,
        "min_data_in_leaf": 10,
        "verbose": -1,
        "seed": 1,
        "num_threads": 1,
    }
    booster = lightgbm.train(
        params, lightgbm.Dataset(x, y, feature_name=["rsi_14", "atr_bps", "side"]), num_boost_round=5
    )
    gains = booster.feature_importance(importance_type="gain")
    return booster.model_to_string(), {n: float(g) for n, g in zip(booster.feature_name(), gains, strict=True)}


def ledger(trades: int, seed: int) -> pl.DataFrame:
    """``trades`` trades spread over the folds' test bars (an empty ledger has the same columns)."""
    rng = np.random.default_rng(seed)
    exits = sorted(rng.choice(FOLDS * FOLD_BARS, size=trades, replace=False)) if trades else []
    gross = rng.normal(8.0, 30.0, size=trades)
    net = gross - 6.0
    size = np.full(trades, 1_000.0)
    return pl.DataFrame(
        {
            "exit_time": pl.Series([START + int(i) * BAR for i in exits], dtype=pl.Datetime("us", "UTC")),
            "size": size,
            "gross_bps": gross,
            "net_bps": net,
            "net_pnl": net * size / 1e4,
            "fees_paid": size * 4e-4,
            "spread_paid": size * 1e-4,
            "slippage_paid": size * 1e-4,
            "funding_paid": size * 0.0,
        }
    )


def policy(trades: pl.DataFrame) -> PolicyResult:
    times = [START + i * BAR for i in range(FOLDS * FOLD_BARS)]
    folds = []
    for f in range(FOLDS):
        bars = pl.Series(times[f * FOLD_BARS : (f + 1) * FOLD_BARS], dtype=pl.Datetime("us", "UTC"))
        part = trades.filter(pl.col("exit_time").is_in(bars.implode()))
        folds.append(summary(part, "15m", CAPITAL, bars, missed_entries=0))
    aggregate = summary(trades, "15m", CAPITAL, pl.Series(times, dtype=pl.Datetime("us", "UTC")), missed_entries=0)
    return PolicyResult(folds=folds, aggregate=aggregate, ledger=trades)


def trained_model(symbol: str = "BTC/USDT", model_trades: int = 40, sharpe_gap: float = 0.2) -> TrainedModel:
    text, importance = booster_text()
    model, rules, flat = policy(ledger(model_trades, 1)), policy(ledger(25, 2)), policy(ledger(0, 0))
    model.aggregate.update({"fold_sharpe_std": 0.3, "in_sample_sharpe": 2.0, "sharpe_gap": sharpe_gap})
    absolute = policy(ledger(12, 3))
    rng = np.random.default_rng(4)
    predicted = [rng.normal(-20, 5, 200) for _ in range(FOLDS)]
    signal = signal_diagnostics([(f, p, p + rng.normal(0, 30, p.size)) for f, p in enumerate(predicted)])
    rows = []
    for f in range(FOLDS):
        test_start = START + f * FOLD_BARS * BAR
        row: dict[str, object] = {
            "fold": f,
            "train_start": (test_start - timedelta(days=30)).isoformat(),
            "test_start": test_start.isoformat(),
            "test_end": (test_start + FOLD_BARS * BAR).isoformat(),
            "train_rows": 2000,
            "test_rows": FOLD_BARS,
            "purged_rows": 4,
            "in_sample_sharpe": 2.0,
        }
        for name, result in (("model", model), ("rules", rules), ("flat", flat), ("absolute", absolute)):
            row.update({f"{name}_{k}": result.folds[f][k] for k in FOLD_KEYS})
        row.update({"ic": signal.folds[f].ic, "q5_minus_q1_bps": signal.folds[f].quintiles.top_minus_bottom})
        rows.append(row)
    return TrainedModel(
        symbol=symbol,
        timeframe="15m",
        cutoff=CUTOFF,
        columns=["rsi_14", "atr_bps"],
        booster_text=text,
        model=model,
        baselines={"rules": rules, "flat": flat},
        gates=evaluate_gates(model.aggregate),
        break_even_fee_bps=2.5,
        fee_bps=4.0,
        importance=importance,
        folds=rows,
        training_rows=2000,
        ablation={
            "without_embedding": {},
            "difference": {"sharpe": 0.1, "net_pnl": 12.0, "hit_rate": 0.01, "trade_count": 3.0},
        },
        decision_policy="calibrated",
        rule=DecisionRule("calibrated", 3.0, 4.5, None),
        policies={"absolute": absolute, "calibrated": model},
        signal=signal,
    )


def model_files(trained: TrainedModel) -> dict[str, bytes]:
    files = {name: f"{name} of {trained.symbol}\n".encode() for name in REQUIRED_FILES}
    files["model.bin"] = trained.booster_text.encode()
    files["sha256.txt"] = b"0" * 64 + b"  model.bin\n"
    return files


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
    assert first.run_path == f"#/experiments/{first.experiment_id}/runs/{first.run_id}"

    client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
    experiment = client.get_experiment_by_name("huracan")
    assert experiment.experiment_id == first.experiment_id and experiment.artifact_location == config.artifact_root
    run = client.get_run(first.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "BTC-USDT 2024-12-01T00:00:00+00:00"
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
    assert (data.tags["symbol"], data.tags["timeframe"], data.tags["cutoff"]) == ("BTC-USDT", "15m", CUTOFF.isoformat())

    artifacts = {a.path for a in client.list_artifacts(first.run_id, "model")}
    assert artifacts == {f"model/{n}" for n in (*REQUIRED_FILES, "sha256.txt")}
    assert {a.path for a in client.list_artifacts(first.run_id, "plots")} == {
        "plots/equity.png",
        "plots/feature_importance.png",
        "plots/signal.png",
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
    assert "sharpe_gap" not in run.data.metrics and run.data.tags["non_finite.sharpe_gap"] == "inf"
    assert run.data.tags["gate_result"] == "failed" and "trade_count 0" in run.data.tags["gate_summary"]
    assert all(math.isfinite(v) for v in run.data.metrics.values())
    assert equity_png(idle, CAPITAL).startswith(PNG)


def test_non_finite_fold_figures_become_tags_not_metrics() -> None:
    from huracan_core.models.tracking import _metrics

    model = trained_model()
    model.folds[1]["model_sharpe"] = math.nan
    broken = replace(model, break_even_fee_bps=None)
    metrics, non_finite = _metrics(broken)
    assert ("fold_sharpe", 1) not in metrics and ("fold_sharpe", 2) in metrics
    assert {k: v for k, v in non_finite.items() if ".fold" in k} == {"non_finite.fold_sharpe.fold1": "nan"}
    # the rest: figures of the flat baseline, which never trades, so its ratios are undefined (NaN), not 0
    assert all(k.startswith("non_finite.flat_") and v == "nan" for k, v in non_finite.items() if ".fold" not in k)
    assert not any(k == "break_even_fee_bps" for k, _ in metrics)


def test_batches_stay_within_mlflow_limits() -> None:
    metrics = {(f"m{i}", i % 7): float(i) for i in range(2_500)}
    params = {f"p{i}": str(i) for i in range(230)}
    tags = {f"t{i}": str(i) for i in range(130)}
    batches = list(_batches(metrics, params, tags))
    for m, p, t in batches:
        assert (
            len(m) <= MAX_METRICS_PER_BATCH
            and len(p) <= MAX_PARAMS_TAGS_PER_BATCH
            and len(t) <= MAX_PARAMS_TAGS_PER_BATCH
        )
        assert len(m) + len(p) + len(t) <= MAX_ENTITIES_PER_BATCH
    assert sorted((x.key, x.step) for b in batches for x in b[0]) == sorted(metrics)
    assert {x.key for b in batches for x in b[1]} == set(params) and {x.key for b in batches for x in b[2]} == set(tags)
    assert len(list(_batches({("sharpe", 0): 1.0}, {"a": "1"}, {"b": "2"}))) == 1


def test_plots_are_deterministic_pngs(trained: TrainedModel) -> None:
    equity = equity_png(trained, CAPITAL)
    assert equity.startswith(PNG) and equity == equity_png(trained, CAPITAL)
    importance = importance_png(trained.importance)
    assert importance.startswith(PNG) and importance == importance_png(dict(reversed(trained.importance.items())))
    many = {f"feature_{i:02d}": float(i) for i in range(40)}
    assert importance_png(many, top=20) == importance_png(many, top=20) != importance_png(many, top=10)
    assert importance_png({}).startswith(PNG)
    assert signal_png(trained).startswith(PNG) and signal_png(trained) == signal_png(replace(trained))
    # undefined buckets (constant predictions) are left out of the picture, not drawn at 0
    constant = signal_diagnostics([(0, np.zeros(50), np.linspace(-40, 10, 50))])
    assert signal_png(replace(trained, signal=constant)).startswith(PNG)
    no_folds = replace(trained, folds=[])
    assert equity_png(no_folds, CAPITAL).startswith(PNG)


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
