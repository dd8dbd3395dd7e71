"""MLflow tracking of a trained per-coin model: one run with its params, metrics, tags, model folder and plots,
and one version of the coin's registered model of its timeframe, ``huracan-<BASE>-<QUOTE>-<tf>``.

Everything goes through an explicit ``MlflowClient`` built from a ``TrackingConfig`` (never mlflow's global
fluent state or its environment variables), so several tracking stores can be used in one process. Params,
metrics and tags are sent in as few ``log_batch`` calls as MLflow's batch limits allow (each call is a database
round trip), and the artifacts in one ``log_artifacts`` call. MLflow is imported inside the functions: importing
it costs ~1.5 s.

A run carries only what was measured. A figure that is not a finite number (the Sharpe or hit rate of no trades,
``sharpe_gap = inf`` when nothing was learned in sample) is not a metric (MLflow cannot chart it; over REST it cannot
even be sent): the run names all of them once, in its ``not_measured`` tag.

The experiment is typed for model training (``mlflow.experimentKind``), and every link into the UI carries
``workflowType=machine_learning``: MLflow 3.17's UI opens in its GenAI mode (traces, an empty dashboard) unless the
link says otherwise, whatever the experiment's type.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from huracan_core.models.training import TrainedModel
from huracan_core.symbols import to_key
from huracan_core.urls import without_password

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

#: MLflow's limits (mlflow.utils.validation): per log_batch call, and on keys and values
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000

#: the per-fold figures logged as steps (step = fold index), for the model and the rules baseline
FOLD_METRICS = ("sharpe", "net_pnl", "hit_rate", "trade_count", "max_drawdown")
#: whose per-fold figures are logged, under which prefix (``model`` is the rule the model trades with)
FOLD_POLICIES = (
    ("model", "fold_"),
    ("absolute", "fold_absolute_"),
    ("calibrated", "fold_calibrated_"),
    ("rules", "fold_rules_"),
)
#: MLflow's experiment tag for the kind of work an experiment holds, and its value for model training
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"
#: the query that opens MLflow 3.17's UI in its model-training mode (its default is GenAI)
TRAINING_VIEW = "workflowType=machine_learning"
MODEL_ARTIFACTS = "model"
PLOT_ARTIFACTS = "plots"

_BAD_KEY_CHARS = re.compile(r"[^/\w.\- :]")


@dataclass(frozen=True)
class TrackingConfig:
    """Where runs go. ``tracking_uri`` also holds the model registry; ``artifact_root`` is the experiment's
    artifact location (an absolute local folder, or a URI such as ``s3://bucket/prefix``)."""

    tracking_uri: str
    artifact_root: str
    experiment: str = "huracan"
    #: an S3-compatible server for ``s3://`` artifacts (MinIO, moto …); empty = AWS
    s3_endpoint: str = ""

    def __post_init__(self) -> None:
        if "://" not in self.artifact_root and not Path(self.artifact_root).is_absolute():
            raise ValueError(
                f"MLflow artifact root {self.artifact_root!r} is a relative path: give an absolute folder or a URI, "
                "so runs do not land wherever the process happened to start"
            )
        if not self.experiment:
            raise ValueError("MLflow experiment name is empty")

    @classmethod
    def local(cls, home: Path) -> TrackingConfig:
        """SQLite at ``home/mlflow/mlflow.db``, artifacts under ``home/mlflow/artifacts``."""
        root = Path(home).resolve() / "mlflow"
        return cls(tracking_uri=f"sqlite:///{root / 'mlflow.db'}", artifact_root=str(root / "artifacts"))


@dataclass(frozen=True)
class TrackedRun:
    run_id: str
    experiment_id: str
    model_name: str
    version: str
    #: the run's page in the MLflow UI (its model-training view), relative to the UI's address
    run_path: str


def registered_model_name(symbol: str, timeframe: str) -> str:
    """``BTC/USDT`` or ``BTC-USDT`` on 15m -> ``huracan-BTC-USDT-15m``: one registered model per coin and timeframe,
    so the ``@champion`` alias of one timeframe never moves another's."""
    return f"huracan-{to_key(symbol)}-{timeframe}"


def run_name(trained: TrainedModel) -> str:
    """The coin, the cutoff and the gate verdict: the runs table, MLflow's first page, shows names and a green
    "finished" for every run, so whether a model failed its gates must be read in its name."""
    verdict = "passed gates" if trained.gates.passed else "FAILED gates"
    return f"{to_key(trained.symbol)} {trained.cutoff:%Y-%m-%d %H:%M} UTC · {verdict}"


def log_training_run(
    config: TrackingConfig,
    trained: TrainedModel,
    *,
    params: Mapping[str, object],
    files: Mapping[str, bytes],
    tags: Mapping[str, str],
    capital: float = 10_000.0,
) -> TrackedRun:
    """Record ``trained`` as one finished run and register its model folder (``files``, logged under ``model/``)
    as a new version of the coin's registered model. ``params`` may nest (flattened with dots); ``tags`` are the
    caller's (Dagster run id, partition key, recipe hash) and are joined by the gate verdict, symbol, timeframe
    and cutoff. A run that fails half-way is marked FAILED and the error raised."""
    from mlflow.entities import RunStatus

    from huracan_core.models.plots import equity_svg, importance_svg, signal_svg

    client = tracking_client(config)
    experiment_id = experiment_for(client, config)
    run = client.create_run(experiment_id, run_name=run_name(trained))
    run_id = run.info.run_id
    try:
        metrics, not_measured = _metrics(trained)
        for batch in logging_batches(metrics, _params(params), _tags(trained, tags, not_measured)):
            client.log_batch(run_id, *batch)
        with tempfile.TemporaryDirectory(prefix="huracan-mlflow-") as tmp:
            root = Path(tmp)
            _write(root / MODEL_ARTIFACTS, files)
            _write(
                root / PLOT_ARTIFACTS,
                {
                    "equity.svg": equity_svg(trained, capital),
                    "feature_importance.svg": importance_svg(trained.importance),
                    **({"signal.svg": signal_svg(trained)} if trained.signal is not None else {}),
                },
            )
            client.log_artifacts(run_id, str(root))
    except BaseException:
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
        raise
    client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))

    name = registered_model_name(trained.symbol, trained.timeframe)
    _ensure_registered_model(client, name)
    artifact_uri = run.info.artifact_uri
    assert artifact_uri is not None  # a run the tracking server created has its artifact location
    version = client.create_model_version(
        name,
        source=f"{artifact_uri.rstrip('/')}/{MODEL_ARTIFACTS}",
        run_id=run_id,
        tags={
            "status": f"{_verdict(trained)} gates",
            "gate_result": _verdict(trained),
            "cutoff": trained.cutoff.isoformat(),
            "timeframe": trained.timeframe,
        },
        description=version_description(trained)[:MAX_TAG_VALUE_LENGTH],
    )
    return TrackedRun(
        run_id=run_id,
        experiment_id=experiment_id,
        model_name=name,
        version=str(version.version),
        run_path=f"#/experiments/{experiment_id}/runs/{run_id}?{TRAINING_VIEW}",
    )


def version_description(trained: TrainedModel) -> str:
    """What the registry shows first for a version: whether it may trade, and the gates' verdict in one sentence.
    MLflow's own status beside it ("Ready", a green check) only says the registration worked."""
    if trained.passed:
        return f"Passed gates ({trained.gates.profile}): may become @champion and trade."
    failed = "; ".join(r.describe() for r in trained.gates.failed)
    return f"FAILED GATES ({trained.gates.profile}), never trades: {failed}."


def set_aliases(config: TrackingConfig, model_name: str, aliases: Mapping[str, str | None]) -> None:
    """Point each alias (``champion``, ``challenger``) at its version of the coin's registered model; None
    removes it. Idempotent, so it can follow the champion pointer after every decision. A version that failed its
    gates never trades, so it is never ``@champion``: asking for that is an error, not a silent skip."""
    from mlflow.exceptions import MlflowException

    client = tracking_client(config)
    for alias, version in aliases.items():
        if version:
            if alias == "champion":
                found = client.get_model_version(model_name, str(version))
                if found.tags.get("gate_result") == "failed":
                    raise ValueError(
                        f"{model_name} version {version} failed its gates, so it cannot be @champion: "
                        f"{found.description}"
                    )
            client.set_registered_model_alias(model_name, alias, str(version))
            continue
        try:
            client.delete_registered_model_alias(model_name, alias)
        except MlflowException as error:  # never set: nothing to remove
            if error.error_code not in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise


def mlflow_ui_command(config: TrackingConfig, host: str = "127.0.0.1", port: int = 5000) -> list[str]:
    """argv of the MLflow UI (tracking server) over the same store.

    The server reads each run's artifacts from the location the run recorded (``config.artifact_root``/<run>/
    artifacts: the local folder, or S3 with the server's own credentials), which is what its UI lists and shows;
    proxied artifact serving (uploads through the server, for clients that cannot reach the store) is not needed
    and is switched off. One worker is plenty for one person's UI.
    """
    return [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        config.tracking_uri,
        "--default-artifact-root",
        config.artifact_root,
        "--no-serve-artifacts",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]


def ui_landing(config: TrackingConfig) -> str:
    """The page ``huracan mlflow`` opens on, relative to the UI's address: the experiment's runs in the UI's model
    training view. Creates the experiment (typed) when no run was tracked yet, so the link holds from the start."""
    return f"#/experiments/{experiment_for(tracking_client(config), config)}?{TRAINING_VIEW}"


def tracking_client(config: TrackingConfig) -> MlflowClient:
    """A client whose tracking and registry stores are open. The first open in a process creates their tables
    when the database has none, which MLflow does without a lock: two runs training their first models at once
    (a backfill's) failed with "table … already exists". So that first open holds a lock on the database, which
    the others wait for: a file beside a SQLite database, an advisory lock on PostgreSQL."""
    from mlflow import MlflowClient

    if config.s3_endpoint:  # MLflow's S3 artifact repository reads its endpoint from this variable only
        os.environ["MLFLOW_S3_ENDPOINT_URL"] = config.s3_endpoint
    with _first_open(config.tracking_uri) as first:
        client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
        if first:  # open the registry's store too, under the lock: it creates its tables as well
            client.search_registered_models(max_results=1)
    return client


#: the tracking databases this process has opened (MLflow keeps their stores, tables created, for the process)
_OPENED: set[str] = set()
#: the PostgreSQL advisory lock the first open of a tracking database holds (any fixed key: "huracan" in ASCII)
_PG_LOCK_KEY = 0x687572616361


@contextmanager
def _first_open(uri: str) -> Iterator[bool]:
    """Whether this is the process's first open of ``uri``; if so, held under the database's lock."""
    if uri in _OPENED:
        yield False
        return
    if uri.startswith("sqlite:///"):
        import fcntl

        database = Path(uri.removeprefix("sqlite:///"))
        database.parent.mkdir(parents=True, exist_ok=True)
        with open(database.with_name(database.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
            yield True
    elif uri.startswith("postgresql"):
        import sqlalchemy
        from sqlalchemy.pool import NullPool

        engine = sqlalchemy.create_engine(uri, poolclass=NullPool)
        try:
            with engine.connect() as conn:  # the lock ends with the session, also if this process dies
                conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
                yield True
        finally:
            engine.dispose()
    else:  # a tracking server (http…) creates its own tables
        yield True
    _OPENED.add(uri)


def experiment_for(client: MlflowClient, config: TrackingConfig) -> str:
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(config.experiment)
    if experiment is None:
        try:
            return client.create_experiment(
                config.experiment, artifact_location=config.artifact_root, tags={EXPERIMENT_KIND_TAG: MODEL_TRAINING}
            )
        except MlflowException as error:  # another process created it first
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            experiment = client.get_experiment_by_name(config.experiment)
            if experiment is None:
                raise
    if _moved(experiment.artifact_location, config):
        relocate_artifacts(config, experiment.artifact_location)
    if experiment.lifecycle_stage != "active":
        raise ValueError(
            f"MLflow experiment {config.experiment!r} in {without_password(config.tracking_uri)} is deleted: restore it "
            f"(mlflow experiments restore --experiment-id {experiment.experiment_id}) or track into another experiment"
        )
    if experiment.tags.get(EXPERIMENT_KIND_TAG) != MODEL_TRAINING:  # created by an older Huracan, or retyped
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING)
    return experiment.experiment_id


#: the columns of MLflow's tables that hold an artifact location (its SQL store's schema)
LOCATION_COLUMNS = {
    "experiments": ("artifact_location",),
    "runs": ("artifact_uri",),
    "model_versions": ("source", "storage_location"),
    "logged_models": ("artifact_location",),
}


def _moved(recorded: str, config: TrackingConfig) -> bool:
    """The home's own store (SQLite) records artifacts in a folder that is not this home's: the home was copied or
    restored elsewhere. A shared store (PostgreSQL) or remote artifacts (``s3://``) never move with a home."""
    local = "://" not in config.artifact_root and "://" not in recorded.removeprefix("file://")
    return (
        config.tracking_uri.startswith("sqlite:") and local and recorded.removeprefix("file://") != config.artifact_root
    )


def relocate_artifacts(config: TrackingConfig, recorded: str) -> int:
    """Point every stored artifact location under ``recorded`` (the folder the store was created with) at
    ``config.artifact_root``, in one transaction; returns the rows changed. MLflow stores absolute locations and
    offers no call to change them, so a copied home would go on writing its runs into the home it was copied from.
    """
    from sqlalchemy import create_engine, inspect, text

    old, new = recorded.removeprefix("file://").rstrip("/"), config.artifact_root.rstrip("/")
    engine = create_engine(config.tracking_uri)
    changed = 0
    try:
        with engine.begin() as conn:
            tables = set(inspect(conn).get_table_names())
            for table, columns in LOCATION_COLUMNS.items():
                for column in columns if table in tables else ():
                    for before, after in ((old, new), (f"file://{old}", f"file://{new}")):
                        result = conn.execute(
                            text(
                                f"UPDATE {table} SET {column} = :after || substr({column}, :cut) "
                                f"WHERE {column} = :before OR substr({column}, 1, :size) = :under"
                            ),
                            {
                                "after": after,
                                "before": before,
                                "under": f"{before}/",
                                "cut": len(before) + 1,
                                "size": len(before) + 1,
                            },
                        )
                        changed += result.rowcount
    finally:
        engine.dispose()
    return changed


def _ensure_registered_model(client: MlflowClient, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, description=f"Huracan per-coin model of {name.removeprefix('huracan-')}")
    except MlflowException as error:  # RestException over HTTP is a subclass
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def _metrics(trained: TrainedModel) -> tuple[dict[tuple[str, int], float], str]:
    """``{(key, step): value}`` of the finite figures (step = fold index for per-fold ones, else 0), and the
    others named in one line (empty when every figure was measured)."""
    values: dict[tuple[str, int | None], object] = {}
    for name, value in trained.model.aggregate.items():
        values[(name, None)] = value
    for policy in ("rules", "flat"):
        if policy in trained.baselines:
            for name, value in trained.baselines[policy].aggregate.items():
                if policy == "flat" and not _finite(value):  # never trades: its ratios are undefined by design
                    continue
                values[(f"{policy}_{name}", None)] = value
    for policy, result in trained.policies.items():  # both model rules, whichever trades (``model`` above)
        for name, value in result.aggregate.items():
            values[(f"{policy}_{name}", None)] = value
    if trained.signal is not None:
        for name, value in trained.signal.headline().items():  # ic_mean, icir, q5_minus_q1_bps, ...
            values[(name, None)] = value
    for name, value in dict(trained.ablation.get("difference", {}) or {}).items():  # type: ignore[call-overload]
        values[(f"ablation_{name}", None)] = value
    for row in trained.folds:
        step = cast(int, row["fold"])  # the fold's index (training.py)
        for name in FOLD_METRICS:
            for policy, prefix in FOLD_POLICIES:
                if f"{policy}_{name}" in row:
                    values[(f"{prefix}{name}", step)] = row[f"{policy}_{name}"]
        for name in ("in_sample_sharpe", "ic", "q5_minus_q1_bps"):
            if name in row:
                values[(f"fold_{name}", step)] = row[name]
    if trained.break_even_fee_bps is not None:
        values[("break_even_fee_bps", None)] = trained.break_even_fee_bps
    values[("fee_bps_per_side", None)] = trained.fee_bps
    values[("training_rows", None)] = trained.training_rows
    values[("fold_count", None)] = len(trained.folds)
    values[("gates_passed", None)] = 1.0 if trained.passed else 0.0

    finite: dict[tuple[str, int], float] = {}
    missing: dict[str, list[str]] = {}  # name -> the folds (or the value) it was not measured in
    for (name, step), raw in values.items():
        value = _number(raw)
        if math.isfinite(value):
            finite[(mlflow_key(name), step or 0)] = value
        elif step is not None:
            missing.setdefault(name, []).append(str(step))
        else:  # NaN is "undefined" and goes without saying; an infinite value is worth showing
            missing.setdefault(name, []).append("" if math.isnan(value) else str(raw))
    return finite, _not_measured(missing)


def _number(raw: object) -> float:
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _finite(raw: object) -> bool:
    return math.isfinite(_number(raw))


def _not_measured(missing: Mapping[str, list[str]]) -> str:
    """``sharpe, hit_rate, sharpe_gap (inf), fold_sharpe (folds 0, 1)``: every figure that is no finite number,
    once, for the ``not_measured`` tag."""
    parts = []
    for name in sorted(missing):
        notes = [n for n in missing[name] if n]
        if not notes:
            parts.append(name)
        elif all(n.isdigit() for n in notes):
            parts.append(f"{name} (fold{'s' if len(notes) > 1 else ''} {', '.join(notes)})")
        else:
            parts.append(f"{name} ({', '.join(notes)})")
    return ", ".join(parts)


def _params(params: Mapping[str, object]) -> dict[str, str]:
    flat: dict[str, str] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            flat[mlflow_key(prefix)] = str(value)[:MAX_PARAM_VALUE_LENGTH]

    walk("", params)
    return flat


def _tags(trained: TrainedModel, given: Mapping[str, str], not_measured: str) -> dict[str, str]:
    tags = {mlflow_key(k): str(v) for k, v in given.items()}
    if not_measured:
        tags["not_measured"] = not_measured
    summary = trained.gates.summary()
    break_even = (
        "none (fails even without fees)"
        if trained.break_even_fee_bps is None
        else f"{trained.break_even_fee_bps:g} bps"
    )
    tags.update(
        {
            "gate_result": _verdict(trained),
            "gate_summary": summary,
            "gate_profile": trained.gates.profile,
            "symbol": to_key(trained.symbol),
            "timeframe": trained.timeframe,
            "cutoff": trained.cutoff.isoformat(),
            "decision_rule": trained.rule.describe(),
            "signal_summary": trained.signal.summary() if trained.signal else "n/a",
            "mlflow.note.content": (
                f"{to_key(trained.symbol)} {trained.timeframe} model trained on bars before {trained.cutoff.isoformat()}.\n\n"
                f"Signal: {trained.signal.summary() if trained.signal else 'n/a'}\n\n"
                f"Trades by {trained.rule.describe()}\n\n"
                f"Gates: {summary}\n\nBreak-even fee per side: {break_even} (charged: {trained.fee_bps:g} bps)."
            ),
        }
    )
    return {k: v[:MAX_TAG_VALUE_LENGTH] for k, v in tags.items()}


def logging_batches(
    metrics: Mapping[tuple[str, int], float], params: Mapping[str, str], tags: Mapping[str, str]
) -> Iterator[tuple[list[Metric], list[Param], list[RunTag]]]:
    """``(metrics, params, tags)`` lists within MLflow's per-call limits: usually exactly one batch."""
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    pending_m = [Metric(k, v, now, step) for (k, step), v in metrics.items()]
    pending_p = [Param(k, v) for k, v in params.items()]
    pending_t = [RunTag(k, v) for k, v in tags.items()]
    while pending_m or pending_p or pending_t:
        p, pending_p = pending_p[:MAX_PARAMS_TAGS_PER_BATCH], pending_p[MAX_PARAMS_TAGS_PER_BATCH:]
        t, pending_t = pending_t[:MAX_PARAMS_TAGS_PER_BATCH], pending_t[MAX_PARAMS_TAGS_PER_BATCH:]
        room = min(MAX_METRICS_PER_BATCH, MAX_ENTITIES_PER_BATCH - len(p) - len(t))
        m, pending_m = pending_m[:room], pending_m[room:]
        yield m, p, t


def _write(folder: Path, files: Mapping[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"MLflow artifact {name!r} is not a plain file name")
        (folder / name).write_bytes(data)


def mlflow_key(name: str) -> str:
    """A metric/param/tag key MLflow accepts: characters it refuses become ``_``, at most 250 characters."""
    return _BAD_KEY_CHARS.sub("_", name)[:MAX_KEY_LENGTH]


def _verdict(trained: TrainedModel) -> str:
    return "passed" if trained.passed else "failed"
