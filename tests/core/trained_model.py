"""A ``TrainedModel`` built in the test, to track without training on candles: a real (tiny) LightGBM booster,
out-of-sample ledgers of a few dozen trades spread over three folds, the signal's diagnostics and the gates' verdict
on those figures. The tracking tests and the MLflow UI test log it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from huracan_core.models.artifacts import REQUIRED_FILES
from huracan_core.models.diagnostics import signal_diagnostics
from huracan_core.models.gates import evaluate_gates
from huracan_core.models.policy import DecisionRule
from huracan_core.models.training import PolicyResult, TrainedModel
from huracan_core.trading.metrics import summary

CAPITAL = 10_000.0
CUTOFF = datetime(2024, 12, 1, tzinfo=UTC)
START = CUTOFF - timedelta(days=3)
BAR = timedelta(minutes=15)
FOLDS = 3
FOLD_BARS = 96
TAGS = {"dagster_run_id": "run-8f1c", "partition": "2024-12-01|BTC-USDT", "recipe_hash": "a1b2c3d4"}
FOLD_KEYS = ("sharpe", "net_pnl", "hit_rate", "trade_count", "max_drawdown")


def booster_text() -> tuple[str, dict[str, float]]:
    """A real (tiny) LightGBM model: 200 random rows, 3 features, 5 rounds."""
    import lightgbm

    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 3))
    y = x[:, 0] * 2 + rng.normal(size=200)
    params = {
        "objective": "regression",
        "num_leaves": 4,
        "min_data_in_leaf": 10,
        "verbose": -1,
        "seed": 1,
        "num_threads": 1,
    }
    booster = lightgbm.train(
        params, lightgbm.Dataset(x, y, feature_name=["rsi_14", "atr_bps", "side"]), num_boost_round=5
    )
    gains = booster.feature_importance(importance_type="gain")
    return booster.model_to_string(), {n: float(g) for n, g in zip(booster.feature_name(), gains, strict=True)}


def ledger(trades: int, seed: int) -> pl.DataFrame:
    """``trades`` trades spread over the folds' test bars (an empty ledger has the same columns)."""
    rng = np.random.default_rng(seed)
    exits = sorted(rng.choice(FOLDS * FOLD_BARS, size=trades, replace=False)) if trades else []
    gross = rng.normal(8.0, 30.0, size=trades)
    net = gross - 6.0
    size = np.full(trades, 1_000.0)
    return pl.DataFrame(
        {
            "exit_time": pl.Series([START + int(i) * BAR for i in exits], dtype=pl.Datetime("us", "UTC")),
            "size": size,
            "gross_bps": gross,
            "net_bps": net,
            "net_pnl": net * size / 1e4,
            "fees_paid": size * 4e-4,
            "spread_paid": size * 1e-4,
            "slippage_paid": size * 1e-4,
            "funding_paid": size * 0.0,
        }
    )


def policy(trades: pl.DataFrame) -> PolicyResult:
    times = [START + i * BAR for i in range(FOLDS * FOLD_BARS)]
    folds = []
    for f in range(FOLDS):
        bars = pl.Series(times[f * FOLD_BARS : (f + 1) * FOLD_BARS], dtype=pl.Datetime("us", "UTC"))
        part = trades.filter(pl.col("exit_time").is_in(bars.implode()))
        folds.append(summary(part, "15m", CAPITAL, bars, missed_entries=0))
    aggregate = summary(trades, "15m", CAPITAL, pl.Series(times, dtype=pl.Datetime("us", "UTC")), missed_entries=0)
    return PolicyResult(folds=folds, aggregate=aggregate, ledger=trades)


def trained_model(symbol: str = "BTC/USDT", model_trades: int = 40, sharpe_gap: float = 0.2) -> TrainedModel:
    text, importance = booster_text()
    model, rules, flat = policy(ledger(model_trades, 1)), policy(ledger(25, 2)), policy(ledger(0, 0))
    model.aggregate.update({"fold_sharpe_std": 0.3, "in_sample_sharpe": 2.0, "sharpe_gap": sharpe_gap})
    absolute = policy(ledger(12, 3))
    rng = np.random.default_rng(4)
    predicted = [rng.normal(-20, 5, 200) for _ in range(FOLDS)]
    signal = signal_diagnostics([(f, p, p + rng.normal(0, 30, p.size)) for f, p in enumerate(predicted)])
    rows = []
    for f in range(FOLDS):
        test_start = START + f * FOLD_BARS * BAR
        row: dict[str, object] = {
            "fold": f,
            "train_start": (test_start - timedelta(days=30)).isoformat(),
            "test_start": test_start.isoformat(),
            "test_end": (test_start + FOLD_BARS * BAR).isoformat(),
            "train_rows": 2000,
            "test_rows": FOLD_BARS,
            "purged_rows": 4,
            "in_sample_sharpe": 2.0,
        }
        for name, result in (("model", model), ("rules", rules), ("flat", flat), ("absolute", absolute)):
            row.update({f"{name}_{k}": result.folds[f][k] for k in FOLD_KEYS})
        row.update({"ic": signal.folds[f].ic, "q5_minus_q1_bps": signal.folds[f].quintiles.top_minus_bottom})
        rows.append(row)
    return TrainedModel(
        symbol=symbol,
        timeframe="15m",
        cutoff=CUTOFF,
        columns=["rsi_14", "atr_bps"],
        booster_text=text,
        model=model,
        baselines={"rules": rules, "flat": flat},
        gates=evaluate_gates(model.aggregate),
        break_even_fee_bps=2.5,
        fee_bps=4.0,
        importance=importance,
        folds=rows,
        training_rows=2000,
        ablation={
            "without_embedding": {},
            "difference": {"sharpe": 0.1, "net_pnl": 12.0, "hit_rate": 0.01, "trade_count": 3.0},
        },
        decision_policy="calibrated",
        rule=DecisionRule("calibrated", 3.0, 4.5, None),
        policies={"absolute": absolute, "calibrated": model},
        signal=signal,
    )


def model_files(trained: TrainedModel) -> dict[str, bytes]:
    files = {name: f"{name} of {trained.symbol}\n".encode() for name in REQUIRED_FILES}
    files["model.bin"] = trained.booster_text.encode()
    files["sha256.txt"] = b"0" * 64 + b"  model.bin\n"
    return files
