"""The date × symbol learning partitions: a day's shared encoder, and each coin's model trained before the day.

A coin model of (D, symbol) is a pure function of what it declares: the symbol's candles, features, regimes,
signals and labels of the ``train_days`` days before D, and the shared encoder of D. Nothing of D itself or later
is read, and only labels that ended before D are trained on, so the model can trade D out of sample. The
shared encoder of D trains on the feature rows of the universe declared for D over ``encoder_window``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

import polars as pl

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey, MissingPartitionError, label, require
from huracan_core.models.artifacts import (
    CHECKSUMS,
    CorruptModelError,
    checksums_text,
    read_model_folder,
    write_model_folder,
)
from huracan_core.models.cadence import RetrainCadence
from huracan_core.models.encoder import EncoderConfig, FittedEncoder, encoder_window, fit_encoder
from huracan_core.models.inputs import feature_inputs, frames_for, input_columns, model_bars, with_embedding
from huracan_core.models.training import ModelConfig, TrainedModel, train_coin_model
from huracan_core.storage.keys import encoder_folder_key, model_folder_key
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore, parquet_bytes
from huracan_core.symbols import to_key
from huracan_core.trading.bars import LINEAGE_COLUMNS
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig

ENCODER_FILE = "encoder.pt"
#: the walk-forward folds' out-of-sample trades: the evidence a promotion weighs against the champion
OOS_TRADES_FILE = "oos_trades.parquet"


def feature_columns(features: pl.DataFrame) -> list[str]:
    return [c for c in features.columns if c != "timestamp" and c not in LINEAGE_COLUMNS]


def window_days(day: date, days: int) -> list[date]:
    """The ``days`` days before ``day`` (oldest first): a coin model's declared history."""
    return [day - timedelta(days=n) for n in range(days, 0, -1)]


def encoder_keys(day: date, members: Sequence[str], config: EncoderConfig) -> list[DayKey]:
    start, end = encoder_window(day, config)
    days = [start + timedelta(days=n) for n in range((end - start).days)]
    return [(d, to_key(m)) for d in days for m in sorted(members)]


def train_encoders(
    features: Mapping[DayKey, pl.DataFrame],
    members: Mapping[date, Sequence[str]],
    days: Sequence[date],
    timeframe: str,
    config: EncoderConfig = EncoderConfig(),
    device: str | None = None,
) -> dict[date, FittedEncoder]:
    """One encoder per day on the scale-free features of that day's declared universe over its window.

    Raises ``MissingPartitionError`` naming every (day, member) of a window whose features are absent.
    """
    out = {}
    for day in sorted(days):
        keys = encoder_keys(day, members[day], config)
        start, end = encoder_window(day, config)
        require(
            f"features (the shared encoder of {day} reads its universe over {start}..{end - timedelta(days=1)})",
            features,
            keys,
        )
        frames = [features[k] for k in keys]
        out[day] = fit_encoder(frames, feature_inputs(feature_columns(frames[0]), timeframe), config, device)
    return out


@dataclass(frozen=True)
class ModelPartition:
    day: date
    symbol: str
    trained: TrainedModel
    folder: str
    files: dict[str, bytes]
    encoder_version: str | None


def train_model_partitions(
    inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]],
    encoders: Mapping[date, FittedEncoder],
    wanted: Sequence[DayKey],
    timeframe: str,
    *,
    config: ModelConfig = ModelConfig(),
    costs: CostModel,
    exchange: str = "binance",
    exits: ExitConfig = ExitConfig(),
    use_encoder: bool = True,
) -> list[ModelPartition]:
    """Each wanted (day, symbol): a model trained on the ``config.train_days`` days before the day.

    ``inputs`` maps ``candles``, ``features``, ``regimes``, ``signals`` and ``labels`` to their partitions. Every
    day of every window is a declared input (``MissingPartitionError`` names the absent ones); with
    ``use_encoder`` the encoder of each wanted day is one too.
    """
    wanted = sorted(wanted)
    history = sorted({(d, s) for day, s in wanted for d in window_days(day, config.train_days)})
    for name in ("candles", "features", "regimes", "signals", "labels"):
        require(f"{name} (the {config.train_days} days a coin model trains on)", inputs[name], history)
    if use_encoder:
        absent = [day for day, _ in wanted if day not in encoders]
        if absent:
            raise MissingPartitionError(
                f"no shared_encoder for days {sorted({d.isoformat() for d in absent})}: materialize shared_encoder first"
            )
    parts = []
    for day, symbol in wanted:
        keys = [(d, symbol) for d in window_days(day, config.train_days)]
        frames = {name: frames_for(inputs[name], keys) for name in inputs}
        bars = model_bars(frames["candles"], frames["features"], frames["regimes"], frames["signals"], frames["labels"])
        encoder = encoders[day] if use_encoder else None
        bars = with_embedding(bars, encoder)
        embedding = encoder.embedding_columns if encoder else []
        columns = input_columns(feature_columns(frames["features"][0]), frames["signals"][0], timeframe, embedding)
        try:
            trained = train_coin_model(
                bars,
                columns,
                symbol,
                timeframe,
                day_start(day),
                embedding=embedding,
                config=config,
                costs=costs,
                exchange=exchange,
                exits=exits,
            )
        except ValueError as error:
            raise ValueError(f"coin_model {label((day, symbol))}: {error}") from error
        recipe = ",".join(sorted(set(frames["features"][0]["recipe_hash"].to_list())))
        files = model_files(trained, recipe, encoder, config=config, costs=costs, exchange=exchange, exits=exits)
        folder = model_folder_key(symbol, timeframe, trained.cutoff)
        parts.append(ModelPartition(day, symbol, trained, folder, files, encoder.version_hash if encoder else None))
    return parts


def model_files(
    trained: TrainedModel,
    recipe_hash: str,
    encoder: FittedEncoder | None,
    *,
    config: ModelConfig,
    costs: CostModel,
    exchange: str,
    exits: ExitConfig,
) -> dict[str, bytes]:
    """The folder's files (docs/architecture.md#storage-keys): the booster in LightGBM's text format, never a pickle."""
    files = {
        "model.bin": trained.booster_text.encode(),
        "config.json": json_bytes(
            {
                "symbol": trained.symbol,
                "timeframe": trained.timeframe,
                "cutoff": trained.cutoff.isoformat(),
                "exchange": exchange,
                "safety_margin_bps": config.safety_margin_bps,
                "decision": trained.rule.to_dict(),
                "gate_profile": config.gate_profile,
                "model": asdict(config),
                "exits": asdict(exits),
            }
        ),
        "metrics.json": json_bytes(trained.metrics_document()),
        "costs.json": json_bytes(
            {
                "exchange": exchange,
                "fee_bps_per_side": trained.fee_bps,
                "order_type": costs.order_type,
                "model": costs.describe(),
                "break_even_fee_bps": trained.break_even_fee_bps,
            }
        ),
        "features.json": json_bytes(
            {
                "recipe_hash": recipe_hash,
                "columns": trained.columns,
                "side_column": "side",
                "embedding": encoder.embedding_columns if encoder else [],
                "encoder_version": encoder.version_hash if encoder else None,
            }
        ),
    }
    if encoder is not None:
        files[ENCODER_FILE] = encoder.to_bytes()
    files[OOS_TRADES_FILE] = parquet_bytes(trained.model.ledger.select(OOS_TRADE_COLUMNS))
    return files


#: what a promotion needs of each out-of-sample trade (the ledger's entry features stay out)
OOS_TRADE_COLUMNS = ("entry_time", "exit_time", "direction", "gross_bps", "net_bps", "net_pnl", "exit_reason", "regime")


def write_model(store: ArtifactStore, part: ModelPartition) -> dict[str, bytes]:
    """Files first, ``sha256.txt`` last (a reader never trusts a folder before its marker); returns every file
    written, the marker included."""
    return {**part.files, CHECKSUMS: checksums_text(write_model_folder(store, part.folder, part.files))}


#: a ``coin_model`` partition's columns: one row for the model trained for the day, none on a day off the cadence
INDEX_SCHEMA = pl.Schema(
    {
        "day": pl.Date,
        "symbol": pl.String,
        "cutoff": pl.Datetime("us", "UTC"),
        "folder": pl.String,
        "passed": pl.Boolean,
        "gate_profile": pl.String,
        "gate_summary": pl.String,
        #: ``IC 0.031 ± 0.018 over 6 folds; top quintile −4.1 bps net, bottom −19.0`` (``diagnostics.py``)
        "signal_summary": pl.String,
        "trade_count": pl.Int64,
        "sharpe": pl.Float64,
        "net_pnl": pl.Float64,
        "hit_rate": pl.Float64,
        "break_even_fee_bps": pl.Float64,
        "encoder_version": pl.String,
        "mlflow_run_id": pl.String,
        "mlflow_model": pl.String,
        "mlflow_version": pl.String,
    }
)


def index_row(part: ModelPartition, tracked: Mapping[str, str]) -> pl.DataFrame:
    """What the ``coin_model`` partition stores: which folder (a key of the Archive, so a copied home still finds
    it), its verdict and headline figures, its MLflow run (``tracked``: ``mlflow_run_id``, ``mlflow_model``,
    ``mlflow_version``)."""
    t, agg = part.trained, part.trained.model.aggregate
    return pl.DataFrame(
        [
            {
                "day": part.day,
                "symbol": to_key(part.symbol),
                "cutoff": t.cutoff,
                "folder": part.folder,
                "passed": t.passed,
                "gate_profile": t.gates.profile,
                "gate_summary": t.gates.summary(),
                "signal_summary": t.signal.summary() if t.signal else "n/a",
                "trade_count": int(agg["trade_count"]),
                "sharpe": agg["sharpe"],
                "net_pnl": agg["net_pnl"],
                "hit_rate": agg["hit_rate"],
                "break_even_fee_bps": t.break_even_fee_bps,
                "encoder_version": part.encoder_version or "",
                **{k: str(tracked[k]) for k in ("mlflow_run_id", "mlflow_model", "mlflow_version")},
            }
        ],
        schema=INDEX_SCHEMA,
    )


def no_model_index() -> pl.DataFrame:
    """The partition of a day off the retrain cadence: no model, so its champion decision has no challenger."""
    return INDEX_SCHEMA.to_frame()


def retrain_split(wanted: Sequence[DayKey], cadence: RetrainCadence) -> tuple[list[DayKey], list[DayKey]]:
    """The wanted keys that train a model, and those that do not (days off the cadence), both in key order."""
    keys = sorted(wanted)
    return [k for k in keys if cadence.is_retrain_day(k[0])], [k for k in keys if not cadence.is_retrain_day(k[0])]


def json_bytes(payload: object) -> bytes:
    """Strict JSON (sorted, indented): a non-finite figure is written as the string ``"inf"``/``"-inf"``/``"nan"``."""
    return (json.dumps(_finite(payload), indent=1, sort_keys=True, default=_default, allow_nan=False) + "\n").encode()


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_encoder(store: ArtifactStore, timeframe: str, day: date, encoder: FittedEncoder) -> str:
    """The day's encoder in its own checksummed folder; returns the folder."""
    folder = encoder_folder_key(timeframe, day)
    write_model_folder(store, folder, {ENCODER_FILE: encoder.to_bytes()}, required=(ENCODER_FILE,))
    return folder


def load_encoders(store: ArtifactStore, timeframe: str, days: Sequence[date]) -> dict[date, FittedEncoder]:
    """Each day's encoder, verified against its ``sha256.txt``; an absent or damaged one names the day."""
    out = {}
    for day in days:
        try:
            files = read_model_folder(store, encoder_folder_key(timeframe, day), required=(ENCODER_FILE,))
        except (CorruptModelError, ArtifactNotFound) as error:
            raise CorruptModelError(
                f"shared_encoder {day}: cannot be used ({error}); materialize shared_encoder for {day}"
            ) from error
        out[day] = FittedEncoder.from_bytes(files[ENCODER_FILE])
    return out


def newest_encoder(store: ArtifactStore, timeframe: str, day: date) -> FittedEncoder | None:
    """The newest encoder of a day at or before ``day`` (verified), for a model trained outside the daily
    partitions (the Mechanic's challengers): an encoder of an earlier day saw only earlier features, so every
    test window of a model of ``day`` still lies after all it saw. None when no encoder exists yet."""
    prefix = encoder_folder_key(timeframe, day).rsplit("/", 1)[0] + "/"
    days = sorted(
        {
            date.fromisoformat(k[len(prefix) :].split("/", 1)[0])
            for k in store.list_keys(prefix)
            if k.endswith(f"/{CHECKSUMS}")
        }
    )
    usable = [d for d in days if d <= day]
    return load_encoders(store, timeframe, [usable[-1]])[usable[-1]] if usable else None
