"""Hamilton scores the newest closed candle with the champion exactly as the champion was trained to see it.

One small model is trained on the real sample and planted in a store with a champion pointer at it
(``planted_champion``). Hamilton, given nothing but plain candle frames, must then predict for the last bars of the
training window exactly the edges the kept booster predicted for them in training (``reference_scores``).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import date, datetime, timedelta

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
from huracan_core.features.windows import history_days
from huracan_core.models.artifacts import CHECKSUMS, CorruptModelError
from huracan_core.models.day_models import ModelPartition, feature_columns, train_model_partitions
from huracan_core.models.encoder import EncoderConfig, fit_encoder
from huracan_core.models.inputs import feature_inputs
from huracan_core.models.training import REFERENCE_BARS
from huracan_core.regimes import REGIMES
from huracan_core.storage import LocalArtifactStore
from tests.core.planted_champion import (
    COIN,
    CONFIG,
    COSTS,
    DAY,
    PAIRS,
    STEP,
    TF,
    days,
    partitions,
    publish,
    sample_candles,
    train_plain,
    with_decision,
)


@pytest.fixture(scope="module")
def candles() -> dict[str, pl.DataFrame]:
    return sample_candles()


@pytest.fixture(scope="module")
def inputs(candles) -> dict:
    return partitions(candles)


@pytest.fixture(scope="module")
def plain_model(inputs) -> ModelPartition:
    return train_plain(inputs)


@pytest.fixture(scope="module")
def encoded_model(inputs) -> ModelPartition:
    """With a small encoder (one epoch over the coin's training features): its embedding joins the inputs."""
    frames = [
        inputs["features"][(d, COIN)] for d in days(DAY - timedelta(days=CONFIG.train_days), DAY - timedelta(days=1))
    ]
    encoder = fit_encoder(frames, feature_inputs(feature_columns(frames[0]), TF), EncoderConfig(epochs=1), device="cpu")
    (part,) = train_model_partitions(
        inputs, {DAY: encoder}, [(DAY, COIN)], TF, config=CONFIG, costs=COSTS, use_encoder=True
    )
    return part


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
    # what the exits and the risk manager read of the bar, and the record position sizing bets on
    candle = candles[COIN].filter(pl.col("timestamp") == bar).row(0, named=True)
    assert score.close == candle["close"] and score.regime in REGIMES
    assert score.volatility_percentile is not None and 0.0 <= score.volatility_percentile <= 1.0
    assert champion.out_of_sample == json.loads(part.files["metrics.json"])["aggregate"]
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
    publish(store, with_decision(plain_model, absolute))
    last = reference_scores(plain_model)[-1]
    score = score_latest(store, COIN, TF, candles, now=day_start(DAY))
    assert_scores(score, last)
    assert score.margin_bps == -1000.0
    assert score.decision == (1 if last["long_edge_bps"] >= last["short_edge_bps"] else -1)
    assert score.expected_edge_bps == max(score.long_edge_bps, score.short_edge_bps)

    short_only = absolute | {"policy": "calibrated", "long_threshold_bps": None}
    publish(store, with_decision(plain_model, short_only))
    score = score_latest(store, COIN, TF, candles, now=day_start(DAY))
    assert score.decision == -1 and score.rule == "calibrated: long disabled, short > -1000.0 bps"
