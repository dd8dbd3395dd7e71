"""A small autoencoder shared across coins: its embedding joins every coin's LightGBM inputs.

Trained once per day on the feature rows of every coin, it learns what the market's feature rows usually look
like, which one coin's model cannot see from its own history alone. The encoder of day D trains on the rows of
``[D − lag_days − window_days, D − lag_days)`` (default ``[D−150, D−90)``): the coin models of D walk forward
over the 150 days before D, training on the first 60 and scoring out of sample after them. An encoder that had
seen the rows of those test windows would carry their feature distribution into the out-of-sample figures;
ending its window where the coin models' first training span ends keeps every fold after all it saw.

The embedding is row-wise (each row is encoded on its own), so it is causal by construction. Inference always
runs on the CPU in fixed-size blocks, whatever device trained the weights: matrix products may round a row
differently depending on how many rows share the call, and a row's embedding must not depend on its neighbours.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    import torch

_FORMAT = "huracan.encoder/1"
_CLIP = 10.0
_BLOCK_ROWS = 1024  # every inference call sees this many rows, so rounding never depends on the frame's length
_WEIGHTS = ("enc_in.weight", "enc_in.bias", "enc_out.weight", "enc_out.bias")  # the encoder half; no decoder kept


@dataclass(frozen=True)
class EncoderConfig:
    """Network size, training schedule and the window of days it trains on (see the module docstring)."""

    embedding_dim: int = 8
    hidden: int = 32
    epochs: int = 4
    batch_size: int = 512
    learning_rate: float = 1e-3
    seed: int = 7
    window_days: int = 60
    lag_days: int = 90
    max_rows: int = 40_000  # evenly spaced subsample: bounds the daily fit's time, deterministically

    def __post_init__(self) -> None:
        for name in ("embedding_dim", "hidden", "epochs", "batch_size", "window_days", "max_rows"):
            if getattr(self, name) <= 0:
                raise ValueError(f"encoder {name} must be positive, got {getattr(self, name)}")
        if self.lag_days < 0:
            raise ValueError(f"encoder lag_days must be >= 0, got {self.lag_days}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"encoder learning_rate must be a positive number, got {self.learning_rate}")


def encoder_window(day: date, config: EncoderConfig) -> tuple[date, date]:
    """``[start, end)`` of the days whose feature rows the encoder of ``day`` trains on."""
    end = day - timedelta(days=config.lag_days)
    return end - timedelta(days=config.window_days), end


def select_device(prefer: str | None = None) -> str:
    """CUDA when present; a demand for CUDA on a machine without it is an error, not a quiet fall-back."""
    import torch

    if prefer not in (None, "cpu", "cuda"):
        raise ValueError(f"encoder device must be 'cpu' or 'cuda', got {prefer!r}")
    available = torch.cuda.is_available()
    if prefer == "cuda" and not available:
        raise RuntimeError("encoder device 'cuda' was asked for, but torch sees no CUDA device here")
    if prefer == "cpu":
        return "cpu"
    return "cuda" if available else "cpu"


class FittedEncoder:
    """The encoder half of a trained autoencoder with the standardization of its training rows.

    ``epoch_seconds`` are the timings of the fit that made it; they are not part of the model, so they are
    neither serialized nor hashed (a loaded encoder has none).
    """

    def __init__(
        self,
        columns: Sequence[str],
        mean: np.ndarray,
        scale: np.ndarray,
        config: EncoderConfig,
        device: str,
        weights: dict[str, torch.Tensor],
        losses: Sequence[float],
        epoch_seconds: Sequence[float] = (),
    ) -> None:
        self.columns = tuple(columns)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.config = config
        self.device = device
        self.losses = list(losses)
        self.epoch_seconds = list(epoch_seconds)
        self._weights = weights

    @property
    def embedding_columns(self) -> list[str]:
        return [f"emb_{i}" for i in range(self.config.embedding_dim)]

    def embed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``emb_0 … emb_{k-1}`` (Float64), one row per row of ``frame``, each from that row alone."""
        import torch

        x = torch.from_numpy(_standardized(_matrix(frame, self.columns, "frame to embed"), self.mean, self.scale))
        with torch.no_grad():
            out = torch.cat([_encode(self._weights, block) for block in _padded(x).split(_BLOCK_ROWS)])
        values = out[: frame.height].double().numpy()
        return pl.DataFrame(
            {name: values[:, i] for i, name in enumerate(self.embedding_columns)},
            schema={name: pl.Float64 for name in self.embedding_columns},
        )

    def to_bytes(self) -> bytes:
        """A torch archive of the tensors plus one JSON string of everything else.

        Pickle memoizes by object identity, so a string that happens to be the very object torch also writes
        (the device ``"cpu"``, a one-character name) would change the bytes of an equal encoder; a fresh JSON
        string shares identity with nothing, and the weights go in a fixed-order list, not a dict of names.
        """
        import torch

        meta = {
            "format": _FORMAT, "columns": list(self.columns), "config": asdict(self.config), "device": self.device,
            "losses": [float(v) for v in self.losses],
        }  # fmt: skip
        payload = {
            "meta": json.dumps(meta, sort_keys=True),
            "mean": torch.from_numpy(self.mean.copy()),
            "scale": torch.from_numpy(self.scale.copy()),
            "weights": [self._weights[name].contiguous() for name in _WEIGHTS],
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FittedEncoder:
        """Load what ``to_bytes`` wrote; anything else (truncated, another format, wrong shapes) is a ValueError."""
        import torch

        try:
            payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises RuntimeError, EOFError or UnpicklingError depending on the damage
            raise ValueError(f"not a readable encoder archive ({len(data)} bytes): {error}") from error
        if not isinstance(payload, dict) or set(payload) != {"meta", "mean", "scale", "weights"}:
            found = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
            raise ValueError(f"not an encoder archive: holds {found}, expected meta, mean, scale and weights")
        try:
            meta = json.loads(payload["meta"])
        except (TypeError, ValueError) as error:
            raise ValueError(f"encoder archive meta is not JSON: {error}") from error
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
            raise ValueError(f"not an encoder archive: format is {found!r}, expected {_FORMAT!r}")
        known = {f.name for f in fields(EncoderConfig)}
        if not isinstance(meta.get("config"), dict) or set(meta["config"]) != known:
            raise ValueError(f"encoder archive config is {meta.get('config')!r}, expected the fields {sorted(known)}")
        config = EncoderConfig(**meta["config"])
        columns = meta.get("columns")
        if not (isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns)):
            raise ValueError(f"encoder archive columns must be a non-empty list of names, got {columns!r}")
        losses = meta.get("losses")
        if not (isinstance(losses, list) and all(isinstance(v, float) for v in losses)):
            raise ValueError(f"encoder archive losses must be a list of floats, got {losses!r}")
        if meta.get("device") not in ("cpu", "cuda"):
            raise ValueError(f"encoder archive device must be 'cpu' or 'cuda', got {meta.get('device')!r}")
        n = len(columns)
        for name in ("mean", "scale"):
            value = payload[name]
            if not (isinstance(value, torch.Tensor) and value.dtype == torch.float64 and tuple(value.shape) == (n,)):
                raise ValueError(f"encoder archive {name} must be {n} float64 values, one per column")
        if not bool(torch.all(payload["scale"] > 0)) or not bool(torch.all(torch.isfinite(payload["mean"]))):
            raise ValueError("encoder archive standardization holds non-finite means or non-positive scales")
        weights = _checked_weights(payload["weights"], n, config)
        return cls(columns, payload["mean"].numpy(), payload["scale"].numpy(), config, meta["device"], weights, losses)

    @property
    def version_hash(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()[:16]


def fit_encoder(
    frames: Sequence[pl.DataFrame],
    columns: Sequence[str],
    config: EncoderConfig = EncoderConfig(),
    device: str | None = None,
) -> FittedEncoder:
    """Train on the rows of all ``frames`` (every coin's features over ``encoder_window``), subsampled evenly.

    Global torch state (RNG, deterministic-algorithms flag) is set only for the fit and restored after it, so
    a caller's own torch work is not changed by training an encoder.
    """
    import torch

    device = select_device(device)
    columns = tuple(columns)
    if not columns or len(set(columns)) != len(columns):
        raise ValueError(f"encoder columns must be non-empty and distinct, got {list(columns)}")
    matrices = [_matrix(frame, columns, f"frame {i}") for i, frame in enumerate(frames)]
    rows = np.concatenate(matrices) if matrices else np.empty((0, len(columns)))
    if rows.shape[0] == 0:
        raise ValueError(f"no rows to train the encoder on ({len(matrices)} frames given)")
    if rows.shape[0] > config.max_rows:
        rows = rows[np.arange(config.max_rows) * rows.shape[0] // config.max_rows]
    mean, scale = _standardization(rows)
    x = torch.from_numpy(_standardized(rows, mean, scale))

    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cublas = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    try:
        if device == "cuda" and cublas is None:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # cuBLAS refuses deterministic mode without it
        torch.use_deterministic_algorithms(True)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            weights, losses, seconds = _train(x, config, device)
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        if device == "cuda" and cublas is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    return FittedEncoder(columns, mean, scale, config, device, weights, losses, seconds)


def _train(
    x: torch.Tensor, config: EncoderConfig, device: str
) -> tuple[dict[str, torch.Tensor], list[float], list[float]]:
    """Autoencoder input → hidden → embedding (tanh) → hidden → input on MSE; returns the encoder half on CPU."""
    import torch
    from torch import nn

    n_inputs = x.shape[1]
    f32 = torch.float32  # explicit, so a caller's default dtype cannot change the network
    sizes = {
        "enc_in": (n_inputs, config.hidden), "enc_out": (config.hidden, config.embedding_dim),
        "dec_in": (config.embedding_dim, config.hidden), "dec_out": (config.hidden, n_inputs),
    }  # fmt: skip
    net = nn.ModuleDict({name: nn.Linear(*size, dtype=f32) for name, size in sizes.items()}).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    shuffle = torch.Generator().manual_seed(config.seed)
    params = dict(net.named_parameters())
    data = x.to(device)
    losses, seconds = [], []
    for _ in range(config.epochs):
        started = time.perf_counter()
        total = torch.zeros((), device=device)
        for batch in torch.randperm(data.shape[0], generator=shuffle).to(device).split(config.batch_size):
            rows = data[batch]
            embedding = _encode(params, rows)
            loss = nn.functional.mse_loss(net["dec_out"](torch.relu(net["dec_in"](embedding))), rows)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * rows.shape[0]
        losses.append(total.item() / data.shape[0])  # .item() waits for the device, so the timing is honest
        seconds.append(time.perf_counter() - started)
    weights = {name: params[name].detach().to("cpu").clone() for name in _WEIGHTS}
    return weights, losses, seconds


def _encode(weights: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The encoder half, written once for training (on parameters) and inference (on the stored weights)."""
    import torch
    import torch.nn.functional as F

    hidden = torch.relu(F.linear(x, weights["enc_in.weight"], weights["enc_in.bias"]))
    return torch.tanh(F.linear(hidden, weights["enc_out.weight"], weights["enc_out.bias"]))


def _matrix(frame: pl.DataFrame, columns: Sequence[str], what: str) -> np.ndarray:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks encoder columns {missing}")
    wrong = [c for c in columns if not frame.schema[c].is_numeric()]
    if wrong:
        raise ValueError(f"{what} has non-numeric encoder columns {wrong}")
    values = frame.select(pl.col(c).cast(pl.Float64) for c in columns).to_numpy()
    return values.astype(np.float64, copy=False).reshape(frame.height, len(columns))


def _standardization(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over the finite values; a column without spread (or values) keeps scale 1."""
    finite = np.isfinite(rows)
    counts = finite.sum(axis=0)
    safe = np.where(finite, rows, 0.0)
    mean = np.divide(safe.sum(axis=0), counts, out=np.zeros(rows.shape[1]), where=counts > 0)
    spread = np.where(finite, rows - mean, 0.0)
    std = np.sqrt(np.divide((spread**2).sum(axis=0), counts, out=np.zeros(rows.shape[1]), where=counts > 0))
    scale = np.where(np.isfinite(std) & (std > 0), std, 1.0)
    return mean, scale


def _standardized(rows: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Float32 inputs of the network: a missing or infinite value becomes the training mean (0)."""
    with np.errstate(invalid="ignore", over="ignore"):
        z = (rows - mean) / scale
    return np.clip(np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0), -_CLIP, _CLIP).astype(np.float32)


def _padded(x: torch.Tensor) -> torch.Tensor:
    import torch

    pad = -x.shape[0] % _BLOCK_ROWS
    return torch.cat([x, x.new_zeros(pad, x.shape[1])]) if pad else x


def _checked_weights(weights: Any, n_inputs: int, config: EncoderConfig) -> dict[str, torch.Tensor]:
    import torch

    shapes = {
        "enc_in.weight": (config.hidden, n_inputs), "enc_in.bias": (config.hidden,),
        "enc_out.weight": (config.embedding_dim, config.hidden), "enc_out.bias": (config.embedding_dim,),
    }  # fmt: skip
    if not isinstance(weights, list) or len(weights) != len(_WEIGHTS):
        found = f"{len(weights)} items" if isinstance(weights, list) else type(weights).__name__
        raise ValueError(f"encoder archive weights are {found}, expected {len(_WEIGHTS)} tensors {list(_WEIGHTS)}")
    named: dict[str, torch.Tensor] = dict(zip(_WEIGHTS, weights, strict=True))
    for name, t in named.items():
        shape = shapes[name]
        if not isinstance(t, torch.Tensor) or t.dtype != torch.float32 or tuple(t.shape) != shape:
            got = (t.dtype, tuple(t.shape)) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"encoder archive weight {name} is {got}, expected float32 {shape}")
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"encoder archive weight {name} holds non-finite values")
    return named
