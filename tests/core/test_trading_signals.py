"""Engines, consensus and the meta combiner: shape, hand-checked agreement rules, causality, and invariants of
decisions and ledgers that hold on any data.

The realistic frame is real BTC 15m candles with a stand-in for the feature recipe (simple causal expressions
under the recipe's column names) and a crude regime, so that these tests do not depend on the recipe's code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from huracan_core.storage.store import parquet_bytes
from huracan_core.trading.backtest import run_backtest
from huracan_core.trading.consensus import ConsensusConfig, combine, decide
from huracan_core.trading.costs import BPS, PAID_COLUMNS, CostModel, FeeSchedule
from huracan_core.trading.engines import (
    DEFAULT_ENGINES,
    UNAVAILABLE_ENGINES,
    engine_names,
    run_engines,
)
from huracan_core.trading.engines.base import Engine, EngineConfig
from huracan_core.trading.meta import MetaConfig, meta_weights
from tests.conftest import real_15m

CHEAP = CostModel(default_fees=FeeSchedule(maker_bps=0.0, taker_bps=1.0))
MAKER = CostModel(order_type="maker")
COSTS = [
    pytest.param(CostModel(), id="default_fees"),
    pytest.param(CHEAP, id="cheap_fees"),
    pytest.param(MAKER, id="maker_orders"),
]


def feature_frame(candles: pl.DataFrame) -> pl.DataFrame:
    c, h, lo, v = pl.col("close"), pl.col("high"), pl.col("low"), pl.col("volume")
    ret1 = c.pct_change()
    gain = ret1.clip(lower_bound=0).rolling_mean(14)
    loss = (-ret1).clip(lower_bound=0).rolling_mean(14)
    ma, sd = c.rolling_mean(20), c.rolling_std(20)
    hi20, lo20 = h.rolling_max(20), lo.rolling_min(20)
    atr = (h - lo).rolling_mean(14)
    frame = candles.with_columns(
        ret_1=ret1,
        ret_5=c.pct_change(5),
        ret_20=c.pct_change(20),
        ema_slope=c.ewm_mean(span=20, adjust=False).pct_change(),
        momentum_slope=c.pct_change(5).rolling_mean(5),
        trend_strength=c.pct_change(20) / ret1.rolling_std(50),
        htf_bias=(c - c.ewm_mean(span=200, adjust=False)).sign(),
        adx=(c.pct_change(20).abs() / ret1.rolling_std(50) * 10).clip(0, 100),
        rsi_14=100 * gain / (gain + loss),
        atr_14=atr,
        atr_pct=atr / c,  # a fraction of price, as the feature recipe emits it
        bb_position=((c - (ma - 2 * sd)) / (4 * sd)).clip(0, 1),
        bb_width_pct=4 * sd / ma,
        price_position=((c - lo20) / (hi20 - lo20)).clip(0, 1),
        volume_ratio=v / v.rolling_mean(20),
        volume_zscore=(v - v.rolling_mean(50)) / v.rolling_std(50),
        uptick_ratio=(c > pl.col("open")).cast(pl.Float64).rolling_mean(20),
        cmf=(((c - lo) - (h - c)) / (h - lo) * v).rolling_sum(20) / v.rolling_sum(20),
        obv=(ret1.sign() * v).cum_sum(),
        ignition=(h - lo) / atr,
        breakout_quality=(c - hi20.shift(1)) / atr,
        thrust=ret1 / ret1.rolling_std(50),
        nr7_density=((h - lo) <= (h - lo).rolling_min(7)).cast(pl.Float64).rolling_mean(20),
        compression=atr.rolling_mean(50) / atr,
        volatility_ratio=ret1.rolling_std(10) / ret1.rolling_std(50),
        mean_revert_bias=(ma - c) / sd,
        corr_btc=pl.rolling_corr(ret1, ret1.shift(1), window_size=50),
        beta_btc=pl.rolling_cov(ret1, ret1.shift(1), window_size=50) / ret1.rolling_var(50),
        rs_rank=((c - lo20) / (hi20 - lo20)).clip(0, 1).rolling_mean(10),
        spread_bps=(h - lo) / c * 1e4 * 0.05,
    ).with_columns(
        stoch_k=pl.col("price_position") * 100,
        stoch_d=(pl.col("price_position") * 100).rolling_mean(3),
        regime=pl.when(pl.col("volatility_ratio") > 1.6)
        .then(pl.lit("PANIC"))
        .when(pl.col("adx") > 25)
        .then(pl.lit("TREND"))
        .when(pl.col("adx").is_null())
        .then(pl.lit("UNKNOWN"))
        .otherwise(pl.lit("RANGE")),
    )
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None))


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    """About two weeks: enough for every engine to fire, short enough to re-run truncated many times."""
    return feature_frame(real_15m("BTC-USDT").head(1500))


@pytest.fixture(scope="module")
def half_year() -> pl.DataFrame:
    """2024-07..12: enough decisions and trades for the invariants below to be tested, not vacuous."""
    return feature_frame(real_15m("BTC-USDT"))


def test_every_engine_runs_vectorised(frame: pl.DataFrame) -> None:
    signals = run_engines(frame, DEFAULT_ENGINES)
    assert signals.height == frame.height
    for engine in DEFAULT_ENGINES:
        d, conf = signals[f"{engine.name}_direction"], signals[f"{engine.name}_confidence"]
        assert set(d.unique().to_list()) <= {-1, 0, 1}
        assert d.null_count() == 0 and conf.null_count() == 0
        assert conf.min() >= 0.0 and conf.max() <= 1.0
        assert ((d == 0) | (conf > 0)).all()
        assert (d != 0).sum() > 0, f"{engine.name} never fires"
        assert signals[f"{engine.name}_reason"].str.starts_with(engine.name).all()
    trend_affinity = signals["trend_affinity"].to_numpy()
    assert set(np.unique(trend_affinity[frame["regime"].to_numpy() == "TREND"])) == {1.0}
    assert set(np.unique(trend_affinity[frame["regime"].to_numpy() != "TREND"])) == {0.3}
    faked = set(engine_names(signals)) & {name for name, _ in UNAVAILABLE_ENGINES}
    assert not faked, f"engines listed as unavailable must not produce signals: {faked}"


def test_a_reason_names_the_side_and_the_strongest_signal(frame: pl.DataFrame) -> None:
    """Each bar's reason against the contributions themselves: warm-up while one is missing, no edge under the
    activation, else the side of the score and the first of the largest |contributions|."""
    signals = run_engines(frame, DEFAULT_ENGINES)
    kinds: set[str] = set()
    for engine in DEFAULT_ENGINES:
        names = list(engine.config.weights)
        parts = frame.with_columns(engine.contributions()).select(engine._column(n) for n in names).to_numpy()
        score = parts.sum(axis=1)
        valid = ~np.isnan(parts).any(axis=1)
        active = valid & (np.abs(score) >= engine.config.activation)
        strongest = np.abs(np.where(valid[:, None], parts, 0.0)).argmax(axis=1)  # numpy: the first of equal maxima
        want = [
            f"{engine.name}: warm-up"
            if not v
            else f"{engine.name}: no edge"
            if not a
            else f"{engine.name} {'long' if s > 0 else 'short'} on {names[i]}"
            for v, a, s, i in zip(valid, active, score, strongest, strict=True)
        ]
        assert signals[f"{engine.name}_reason"].to_list() == want
        kinds |= {w.split(": ")[1] if ": " in w else w.split()[1] for w in want}
    assert kinds == {"warm-up", "no edge", "long", "short"}  # every branch is exercised


def test_a_reason_on_a_tie_names_the_first_signal() -> None:
    engine = Engine(
        "pair",
        lambda: {"a": pl.col("x"), "b": pl.col("y")},
        EngineConfig(weights={"a": 1.0, "b": 1.0}, activation=0.1),
        requires=("x", "y"),
    )
    frame = pl.DataFrame({"timestamp": list(range(4)), "x": [0.5, 0.2, None, 0.01], "y": [0.5, -0.6, 0.3, 0.01]})
    assert engine.evaluate(frame)["reason"].to_list() == [
        "pair long on a",
        "pair short on b",
        "pair: warm-up",
        "pair: no edge",
    ]


def test_engine_missing_inputs_is_left_out(frame: pl.DataFrame) -> None:
    signals = run_engines(frame.drop("rs_rank"), DEFAULT_ENGINES)
    assert "leader_direction" not in signals.columns and "trend_direction" in signals.columns


def test_signals_and_decisions_are_causal(frame: pl.DataFrame) -> None:
    full_signals = run_engines(frame, DEFAULT_ENGINES)
    full = decide(frame, "BTC-USDT", costs=CostModel())
    for t in range(250, frame.height, 97):
        cut = frame.head(t + 1)
        assert run_engines(cut, DEFAULT_ENGINES).row(t) == full_signals.row(t)
        assert decide(cut, "BTC-USDT", costs=CostModel()).row(t) == full.row(t)


def _signals(directions: list[list[int]], confidence: float = 0.8) -> tuple[pl.DataFrame, pl.DataFrame]:
    n, m = len(directions), len(directions[0])
    frame = pl.DataFrame(
        {
            "timestamp": [datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(n)],
            "open": [100.0] * n,
            "close": [100.0] * n,
        }
    )
    columns: dict[str, list] = {"timestamp": frame["timestamp"].to_list()}
    for e in range(m):
        columns[f"e{e}_direction"] = [row[e] for row in directions]
        columns[f"e{e}_confidence"] = [confidence if row[e] else 0.0 for row in directions]
        columns[f"e{e}_reason"] = ["x"] * n
        columns[f"e{e}_affinity"] = [1.0] * n
    signals = pl.DataFrame(columns).with_columns(pl.col("^e.*_direction$").cast(pl.Int8))
    return frame, signals


@pytest.mark.parametrize(
    ("votes", "regime", "agreement", "confidence", "recommendation", "agreeing"),
    [
        ([1, 1, 1, 1], "TREND", "unanimous", 0.90, "TAKE", "e0,e1,e2,e3"),
        ([1, 1, 1, -1], "TREND", "strong", 0.85, "TAKE", "e0,e1,e2"),
        ([1, 1, 1, -1, -1], "TREND", "moderate", 0.80, "TAKE", "e0,e1,e2"),
        ([1, 1, -1, -1, 0], "TREND", "none", 0.0, "SKIP", ""),  # equal weighted vote: no direction
        ([-1, -1, 1, 0], "RANGE", "moderate", 0.80, "TAKE", "e0,e1"),  # 2 of 3 active engines = 0.67
        ([1, 1, 1, -1], "PANIC", "strong", 0.85, "SKIP", "e0,e1,e2"),  # PANIC: any disagreement skips
        ([1, 1, 1, 1], "PANIC", "unanimous", 0.90, "TAKE", "e0,e1,e2,e3"),
    ],
)
def test_agreement_rules(votes, regime, agreement, confidence, recommendation, agreeing) -> None:
    frame, signals = _signals([votes])
    frame = frame.with_columns(regime=pl.lit(regime))
    out = combine(frame, signals, pl.Series([10.0])).row(0, named=True)
    assert out["agreement"] == agreement
    assert out["confidence"] == pytest.approx(confidence)
    assert out["recommendation"] == recommendation
    assert out["engines_agreeing"] == agreeing
    if agreement != "none":
        assert out["direction"] == (1 if votes.count(1) > votes.count(-1) else -1)
        assert out["expected_edge_bps"] == pytest.approx(confidence * 30.0)  # ≥ 0.80 → 30 bps band


def test_weak_agreement_reduces_size_and_costs_can_skip() -> None:
    frame, signals = _signals([[1, 1, -1, -1]])
    # tilt the weighted vote towards long: e0 more confident
    signals = signals.with_columns(e0_confidence=pl.lit(1.0))
    out = combine(frame.with_columns(regime=pl.lit("TREND")), signals, pl.Series([5.0])).row(0, named=True)
    assert out["agreement"] == "weak" and out["recommendation"] == "REDUCE_SIZE"
    assert out["confidence"] == pytest.approx((1.0 + 0.8) / 2 - 0.05)
    # the same bar with a round trip that eats the edge (0.85 × 30 = 25.5 bps ≤ 23 + 3)
    out = combine(frame.with_columns(regime=pl.lit("TREND")), signals, pl.Series([23.0])).row(0, named=True)
    assert out["recommendation"] == "SKIP"
    # under the regime threshold: RANGE needs 0.55
    frame2, low = _signals([[1, 1, 1, 1]], confidence=0.4)
    out = combine(frame2.with_columns(regime=pl.lit("RANGE")), low, pl.Series([0.0])).row(0, named=True)
    assert out["confidence"] == pytest.approx(0.5) and out["recommendation"] == "SKIP"


def test_meta_combiner_is_causal_and_learns() -> None:
    rng = np.random.default_rng(1)
    n, h = 400, 5
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    directions = rng.choice([-1, 0, 1], size=(n, 3)).astype(np.int8)
    directions[:, 0] = np.sign(
        np.concatenate([close[h : n - 1] - open_[1 : n - h], np.zeros(h + 1)])
    )  # a perfect oracle
    cost = np.full(n, 2.0)
    config = MetaConfig(horizon_bars=h)
    weights = meta_weights(directions, open_, close, cost, config)
    assert np.all(weights[: h + 1] == 1.0)  # bar 0's outcome is known at the close of bar h, used from h + 1
    assert not np.all(weights[h + 1] == 1.0)
    assert weights[-1, 0] > 1.5 and weights[-1, 0] > weights[-1, 1]
    for t in range(10, n, 37):
        future = close.copy()
        future[t:] *= rng.uniform(0.5, 1.5, n - t)
        fut_open = open_.copy()
        fut_open[t:] *= rng.uniform(0.5, 1.5, n - t)
        other = directions.copy()
        other[t:] = -other[t:]
        changed = meta_weights(other, fut_open, future, cost, config)
        np.testing.assert_array_equal(changed[: t + 1], weights[: t + 1])


@pytest.mark.parametrize("costs", COSTS)
def test_a_traded_decision_always_passes_every_gate(half_year: pl.DataFrame, costs: CostModel) -> None:
    """Whatever the data and fees: a bar whose edge does not beat its round-trip cost plus the safety margin, that
    has no direction, divided agreement, a confidence under its regime's threshold, or dissent in PANIC is a SKIP."""
    config = ConsensusConfig()
    decisions = decide(half_year, "BTC-USDT", costs=costs, config=config)
    assert (decisions["cost_bps"] > 0).all()
    traded = decisions.filter(pl.col("recommendation") != "SKIP")
    assert (traded["expected_edge_bps"] > traded["cost_bps"] + config.safety_margin_bps).all()
    assert (traded["direction"] != 0).all()
    assert not traded["agreement"].is_in(["divided", "none"]).any()
    threshold = traded["regime"].replace_strict(dict(config.thresholds), return_dtype=pl.Float64)
    assert (traded["confidence"] >= threshold).all()
    assert (traded.filter(pl.col("regime") == "PANIC")["agreement"] == "unanimous").all()
    assert (traded["recommendation"].eq("REDUCE_SIZE") == traded["agreement"].eq("weak")).all()


@pytest.mark.parametrize("costs", COSTS)
def test_backtest_ledger_invariants_and_determinism(half_year: pl.DataFrame, costs: CostModel) -> None:
    """Every trade pays its fees on both legs, a taker leg also the spread and slippage, a perpetual position the
    funding it spans, so net is below gross by exactly what was paid; a maker entry the market never traded
    through is counted, not traded; the same inputs give the same bytes. (At default fees the sample may well
    trade nothing: the checks still hold.)"""
    runs = []
    for _ in range(2):
        decisions = decide(half_year, "BTC-USDT", costs=costs)
        runs.append((decisions, run_backtest(half_year, decisions, "BTC-USDT", "15m", costs=costs)))
    (decided, first), (decided_again, second) = runs
    ledger = first.ledger
    if costs is CHEAP:
        assert ledger.height > 0, "near-zero fees must trade on half a year, or the checks below test nothing"
    assert parquet_bytes(ledger) == parquet_bytes(second.ledger)
    assert parquet_bytes(decided) == parquet_bytes(decided_again)
    assert first.costs == second.costs and first.metrics == second.metrics
    per_bps = ledger["size"] / BPS  # quote currency per bps of the entry notional
    taker, maker = (costs.fee_bps("binance", "BTC-USDT", kind) for kind in ("taker", "maker"))
    if costs.order_type == "taker":
        np.testing.assert_allclose(ledger["fees_paid"], 2 * taker * per_bps)
        assert (ledger["spread_paid"] > 0).all() and (ledger["slippage_paid"] > 0).all()
        assert first.missed.is_empty()
    else:  # a maker entry; a take profit rests as a limit too, every other exit is a taker
        exit_fee = pl.when(ledger["exit_reason"] == "take_profit").then(maker).otherwise(taker)
        np.testing.assert_allclose(ledger["fees_paid"], (maker + ledger.select(exit_fee).to_series()) * per_bps)
        assert (
            ledger["entry_price"]
            == half_year["close"].filter(half_year["timestamp"].is_in(ledger["signal_time"].implode()))
        ).all()
    assert (ledger["spread_paid"] >= 0).all() and (ledger["slippage_paid"] >= 0).all()
    paid = ledger.select(pl.sum_horizontal(PAID_COLUMNS)).to_series() / per_bps
    np.testing.assert_allclose(ledger["gross_bps"] - ledger["net_bps"], paid, rtol=1e-9)
    assert (ledger["net_bps"] < ledger["gross_bps"]).all()
    assert ledger["trade_id"].is_unique().all()
    assert first.metrics["trade_count"] == ledger.height
    assert first.metrics["missed_entries"] == first.missed.height
    assert first.missed["signal_time"].is_in(ledger["signal_time"].implode()).not_().all()
