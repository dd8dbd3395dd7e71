"""Which model may trade: the champion in force (verified), never one trained into the day; shuffled labels fail."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.desk.shadow_day import trade_partitions
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.models.choice import choose_models
from huracan_core.models.day_models import feature_columns
from huracan_core.models.inputs import input_columns, model_bars
from huracan_core.models.lookahead_labels import label_bars
from huracan_core.models.training import ModelConfig, train_coin_model
from huracan_core.models.walk_forward import WalkForwardConfig
from huracan_core.regimes import RegimeDetector
from huracan_core.storage import LocalArtifactStore
from huracan_core.trading.consensus import vote
from huracan_core.trading.costs import CostModel
from tests.conftest import real_15m

DAY = date(2024, 9, 10)


def _champion(folder: str | None, reason: str) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "day": DAY,
                "symbol": "BTC-USDT",
                "champion_folder": folder,
                "trade_ok": folder is not None,
                "reason": reason,
            }
        ],
        schema_overrides={"champion_folder": pl.String},
    )


def test_a_coin_without_champion_is_traded_by_the_rules_and_says_why(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    champions = {(DAY, "BTC-USDT"): _champion(None, "no champion: no challenger passed its gates")}
    models, reasons = choose_models(store, champions, [(DAY, "BTC/USDT")])
    assert models == {}
    assert reasons[(DAY, "BTC/USDT")] == "rules-only: no champion (no champion: no challenger passed its gates)"
    with pytest.raises(Exception, match=r"no champion .*2024-09-10\|ETH-USDT"):
        choose_models(store, champions, [(DAY, "ETH-USDT")])


def test_the_champion_must_verify_or_the_day_fails_naming_it(tmp_path) -> None:
    champions = {(DAY, "BTC-USDT"): _champion("models/BTC-USDT/15m/20240910_000000Z", "first champion")}
    with pytest.raises(
        Exception, match=r"shadow_trades 2024-09-10\|BTC-USDT.*models/BTC-USDT/15m/20240910_000000Z.*sha256"
    ):
        choose_models(LocalArtifactStore(tmp_path), champions, [(DAY, "BTC-USDT")])


def test_the_trader_refuses_a_model_trained_past_the_start_of_its_day() -> None:
    class Peeking:
        folder, cutoff = "models/x", day_start(DAY) + timedelta(minutes=15)

    empty = {(DAY, "BTC-USDT"): pl.DataFrame({"timestamp": pl.Series([], dtype=pl.Datetime("us", "UTC"))})}
    with pytest.raises(AssertionError, match="after the day began"):
        trade_partitions(
            empty,
            empty,
            empty,
            empty,
            [(DAY, "BTC-USDT")],
            "15m",
            models={(DAY, "BTC-USDT"): Peeking()},
            costs=CostModel(),
        )


@pytest.fixture(scope="module")
def eth_bars() -> pl.DataFrame:
    candles = real_15m("ETH-USDT").filter(pl.col("timestamp") < datetime(2024, 10, 1, tzinfo=UTC))
    features = FeatureRecipe.default("15m").compute(candles, symbol="ETH/USDT")
    regimes = RegimeDetector().detect(features)
    from huracan_core.trading.bars import join_bars

    bars = join_bars([candles], [features], [regimes])
    signals = vote(bars, "ETH-USDT", costs=CostModel())
    labels = label_bars(bars, signals, "ETH-USDT", "15m", costs=CostModel())
    return model_bars([candles], [features], [regimes], [signals], [labels]), features, signals


def test_shuffled_labels_of_real_data_fail_the_gates(eth_bars) -> None:
    bars, features, signals = eth_bars
    columns = input_columns(feature_columns(features), signals, "15m")
    config = ModelConfig(train_days=60, walk_forward=WalkForwardConfig(20, 10, 10), rounds=40)
    control = train_coin_model(
        bars,
        columns,
        "ETH-USDT",
        "15m",
        datetime(2024, 9, 30, tzinfo=UTC),
        config=config,
        costs=CostModel(),
        shuffle_labels=True,
    )
    assert not control.passed and control.gates.failed
    assert control.model.aggregate["trade_count"] >= 0 and len(control.folds) == 4
    # every figure of the verdict is there to read, baselines beside it
    assert set(control.baselines) == {"rules", "flat"} and control.baselines["flat"].aggregate["trade_count"] == 0
    # how far it is from useful: the fee at which it would pass (never above the one it pays), its best edge
    assert control.break_even_fee_bps is None or 0.0 <= control.break_even_fee_bps <= control.fee_bps
    assert math.isfinite(control.model.aggregate["best_predicted_edge_bps"])
