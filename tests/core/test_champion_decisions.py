"""Champion decisions on real data: real models traded on real bars with costs; foresight is promoted, a model
trained on shuffled labels never is, and the window never reaches before the champion's cutoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from huracan_core.champions.evaluation import Challenger, Incumbent, champion_decision, evaluation_window
from huracan_core.champions.promotion import PromotionRule
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.models.artifacts import write_model_folder
from huracan_core.models.day_models import feature_columns, model_files
from huracan_core.models.inputs import input_columns, model_bars
from huracan_core.models.lookahead_labels import label_bars
from huracan_core.models.policy import load_coin_model
from huracan_core.models.training import ModelConfig, train_coin_model
from huracan_core.models.walk_forward import WalkForwardConfig
from huracan_core.regimes import RegimeDetector
from huracan_core.storage import LocalArtifactStore
from huracan_core.trading.bars import join_bars
from huracan_core.trading.consensus import vote
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from tests.conftest import real_15m

SYMBOL = "ETH-USDT"
CHAMPION_CUTOFF = datetime(2024, 9, 16, tzinfo=UTC)
CUTOFF = datetime(2024, 9, 30, tzinfo=UTC)
CONFIG = ModelConfig(train_days=30, walk_forward=WalkForwardConfig(10, 5, 5), rounds=20)
RULE = PromotionRule(min_trades=5, reps=500)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    candles = real_15m(SYMBOL).filter(pl.col("timestamp") < CUTOFF + timedelta(days=1))
    features = FeatureRecipe.default("15m").compute(candles, symbol="ETH/USDT")
    regimes = RegimeDetector().detect(features)
    plain = join_bars([candles], [features], [regimes])
    signals = vote(plain, SYMBOL, costs=CostModel())
    labels = label_bars(plain, signals, SYMBOL, "15m", costs=CostModel())
    bars = model_bars([candles], [features], [regimes], [signals], [labels])
    columns = input_columns(feature_columns(features), signals, "15m")
    store = LocalArtifactStore(tmp_path_factory.mktemp("archive"))
    trained = train_coin_model(bars, columns, SYMBOL, "15m", CHAMPION_CUTOFF, config=CONFIG, costs=CostModel())
    folder = "models/ETH-USDT/15m/champion"
    write_model_folder(
        store,
        folder,
        model_files(trained, "recipe", None, config=CONFIG, costs=CostModel(), exchange="binance", exits=ExitConfig()),
    )
    card = {"symbol": SYMBOL, "timeframe": "15m", "model_folder": folder, "mlflow_version": "1"}
    incumbent = Incumbent(model=load_coin_model(store, folder), line={"champion": card})
    return {"bars": bars, "columns": columns, "incumbent": incumbent}


def _decide(world, challengers, incumbent="default", rule=RULE) -> dict:
    return champion_decision(
        SYMBOL,
        "15m",
        challengers,
        world["incumbent"] if incumbent == "default" else incumbent,
        world["bars"],
        decision_key="engine:test",
        source="engine",
        effective_from=CUTOFF,
        decided_at=CUTOFF,
        evaluation_days=7,
        rule=rule,
        costs=CostModel(),
    )


def _foresight(bars: pl.DataFrame, round_trip_bps: float = 20.0) -> pl.DataFrame:
    """Hourly trades by a model that knows the next hour's move: on the right side of it, paying a round trip."""
    move = ((pl.col("close").shift(-4) / pl.col("close") - 1) * 1e4).abs()
    return (
        bars.filter(pl.col("timestamp").dt.minute() == 0)
        .select(
            (pl.col("timestamp") + timedelta(minutes=15)).alias("entry_time"),
            (move - round_trip_bps).alias("net_bps"),
        )
        .drop_nulls()
    )


def test_the_window_never_reaches_before_the_champions_cutoff(world) -> None:
    start, end = evaluation_window(CUTOFF, 30, world["incumbent"])
    assert start == CHAMPION_CUTOFF and end == CUTOFF
    assert evaluation_window(CUTOFF, 7, world["incumbent"]) == (CUTOFF - timedelta(days=7), CUTOFF)
    assert evaluation_window(CUTOFF, 30, None)[0] == CUTOFF - timedelta(days=30)


def test_foresight_beats_the_real_champion_and_is_promoted(world) -> None:
    oracle = Challenger(
        "challengers/oracle", CUTOFF, True, "passed", _foresight(world["bars"]), {"mlflow_version": "2"}
    )
    line = _decide(world, [oracle])
    assert (
        line["promoted"]
        and line["champion_after"] == "challengers/oracle"
        and line["champion"]["mlflow_version"] == "2"
    )
    assert line["champion_before"] == "models/ETH-USDT/15m/champion"
    assert line["test"] == "stationary-bootstrap" and line["p_value"] < 0.05
    assert line["window"] == [(CUTOFF - timedelta(days=7)).isoformat(), CUTOFF.isoformat()]
    # the same oracle that failed its gates is never promoted, whatever its edge
    failed = Challenger("challengers/oracle", CUTOFF, False, "failed standard: sharpe", None)
    assert not _decide(world, [failed])["promoted"]


def test_a_model_trained_on_shuffled_labels_is_never_promoted(world) -> None:
    # a negative margin makes it trade, so it is judged on its trades, not turned away for having none
    config = ModelConfig(train_days=30, walk_forward=WalkForwardConfig(10, 5, 5), rounds=20, safety_margin_bps=-40.0)
    for seed in (1, 2, 3):
        control = train_coin_model(
            world["bars"],
            world["columns"],
            SYMBOL,
            "15m",
            CUTOFF,
            config=ModelConfig(**{**config.__dict__, "seed": seed}),
            costs=CostModel(),
            shuffle_labels=True,
        )
        trades = control.model.ledger
        window = trades.filter(pl.col("entry_time") >= CUTOFF - timedelta(days=7))
        assert window.height >= RULE.min_trades, "the control must trade to be judged"
        # even waved through its gates, it neither beats the champion nor, alone, earns after costs
        shuffled = Challenger(f"challengers/shuffled{seed}", CUTOFF, True, "gates waived for the test", trades)
        for incumbent in ("default", None):
            line = _decide(world, [shuffled], incumbent=incumbent)
            assert not line["promoted"], line["reason"]
        assert not control.passed  # and its own gates refuse it anyway


def test_a_challenger_trained_on_later_data_is_refused(world) -> None:
    late = Challenger("challengers/late", CUTOFF + timedelta(hours=1), True, "passed", _foresight(world["bars"]))
    with pytest.raises(ValueError, match="trained on later data"):
        _decide(world, [late])


def test_the_champion_offered_again_is_kept_without_a_test(world) -> None:
    same = Challenger("models/ETH-USDT/15m/champion", CUTOFF, True, "passed", _foresight(world["bars"]))
    line = _decide(world, [same])
    assert not line["promoted"] and line["test"] == "none" and line["champion_after"] == "models/ETH-USDT/15m/champion"
