"""Hamilton scores the newest closed candle with the champion exactly as the champion was trained to see it.

One small model is trained here on the real sample, from day partitions built the way the assets build them
(features → regimes → signals → labels → ``train_model_partitions``), written to a store, and pointed at by a
champion pointer. Hamilton, given nothing but plain candle frames, must then predict for the last bars of the
training window exactly the edges the kept booster predicted for them in training (``reference_scores``).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.champions.hamilton import (
    SIGNAL_WARMUP_DAYS,
    MissingCandlesError,
    NoChampionError,
    NotEnoughHistoryError,
    RecipeMismatchError,
    load_champion,
    score_latest,
)
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import compute_feature_partitions, history_days
from huracan_core.models.artifacts import CHECKSUMS, CorruptModelError
from huracan_core.models.day_models import ModelPartition, feature_columns, train_model_partitions, write_model
from huracan_core.models.encoder import EncoderConfig, fit_encoder
from huracan_core.models.inputs import feature_inputs
from huracan_core.models.lookahead_labels import label_partitions
from huracan_core.models.training import REFERENCE_BARS, ModelConfig
from huracan_core.models.walk_forward import WalkForwardConfig
from huracan_core.regimes import RegimeDetector
from huracan_core.sources import open_source
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import champion_pointer_key
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


@pytest.fixture(scope="module")
def candles() -> dict[str, pl.DataFrame]:
    """The sample's candles of every pair up to the model's day (the universe is all of them, as by default)."""
    source = open_source("bundled")
    return {p: source.fetch(p, TF, datetime(2024, 7, 1, tzinfo=UTC), day_start(DAY) + timedelta(days=2)) for p in PAIRS}


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _partitions(candles: dict[str, pl.DataFrame]) -> dict:
    """The coin's partitions the coin_model of DAY reads, built as the assets build them."""
    recipe = FeatureRecipe.default(TF)
    by_day = {}
    for symbol, frame in candles.items():
        frame = frame.filter(pl.col("timestamp") < day_start(DAY))
        parts = frame.with_columns(_day=pl.col("timestamp").dt.date()).partition_by(
            "_day", as_dict=True, include_key=False
        )
        by_day |= {(key[0], symbol): part for key, part in parts.items()}
    train = _days(DAY - timedelta(days=CONFIG.train_days), DAY - timedelta(days=1))
    warm = _days(train[0] - timedelta(days=SIGNAL_WARMUP_DAYS), train[-1])
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


@pytest.fixture(scope="module")
def inputs(candles) -> dict:
    return _partitions(candles)


@pytest.fixture(scope="module")
def plain_model(inputs) -> ModelPartition:
    (part,) = train_model_partitions(inputs, {}, [(DAY, COIN)], TF, config=CONFIG, costs=COSTS, use_encoder=False)
    return part


@pytest.fixture(scope="module")
def encoded_model(inputs) -> ModelPartition:
    """With a small encoder (one epoch over the coin's training features): its embedding joins the inputs."""
    frames = [
        inputs["features"][(d, COIN)] for d in _days(DAY - timedelta(days=CONFIG.train_days), DAY - timedelta(days=1))
    ]
    encoder = fit_encoder(frames, feature_inputs(feature_columns(frames[0]), TF), EncoderConfig(epochs=1), device="cpu")
    (part,) = train_model_partitions(
        inputs, {DAY: encoder}, [(DAY, COIN)], TF, config=CONFIG, costs=COSTS, use_encoder=True
    )
    return part


def publish(store: LocalArtifactStore, part: ModelPartition, **pointer) -> str:
    """The model folder written as the coin_model asset writes it, and a champion pointer at it (what the
    promotion writes)."""
    write_model(store, part)
    store.write_json(champion_pointer_key(COIN, TF), {
        "symbol": COIN, "timeframe": TF, "model_folder": part.folder, "mlflow_model": f"huracan-{COIN}", "mlflow_version": "3",
        "metrics": {}, "recipe_hash": FeatureRecipe.default(TF).version_hash, "promoted_at": "2024-09-01T00:00:00+00:00",
        "effective_from": "2024-09-01T00:00:00+00:00", "reason": "test", "decision_id": "d-1", **pointer,
    })  # fmt: skip
    return part.folder


def reference_scores(part: ModelPartition) -> list[dict]:
    scores = json.loads(part.files["metrics.json"])["reference_scores"]
    assert len(scores) == REFERENCE_BARS
    return scores


def until(candles: dict[str, pl.DataFrame], end: datetime) -> dict[str, pl.DataFrame]:
    """Every pair's candles opening before ``end``."""
    return {s: f.filter(pl.col("timestamp") < end) for s, f in candles.items()}


def assert_scores(score, expected: dict) -> None:
    assert score.timestamp == datetime.fromisoformat(expected["timestamp"])
    assert np.isclose(score.long_edge_bps, expected["long_edge_bps"], rtol=1e-9, atol=0.0)
    assert np.isclose(score.short_edge_bps, expected["short_edge_bps"], rtol=1e-9, atol=0.0)


@pytest.mark.parametrize("model", ["plain_model", "encoded_model"])
def test_the_score_of_a_bar_equals_the_one_computed_in_training(model, candles, tmp_path, request):
    part: ModelPartition = request.getfixturevalue(model)
    store = LocalArtifactStore(tmp_path)
    folder = publish(store, part)
    champion = load_champion(store, COIN, TF)
    assert (
        champion.model.folder == folder
        and champion.recipe.version_hash == json.loads(part.files["features.json"])["recipe_hash"]
    )
    assert (champion.model.encoder is not None) == (model == "encoded_model")
    assert champion.exchange == "binance" and champion.costs.fee_bps("binance", COIN) == 5.0  # the signals' costs
    last = reference_scores(part)[-1]
    bar = datetime.fromisoformat(last["timestamp"])
    assert bar == day_start(DAY) - STEP  # the window's last bar: 2024-08-31 23:45

    started = time.perf_counter()
    score = score_latest(store, COIN, TF, until(candles, bar + STEP))  # the candles end with the bar: now = its close
    seconds = time.perf_counter() - started
    assert_scores(score, last)
    assert score.symbol == COIN and score.model_folder == folder and score.mlflow_version == "3"
    assert score.as_of == bar + STEP and score.in_training_window
    # the rule the model folder records (thresholds per side, None: disabled), applied by hand
    decision = json.loads(part.files["config.json"])["decision"]
    assert decision["policy"] == CONFIG.decision_policy and decision["margin_bps"] == CONFIG.safety_margin_bps
    long_over = score.long_edge_bps - (
        decision["long_threshold_bps"] if decision["long_threshold_bps"] is not None else np.inf
    )
    short_over = score.short_edge_bps - (
        decision["short_threshold_bps"] if decision["short_threshold_bps"] is not None else np.inf
    )
    expected = (
        1 if long_over > 0 and long_over >= short_over else -1 if short_over > 0 and short_over > long_over else 0
    )
    assert score.decision == expected and score.margin_bps == CONFIG.safety_margin_bps
    assert score.rule == champion.model.rule.describe()
    assert seconds < 20, f"scoring took {seconds:.1f} s"

    # the earlier reference bars, from the whole candle history cut by ``now`` (later candles are left out)
    for row in reference_scores(part)[:-1]:
        t = datetime.fromisoformat(row["timestamp"])
        assert_scores(champion.score(candles, now=t + STEP), row)


def test_a_still_forming_candle_is_never_scored(plain_model, candles, tmp_path):
    store = LocalArtifactStore(tmp_path)
    publish(store, plain_model)
    last = reference_scores(plain_model)[-1]
    # the candles run into the next day, whose first candle (00:00) is still forming at 00:07
    given = until(candles, day_start(DAY) + STEP)
    score = score_latest(store, COIN, TF, given, now=day_start(DAY) + timedelta(minutes=7))
    assert_scores(score, last)
    # once it has closed, it is the one scored (a bar after the cutoff: out of sample)
    later = score_latest(store, COIN, TF, given)
    assert later.timestamp == day_start(DAY) and not later.in_training_window
    # a moment exactly at a close includes that candle
    assert score_latest(store, COIN, TF, candles, now=day_start(DAY) + STEP).timestamp == day_start(DAY)
    # what was scored is one row of the model's inputs; a moment without a time zone is refused
    bar = load_champion(store, COIN, TF).bar(candles, now=day_start(DAY))
    assert bar["timestamp"].to_list() == [day_start(DAY) - STEP] and set(
        json.loads(plain_model.files["features.json"])["columns"]
    ) <= set(bar.columns)
    with pytest.raises(ValueError, match="no time zone"):
        score_latest(store, COIN, TF, candles, now=datetime(2024, 9, 1))


def test_too_little_history_names_the_days_needed(plain_model, candles, tmp_path):
    store = LocalArtifactStore(tmp_path)
    publish(store, plain_model)
    needed = history_days(FeatureRecipe.default(TF)) + SIGNAL_WARMUP_DAYS
    short = {
        s: f.filter(pl.col("timestamp") >= day_start(DAY - timedelta(days=needed - 1))) for s, f in candles.items()
    }
    first = (DAY - timedelta(days=needed + 1)).isoformat()  # the scored bar's day is the day before DAY
    with pytest.raises(
        NotEnoughHistoryError, match=rf"needs {needed} whole days of candles before 2024-08-31 \(from {first}"
    ):
        score_latest(store, COIN, TF, short, now=day_start(DAY))
    assert load_champion(store, COIN, TF).history_days == needed


def test_the_candles_the_recipe_reads_must_be_given(plain_model, candles, tmp_path):
    store = LocalArtifactStore(tmp_path)
    publish(store, plain_model)
    now = day_start(DAY)
    without_reference = {s: f for s, f in candles.items() if s != "BTC-USDT"}
    with pytest.raises(MissingCandlesError, match="no candles of BTC-USDT given.*reference BTC-USDT"):
        score_latest(store, COIN, TF, without_reference, now=now, universe=list(without_reference))
    with pytest.raises(MissingCandlesError, match="no candles of ETH-USDT given"):
        score_latest(store, COIN, TF, {"BTC-USDT": candles["BTC-USDT"]}, now=now)
    with pytest.raises(MissingCandlesError, match="XRP-USDT"):
        score_latest(store, COIN, TF, {s: candles[s] for s in ("BTC-USDT", "ETH-USDT")}, now=now, universe=list(PAIRS))
    gap = dict(candles, **{"SOL-USDT": candles["SOL-USDT"].filter(pl.col("timestamp").dt.date() != date(2024, 8, 20))})
    with pytest.raises(MissingCandlesError, match=r"SOL-USDT \(2024-08-20\)"):
        score_latest(store, COIN, TF, gap, now=now)


def test_no_pointer_means_no_champion(tmp_path):
    with pytest.raises(
        NoChampionError,
        match=r"ETH-USDT has no 15m champion.*champion/ETH-USDT/15m/latest\.json.*champions/roster/15m/latest\.json",
    ):
        load_champion(LocalArtifactStore(tmp_path), "ETH/USDT", TF)


def test_a_tampered_model_is_refused_naming_folder_and_file(plain_model, tmp_path):
    store = LocalArtifactStore(tmp_path)
    folder = publish(store, plain_model)
    path = tmp_path / folder / "model.bin"
    path.write_bytes(path.read_bytes().replace(b"leaf_value=", b"leaf_value=1", 1))
    with pytest.raises(CorruptModelError, match=rf"{folder}: model\.bin has sha256"):
        load_champion(store, COIN, TF)


def test_a_pointer_at_an_unfinished_folder_is_refused(plain_model, tmp_path):
    store = LocalArtifactStore(tmp_path)
    folder = publish(store, plain_model)
    (tmp_path / folder / CHECKSUMS).unlink()
    with pytest.raises(CorruptModelError, match=rf"{folder}: incomplete: no sha256\.txt"):
        load_champion(store, COIN, TF)


def test_a_model_of_another_recipe_is_refused_naming_both_hashes(plain_model, tmp_path):
    store = LocalArtifactStore(tmp_path)
    spec = json.loads(plain_model.files["features.json"]) | {"recipe_hash": "0123456789ab"}
    other = replace(plain_model, files=plain_model.files | {"features.json": json.dumps(spec).encode()})
    publish(store, other, recipe_hash="0123456789ab")
    current = FeatureRecipe.default(TF).version_hash
    with pytest.raises(RecipeMismatchError, match=rf"recipe 0123456789ab, but this code computes recipe {current}"):
        load_champion(store, COIN, TF)
    publish(store, plain_model, recipe_hash="0123456789ab")  # a pointer that disagrees with its model's features.json
    with pytest.raises(RecipeMismatchError, match=rf"names recipe 0123456789ab.*trained on recipe {current}"):
        load_champion(store, COIN, TF)


def _with_decision(part: ModelPartition, decision: dict) -> ModelPartition:
    config = json.loads(part.files["config.json"]) | {"decision": decision}
    return replace(part, files=part.files | {"config.json": json.dumps(config).encode()})


def test_the_decision_is_the_traders_under_the_models_rule(plain_model, candles, tmp_path):
    """The same model under thresholds below both edges must take the side with the larger edge, as the trader
    would; with the long disabled by its calibration, the short."""
    store = LocalArtifactStore(tmp_path)
    absolute = {
        "policy": "absolute",
        "margin_bps": -1000.0,
        "long_threshold_bps": -1000.0,
        "short_threshold_bps": -1000.0,
    }
    publish(store, _with_decision(plain_model, absolute))
    last = reference_scores(plain_model)[-1]
    score = score_latest(store, COIN, TF, candles, now=day_start(DAY))
    assert_scores(score, last)
    assert score.margin_bps == -1000.0
    assert score.decision == (1 if last["long_edge_bps"] >= last["short_edge_bps"] else -1)
    assert score.expected_edge_bps == max(score.long_edge_bps, score.short_edge_bps)

    short_only = absolute | {"policy": "calibrated", "long_threshold_bps": None}
    publish(store, _with_decision(plain_model, short_only))
    score = score_latest(store, COIN, TF, candles, now=day_start(DAY))
    assert score.decision == -1 and score.rule == "calibrated: long disabled, short > -1000.0 bps"
