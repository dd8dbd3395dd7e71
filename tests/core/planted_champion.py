"""A small real champion planted in a store: one coin model trained on the bundled sample from day partitions
built the way the assets build them (features → regimes → signals → labels → ``train_model_partitions``), its
folder written as the ``coin_model`` asset writes it and a champion pointer at it, as the promotion writes it.
Hamilton's tests score with it and trade with it.

``python -m tests.core.planted_champion`` plants it in ``$HURACAN_HOME`` for a demonstration of ``make hamilton``
(the README's quickstart): no model of the sample passes its gates, so without it Hamilton only waits. It enters
at every bar and carries a made-up out-of-sample record for the risk manager to size by: it shows the machinery,
it is no edge."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from huracan_core.candles import day_start
from huracan_core.champions.hamilton import SIGNAL_WARMUP_DAYS
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import compute_feature_partitions
from huracan_core.models.artifacts import write_model_folder
from huracan_core.models.day_models import ModelPartition, train_model_partitions, write_model
from huracan_core.models.lookahead_labels import label_partitions
from huracan_core.models.training import ModelConfig
from huracan_core.models.walk_forward import WalkForwardConfig
from huracan_core.regimes import RegimeDetector
from huracan_core.sources import open_source
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import champion_pointer_key, model_folder_key, roster_key
from huracan_core.trading.costs import CostModel
from huracan_core.trading.signals import signal_partitions

TF = "15m"
COIN = "ETH-USDT"  # not the reference, so corr_btc/beta_btc and the reference's candles are exercised
PAIRS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "BNB-USDT", "XRP-USDT")
DAY = date(2024, 9, 1)  # the model of this day trains on 2024-08-02..08-31
#: the costs the signals, labels and models are priced at (the default model)
COSTS = CostModel()
CONFIG = ModelConfig(train_days=30, rounds=30, walk_forward=WalkForwardConfig(train_days=15, test_days=5, step_days=5))
STEP = timedelta(minutes=15)
#: a rule that enters at every bar (its thresholds are far below any edge): positions open and close within bars
EVERY_BAR = {"policy": "absolute", "margin_bps": -1000.0, "long_threshold_bps": -1000.0, "short_threshold_bps": -1000.0}


def sample_candles() -> dict[str, pl.DataFrame]:
    """The sample's candles of every pair up to two days after the model's day (the universe is all of them, as
    by default)."""
    source = open_source("bundled")
    return {p: source.fetch(p, TF, datetime(2024, 7, 1, tzinfo=UTC), day_start(DAY) + timedelta(days=2)) for p in PAIRS}


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def partitions(candles: dict[str, pl.DataFrame]) -> dict:
    """The coin's partitions the coin_model of DAY reads, built as the assets build them."""
    recipe = FeatureRecipe.default(TF)
    by_day = {}
    for symbol, frame in candles.items():
        frame = frame.filter(pl.col("timestamp") < day_start(DAY))
        parts = frame.with_columns(_day=pl.col("timestamp").dt.date()).partition_by(
            "_day", as_dict=True, include_key=False
        )
        by_day |= {(key[0], symbol): part for key, part in parts.items()}
    train = days(DAY - timedelta(days=CONFIG.train_days), DAY - timedelta(days=1))
    warm = days(train[0] - timedelta(days=SIGNAL_WARMUP_DAYS), train[-1])
    wanted = [(d, COIN) for d in warm]
    batch = compute_feature_partitions(recipe, by_day, wanted, {d: list(PAIRS) for d in warm})
    features = {(p.day, p.symbol): p.frame for p in batch.parts}
    detector = RegimeDetector()
    regimes = {k: detector.detect(f) for k, f in features.items()}
    own = {k: f for k, f in by_day.items() if k[1] == COIN}
    keys = [(d, COIN) for d in train]
    signals = signal_partitions(own, features, regimes, keys, warmup_days=SIGNAL_WARMUP_DAYS, costs=COSTS)
    labels = {
        (p.day, p.symbol): p.frame for p in label_partitions(own, features, regimes, signals, keys, TF, costs=COSTS)
    }
    return {"candles": own, "features": features, "regimes": regimes, "signals": signals, "labels": labels}


def train_plain(inputs: dict) -> ModelPartition:
    """The coin's model of DAY without the shared encoder."""
    (part,) = train_model_partitions(inputs, {}, [(DAY, COIN)], TF, config=CONFIG, costs=COSTS, use_encoder=False)
    return part


def publish(store: LocalArtifactStore, part: ModelPartition, **pointer: object) -> str:
    """The model folder written as the coin_model asset writes it, and a champion pointer at it (what the
    promotion writes)."""
    write_model(store, part)
    store.write_json(champion_pointer_key(COIN, TF), {
        "symbol": COIN, "timeframe": TF, "model_folder": part.folder, "mlflow_model": f"huracan-{COIN}", "mlflow_version": "3",
        "metrics": {}, "recipe_hash": FeatureRecipe.default(TF).version_hash, "promoted_at": "2024-09-01T00:00:00+00:00",
        "effective_from": "2024-09-01T00:00:00+00:00", "reason": "test", "decision_id": "d-1", **pointer,
    })  # fmt: skip
    return part.folder


def publish_as(store: LocalArtifactStore, part: ModelPartition, coin: str) -> str:
    """The coin model planted as ``coin``'s champion too: its ``config.json`` names the coin, its folder (the model
    of ``DAY``) has checksums of its own; the model itself is the one trained on ``COIN`` (what it scores is the
    coin's own candles and features)."""
    config = json.loads(part.files["config.json"]) | {"symbol": coin}
    folder = model_folder_key(coin, TF, day_start(DAY))
    write_model_folder(store, folder, part.files | {"config.json": json.dumps(config).encode()})
    store.write_json(
        champion_pointer_key(coin, TF),
        {
            "symbol": coin,
            "timeframe": TF,
            "model_folder": folder,
            "mlflow_version": "1",
            "effective_from": DAY.isoformat(),
        },
    )
    return folder


def with_record(part: ModelPartition, hit_rate: float = 0.55, profit_factor: float = 1.4) -> ModelPartition:
    """The model with an out-of-sample record to size by (the tiny model of the sample made no trades)."""
    metrics = json.loads(part.files["metrics.json"])
    metrics["aggregate"] |= {"hit_rate": hit_rate, "profit_factor": profit_factor, "trade_count": 60.0}
    return replace(part, files=part.files | {"metrics.json": json.dumps(metrics).encode()})


def with_decision(part: ModelPartition, decision: dict) -> ModelPartition:
    config = json.loads(part.files["config.json"]) | {"decision": decision}
    return replace(part, files=part.files | {"config.json": json.dumps(config).encode()})


def trading_champion(candles: dict[str, pl.DataFrame] | None = None) -> ModelPartition:
    """The coin's model entering at every bar, with a made-up out-of-sample record to size by."""
    return with_record(with_decision(train_plain(partitions(candles or sample_candles())), EVERY_BAR))


def plant(store: LocalArtifactStore, candles: dict[str, pl.DataFrame] | None = None) -> str:
    """``trading_champion`` published as the coin's champion, and a roster of DAY listing it alone: its folder."""
    folder = publish(store, trading_champion(candles))
    store.write_json(
        roster_key(TF), {"date": DAY.isoformat(), "symbols": [{"symbol": COIN, "trade_ok": True, "rank": 1}]}
    )
    return folder


def main() -> None:
    home = Path(os.environ.get("HURACAN_HOME", ".huracan")).resolve()
    folder = plant(LocalArtifactStore(home / "archive"))
    print(
        f"planted in {home / 'archive'}: {COIN}'s {TF} champion {folder} (trained on {DAY - CONFIG.train_days * timedelta(days=1)}"
        f"..{DAY - timedelta(days=1)}, entering at every bar, a made-up out-of-sample record: hit rate 55 %, profit "
        f"factor 1.4) and a roster of {DAY} listing it alone; make hamilton trades it from {DAY}"
    )


if __name__ == "__main__":
    main()
