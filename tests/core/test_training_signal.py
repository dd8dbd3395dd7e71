"""Coin models judged by their signal and traded by thresholds chosen inside the training window.

Real ETH candles through the pipeline's own steps (features → regimes → votes → lookahead labels → model bars),
once as they are and once with a planted input: ``planted`` holds, at each bar, the move of the trades entered
after it, blurred by noise of 0.3 times its spread — information no real feature has, so a model that learns from it
must show signal, and a rule calibrated on its training window must trade it profitably after costs.

The labels and trades use exits that let a winner run (``EXITS``: take profit at 120 bps, trailing from 60): the
default take profit (15–30 bps) is below a round trip's costs (~25 bps on ETH), so under it even a foreseen move
nets about nothing, and the test would measure the exits instead of the model.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from huracan_core.features.recipe import FeatureRecipe
from huracan_core.models.calibration import calibrate_side
from huracan_core.models.day_models import feature_columns
from huracan_core.models.inputs import input_columns, model_bars
from huracan_core.models.lookahead_labels import label_bars
from huracan_core.models.policy import DecisionRule, model_decisions
from huracan_core.models.training import ModelConfig, train_coin_model
from huracan_core.models.walk_forward import WalkForwardConfig, calibration_split, purged_walk_forward
from huracan_core.regimes import RegimeDetector
from huracan_core.trading.bars import join_bars
from huracan_core.trading.consensus import vote
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from tests.conftest import real_15m

SYMBOL = "ETH-USDT"
CUTOFF = datetime(2024, 9, 30, tzinfo=UTC)
CONFIG = ModelConfig(train_days=30, walk_forward=WalkForwardConfig(10, 5, 5), rounds=40)
PLANTED = "planted"
#: the default profile, priced by the recorded quote table
COSTS = CostModel()
EXITS = ExitConfig(take_profit_bands=((0.0, 120.0),), trail_start_bps=60.0)


@pytest.fixture(scope="module")
def real() -> tuple[pl.DataFrame, list[str]]:
    candles = real_15m(SYMBOL).filter(pl.col("timestamp") < CUTOFF + timedelta(days=1))
    features = FeatureRecipe.default("15m").compute(candles, symbol="ETH/USDT")
    regimes = RegimeDetector().detect(features)
    plain = join_bars([candles], [features], [regimes])
    signals = vote(plain, SYMBOL, costs=COSTS)
    labels = label_bars(plain, signals, SYMBOL, "15m", exits=EXITS, costs=COSTS)
    bars = model_bars([candles], [features], [regimes], [signals], [labels])
    return bars, input_columns(feature_columns(features), signals, "15m")


@pytest.fixture(scope="module")
def planted(real) -> tuple[pl.DataFrame, list[str]]:
    bars, columns = real
    move = ((pl.col("long_net_bps") - pl.col("short_net_bps")) / 2).fill_null(0.0)
    noise = np.random.default_rng(11).normal(size=bars.height)
    scale = float(bars.select(move.std()).item())
    return bars.with_columns((move + pl.Series(noise) * scale * 0.3).alias(PLANTED)), [*columns, PLANTED]


@pytest.fixture(scope="module")
def planted_model(planted):
    bars, columns = planted
    return train_coin_model(bars, columns, SYMBOL, "15m", CUTOFF, config=CONFIG, exits=EXITS, costs=COSTS)


def test_a_planted_signal_shows_in_the_ic_and_the_calibrated_rule_trades_it_past_the_gates(planted_model) -> None:
    signal = planted_model.signal
    assert signal is not None and len(signal.folds) == len(planted_model.folds)
    assert signal.ic_mean > 0.2 and signal.pooled_ic > 0.2
    assert signal.q5_minus_q1_bps > 0 and all(f.quintiles.top_minus_bottom > 0 for f in signal.folds)
    assert planted_model.decision_policy == "calibrated" and planted_model.model is planted_model.policies["calibrated"]
    assert planted_model.passed, planted_model.gates.summary()
    calibrated = planted_model.policies["calibrated"].aggregate
    assert calibrated["trade_count"] >= 100 and calibrated["net_pnl"] > 0
    # the kept model trades with the last fold's thresholds, recorded per side
    last = planted_model.folds[-1]
    rule = planted_model.rule
    assert (rule.long_threshold_bps, rule.short_threshold_bps) == (
        last["calibrated_long_threshold_bps"],
        last["calibrated_short_threshold_bps"],
    )
    assert rule.long_threshold_bps is not None or rule.short_threshold_bps is not None
    assert planted_model.break_even_fee_bps is not None and planted_model.break_even_fee_bps >= planted_model.fee_bps
    document = planted_model.metrics_document()
    assert document["decision_rule"] == rule.to_dict() and set(document["policies"]) == {"absolute", "calibrated"}
    assert document["signal"]["ic_mean"] == signal.ic_mean and document["signal_summary"].startswith("IC ")


def test_shuffled_labels_show_no_signal_and_fail_the_gates(planted) -> None:
    bars, columns = planted
    control = train_coin_model(
        bars, columns, SYMBOL, "15m", CUTOFF, config=CONFIG, exits=EXITS, costs=COSTS, shuffle_labels=True
    )
    signal = control.signal
    assert signal is not None
    # within noise: a handful of standard errors of the folds' mean IC, and far below the planted signal's
    noise = 3 * signal.ic_std / math.sqrt(len(signal.folds))
    assert abs(signal.ic_mean) < max(noise, 0.1), signal.summary()
    assert not control.passed, control.gates.summary()


def test_the_calibration_slice_lies_between_the_fit_rows_labels_and_the_test_window(real) -> None:
    bars, _ = real
    start = CUTOFF - timedelta(days=CONFIG.train_days)
    window = bars.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < CUTOFF))
    known = window.select(pl.when(pl.col("label_end") < CUTOFF).then(pl.col("label_end")))["label_end"]
    bar = timedelta(minutes=15)
    embargo = bar * CONFIG.walk_forward.embargo_bars
    times, ends = window["timestamp"], known
    folds = purged_walk_forward(times, known, start, CUTOFF, bar, CONFIG.walk_forward)
    assert len(folds) == 4
    for fold in folds:
        inner = calibration_split(
            fold, times, known, bar, CONFIG.calibration_fraction, CONFIG.walk_forward.embargo_bars
        )
        assert inner.fit.size and inner.calibration.size and inner.purged > 0
        assert set(inner.fit) | set(inner.calibration) <= set(fold.train)
        assert not set(inner.calibration) & set(fold.test) and not set(inner.fit) & set(inner.calibration)
        slice_times = times.gather(inner.calibration)
        assert slice_times.min() >= inner.start and slice_times.max() < fold.test_start
        # no label the booster fits on reaches the slice (nor the embargo before it) ...
        assert ends.gather(inner.fit).max() < inner.start - embargo
        # ... and no label of the slice reaches the test window (nor the embargo before it)
        assert ends.gather(inner.calibration).max() < fold.test_start - embargo
        assert inner.start == fold.test_start - (fold.test_start - fold.train_start) * CONFIG.calibration_fraction


def test_thresholds_come_only_from_the_slice(planted, planted_model) -> None:
    """Every label of the last test window changed: no fold's thresholds move (the kept booster may)."""
    bars, columns = planted
    last_test = datetime.fromisoformat(str(planted_model.folds[-1]["test_start"]))
    later = pl.col("timestamp") >= last_test
    changed = bars.with_columns(
        pl.when(later).then(-pl.col(c)).otherwise(pl.col(c)).alias(c) for c in ("long_net_bps", "short_net_bps")
    )
    again = train_coin_model(changed, columns, SYMBOL, "15m", CUTOFF, config=CONFIG, exits=EXITS, costs=COSTS)
    assert again.calibration == planted_model.calibration
    assert again.rule == planted_model.rule
    assert again.signal is not None and planted_model.signal is not None
    assert again.signal.folds[-1].ic != planted_model.signal.folds[-1].ic  # the test window itself did change


def test_calibrate_side_by_hand() -> None:
    predicted = np.arange(100, dtype=float)
    realized = np.where(predicted >= 80, 40.0, -10.0) + np.tile([-1.0, 1.0], 50)
    grid = (0.5, 0.8, 0.9)
    chosen = calibrate_side(predicted, realized, grid, margin_bps=3.0, min_entries=10, z=1.0)
    # q 0.8 → threshold 79.2: the 20 bars 80..99, mean 40, sd ≈ 1.03 → bound ≈ 39.77 (q 0.9 has 10 bars, a
    # wider standard error); q 0.5 mixes in losers
    top = realized[predicted > 79.2]
    assert chosen.quantile == 0.8 and chosen.threshold_bps == pytest.approx(79.2) and chosen.entries == 20
    assert chosen.lower_bound_bps == pytest.approx(top.mean() - top.std(ddof=1) / math.sqrt(20))
    # too few entries on every candidate, or a bound under the margin: the side is disabled
    assert calibrate_side(predicted, realized, grid, 3.0, min_entries=60, z=1.0).threshold_bps is None
    assert calibrate_side(predicted, realized, grid, margin_bps=45.0, min_entries=10, z=1.0).threshold_bps is None
    # unknown outcomes are left out, constant predictions select nothing
    assert calibrate_side(predicted, np.full(100, np.nan), grid, 3.0, 10, 1.0).slice_rows == 0
    flat = calibrate_side(np.zeros(100), realized, grid, 3.0, 10, 1.0)
    assert flat.threshold_bps is None and flat.entries == 0 and math.isnan(flat.mean_net_bps)


def test_the_rules_decide_per_side_and_the_absolute_rule_is_the_margin(real) -> None:
    bars = real[0].head(6)
    long_edge = np.array([5.0, 2.0, 9.0, -1.0, 4.0, np.nan])
    short_edge = np.array([4.0, 6.0, 9.0, -2.0, 20.0, 1.0])
    absolute = model_decisions(bars, long_edge, short_edge, DecisionRule.absolute(3.0), "v")
    assert absolute["direction"].to_list() == [1, -1, 1, 0, -1, 0]
    only_long = DecisionRule("calibrated", 3.0, 4.5, None)
    assert only_long.decide(bars, long_edge, short_edge, "v")["direction"].to_list() == [1, 0, 1, 0, 0, 0]
    # both enabled: the side that clears its own threshold by more (short 20 − 18 < long 4 − 1)
    both = DecisionRule("calibrated", 3.0, 1.0, 18.0)
    assert both.decide(bars, long_edge, short_edge, "v")["direction"].to_list() == [1, 1, 1, 0, 1, 0]
    assert DecisionRule.from_config({"decision": only_long.to_dict(), "safety_margin_bps": 3.0}) == only_long
    assert DecisionRule.from_config({"safety_margin_bps": 2.0}) == DecisionRule.absolute(2.0)  # an older folder
    with pytest.raises(ValueError, match="decision policy 'median'"):
        DecisionRule("median", 3.0, None, None)
    with pytest.raises(ValueError, match="decision_policy 'median'"):
        ModelConfig(decision_policy="median")
