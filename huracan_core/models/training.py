"""Per-coin LightGBM under purged walk-forward validation, judged after costs by the shadow trader itself.

One booster predicts the after-cost edge (net bps, from the lookahead labels) of a long and of a short entered
after each bar: the rows are stacked twice with a ``side`` input of +1 / −1, so both sides share what they learn
about the market and the model file is one LightGBM text model.

Each walk-forward fold trains on its purged training rows and its predictions on the following test window are
traded by the shadow trader with fees, spread and slippage; the same folds are traded by the rules-only
consensus and by staying flat (the baselines), and, when the shared encoder's embedding is among the inputs, by
the same model without it (the ablation). The gates judge the aggregate of the out-of-sample folds; the model
that is kept is then fit on every row of the window whose label ended before the cutoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from huracan_core.models.break_even import break_even_fee
from huracan_core.models.gates import DEFAULT_GATE_PROFILE, GateReport, evaluate_gates
from huracan_core.models.inputs import SIDE, matrix
from huracan_core.models.policy import model_decisions, rules_decisions
from huracan_core.models.walk_forward import Fold, WalkForwardConfig, purged_walk_forward
from huracan_core.timeframes import timeframe_delta
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.metrics import summary
from huracan_core.trading.shadow_trader import shadow_fills

POLICIES = ("model", "rules", "flat")
#: how many of the window's last bars the kept booster's scores are recorded for (``reference_scores``)
REFERENCE_BARS = 4


@dataclass(frozen=True)
class ModelConfig:
    """Training window, validation layout, booster and gates. Defaults fit 15m bars (96 a day)."""

    train_days: int = 150
    walk_forward: WalkForwardConfig = WalkForwardConfig()
    rounds: int = 150
    num_leaves: int = 15
    learning_rate: float = 0.05
    min_data_in_leaf: int = 200
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    #: net outcomes beyond ±this (a flash-crash print) are clipped as targets, so one bar cannot steer the fit
    target_clip_bps: float = 300.0
    seed: int = 7
    #: one thread: OpenMP's spinning threads slow a fit down 3–30× whenever the two cores are shared (another step,
    #: a test, the UI), measured here; one thread costs ~1.5× on an idle machine
    threads: int = 1
    gate_profile: str = DEFAULT_GATE_PROFILE
    safety_margin_bps: float = 3.0
    capital: float = 10_000.0

    def lightgbm_params(self) -> dict[str, object]:
        return {
            "objective": "regression",
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.threads,
            "verbose": -1,
        }


@dataclass(frozen=True)
class PolicyResult:
    """One policy traded over every fold's test window: per-fold and aggregate metrics, and its trades."""

    folds: list[dict[str, float]]
    aggregate: dict[str, float]
    ledger: pl.DataFrame


@dataclass(frozen=True)
class TrainedModel:
    symbol: str
    timeframe: str
    cutoff: datetime
    columns: list[str]
    booster_text: str
    model: PolicyResult
    baselines: dict[str, PolicyResult]
    gates: GateReport
    #: the highest fee per side (bps) at which the model, deciding again at that fee, would have passed; None if
    #: not even at 0
    break_even_fee_bps: float | None
    fee_bps: float
    importance: dict[str, float]
    folds: list[dict[str, object]]
    training_rows: int
    ablation: dict[str, object] = field(default_factory=dict)
    #: the kept booster's predicted edges on the window's last bars: a consumer that rebuilds those bars from
    #: candles with the same recipe must predict exactly these (``champions.hamilton`` proves it)
    reference_scores: list[dict[str, object]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.gates.passed

    def metrics_document(self) -> dict[str, object]:
        """``metrics.json``: per fold, aggregate, baselines, ablation, gates and the break-even fee."""
        return {
            "folds": self.folds,
            "aggregate": self.model.aggregate,
            "baselines": {name: {"aggregate": r.aggregate, "folds": r.folds} for name, r in self.baselines.items()},
            "ablation": self.ablation,
            "gates": self.gates.to_dict(),
            "gate_summary": self.gates.summary(),
            "fee_bps_per_side": self.fee_bps,
            "break_even_fee_bps": self.break_even_fee_bps,
            "training_rows": self.training_rows,
            "reference_scores": self.reference_scores,
        }


def train_coin_model(
    bars: pl.DataFrame,
    columns: Sequence[str],
    symbol: str,
    timeframe: str,
    cutoff: datetime,
    *,
    embedding: Sequence[str] = (),
    config: ModelConfig = ModelConfig(),
    costs: CostModel,
    exchange: str = "binance",
    exits: ExitConfig = ExitConfig(),
    shuffle_labels: bool = False,
) -> TrainedModel:
    """Walk forward over ``[cutoff − train_days, cutoff)`` of ``bars`` (``inputs.model_bars`` with labels).

    Only rows whose label ended before ``cutoff`` are ever trained on, so nothing of the partition's own day or
    later leaks in. ``shuffle_labels`` permutes the targets (a control that must fail the gates).
    """
    start = cutoff - timedelta(days=config.train_days)
    window = bars.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < cutoff))
    known = window.select(pl.when(pl.col("label_end") < cutoff).then(pl.col("label_end")))["label_end"]
    folds = purged_walk_forward(
        window["timestamp"], known, start, cutoff, timeframe_delta(timeframe), config.walk_forward
    )
    targets = _targets(window, config, shuffle_labels)
    trade = _Trader(symbol, timeframe, exchange, exits, costs, config)

    results: dict[str, list[tuple[pl.DataFrame, dict[str, float], pl.Series]]] = {
        p: [] for p in (*POLICIES, "no_embedding")
    }
    fold_rows, in_sample = [], []
    out_of_sample: list[tuple[pl.DataFrame, np.ndarray, np.ndarray]] = []  # each fold's test bars and predicted edges
    for fold in folds:
        booster = _fit(window, fold.train, columns, targets, config)
        test = window[fold.test]
        out_of_sample.append((test, *_edges(booster, test, columns)))
        for name, decisions in (
            ("model", model_decisions(test, *out_of_sample[-1][1:], config.safety_margin_bps, "walk-forward")),
            ("rules", rules_decisions(test)),
            ("flat", rules_decisions(test).with_columns(recommendation=pl.lit("SKIP"), policy=pl.lit("flat"))),
        ):
            results[name].append(trade(test, decisions))
        if embedding:
            plain = [c for c in columns if c not in embedding]
            results["no_embedding"].append(
                trade(
                    test, _predicted(_fit(window, fold.train, plain, targets, config), test, plain, config, "ablation")
                )
            )
        seen = window.filter((pl.col("timestamp") >= fold.train_start) & (pl.col("timestamp") < fold.test_start))
        in_sample.append(trade(seen, _predicted(booster, seen, columns, config, "in-sample"))[1]["sharpe"])
        fold_rows.append(_fold_row(fold, results, in_sample[-1]))

    model = _combine(results["model"], timeframe, config.capital)
    sharpes = [f["sharpe"] for _, f, _ in results["model"]]
    extras = {
        "fold_sharpe_std": float(np.std(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0,
        "in_sample_sharpe": float(np.mean(in_sample)),
        "sharpe_gap": _gap(float(np.mean(in_sample)), model.aggregate["sharpe"]),
    }
    model.aggregate.update(extras)
    model.aggregate["best_predicted_edge_bps"] = max(
        (float(max(lo.max(), sh.max())) for _, lo, sh in out_of_sample if lo.size), default=float("nan")
    )
    gates = evaluate_gates(model.aggregate, config.gate_profile)
    fee = costs.fee_bps(exchange, symbol)
    schedule = costs.fee_schedule(exchange, symbol)

    def passes(level: float) -> bool:
        """The folds decided and traded again as if every side paid ``level``: the labels were after-cost at
        ``fee``, so each predicted edge moves by exactly the fee saved on both legs (the fold spread and the
        train–test gap are kept from the model's own fee)."""
        shift = 2 * (fee - level)
        at_level = _Trader(
            symbol,
            timeframe,
            exchange,
            exits,
            replace(costs, default_fees=replace(schedule, maker_bps=level, taker_bps=level), fees={}),
            config,
        )
        parts = [
            at_level(test, model_decisions(test, lo + shift, sh + shift, config.safety_margin_bps, "break-even"))
            for test, lo, sh in out_of_sample
        ]
        return evaluate_gates(
            {**_combine(parts, timeframe, config.capital).aggregate, **extras}, config.gate_profile
        ).passed

    final = _fit(window, np.flatnonzero(known.is_not_null().to_numpy()), columns, targets, config)
    ablation: dict[str, object] = {}
    if embedding:
        plain = _combine(results["no_embedding"], timeframe, config.capital).aggregate
        ablation = {
            "without_embedding": plain,
            "difference": {k: model.aggregate[k] - plain[k] for k in ("sharpe", "net_pnl", "hit_rate", "trade_count")},
        }
    names = [*columns, SIDE]
    gains = final.feature_importance(importance_type="gain")
    last = window.tail(REFERENCE_BARS)
    long_edge, short_edge = _edges(final, last, columns)
    return TrainedModel(
        symbol=symbol,
        timeframe=timeframe,
        cutoff=cutoff,
        columns=list(columns),
        booster_text=final.model_to_string(),
        model=model,
        baselines={name: _combine(results[name], timeframe, config.capital) for name in ("rules", "flat")},
        gates=gates,
        break_even_fee_bps=break_even_fee(passes, fee),
        fee_bps=fee,
        importance={n: float(g) for n, g in sorted(zip(names, gains, strict=True), key=lambda p: -p[1])},
        folds=fold_rows,
        training_rows=int(known.is_not_null().sum()),
        ablation=ablation,
        reference_scores=[
            {"timestamp": t.isoformat(), "long_edge_bps": float(lo), "short_edge_bps": float(sh)}
            for t, lo, sh in zip(last["timestamp"], long_edge, short_edge, strict=True)
        ],
    )


class _Trader:
    """The shadow trader over one stretch of bars: (ledger, metrics, bar times)."""

    def __init__(
        self, symbol: str, timeframe: str, exchange: str, exits: ExitConfig, costs: CostModel, config: ModelConfig
    ):
        self.args = (symbol, timeframe, exchange, exits, costs)
        self.config = config

    def __call__(self, bars: pl.DataFrame, decisions: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, float], pl.Series]:
        symbol, timeframe, exchange, exits, costs = self.args
        fills = shadow_fills(bars, decisions, symbol, timeframe, exchange, exits, costs=costs, entry_features=False)
        metrics = summary(fills.ledger, timeframe, self.config.capital, bars["timestamp"], fills.missed.height)
        return fills.ledger, metrics, bars["timestamp"]


def _targets(window: pl.DataFrame, config: ModelConfig, shuffle: bool) -> np.ndarray:
    """Long and short net bps stacked (the row order of the stacked matrix), clipped; permuted for the control."""
    clip = config.target_clip_bps
    y = np.concatenate(
        [window[f"{side}_net_bps"].cast(pl.Float64).fill_null(np.nan).to_numpy() for side in ("long", "short")]
    )
    y = np.clip(y, -clip, clip)
    if shuffle:
        n = window.height
        order = np.random.default_rng(config.seed).permutation(n)
        y = np.concatenate([y[:n][order], y[n:][order]])
    return y


def _fit(window: pl.DataFrame, rows: np.ndarray, columns: Sequence[str], targets: np.ndarray, config: ModelConfig):
    import lightgbm

    part = window[rows]
    x = np.vstack([matrix(part, columns, side=1), matrix(part, columns, side=-1)])
    y = np.concatenate([targets[rows], targets[window.height + rows]])
    keep = np.isfinite(y)
    data = lightgbm.Dataset(x[keep], y[keep], feature_name=[*columns, SIDE], free_raw_data=True)
    return lightgbm.train(config.lightgbm_params(), data, num_boost_round=config.rounds)


def _edges(booster, bars: pl.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Predicted after-cost edge (bps) of a long and of a short entered after each bar."""
    return booster.predict(matrix(bars, columns, side=1)), booster.predict(matrix(bars, columns, side=-1))


def _predicted(booster, bars: pl.DataFrame, columns: Sequence[str], config: ModelConfig, version: str) -> pl.DataFrame:
    return model_decisions(bars, *_edges(booster, bars, columns), config.safety_margin_bps, version)


def _combine(
    parts: list[tuple[pl.DataFrame, dict[str, float], pl.Series]], timeframe: str, capital: float
) -> PolicyResult:
    ledger = pl.concat([p[0] for p in parts], how="vertical_relaxed")
    times = pl.concat([p[2] for p in parts])
    missed = int(sum(p[1]["missed_entries"] for p in parts))
    return PolicyResult(
        folds=[p[1] for p in parts], aggregate=summary(ledger, timeframe, capital, times, missed), ledger=ledger
    )


def _gap(train_sharpe: float, test_sharpe: float) -> float:
    """How much of the in-sample Sharpe is lost out of sample, as a fraction (inf when nothing was learned)."""
    return (train_sharpe - test_sharpe) / train_sharpe if train_sharpe > 0 else float("inf")


def _fold_row(fold: Fold, results: dict[str, list], in_sample_sharpe: float) -> dict[str, object]:
    row: dict[str, object] = {
        "fold": fold.index,
        "train_start": fold.train_start.isoformat(),
        "test_start": fold.test_start.isoformat(),
        "test_end": fold.test_end.isoformat(),
        "train_rows": int(fold.train.size),
        "test_rows": int(fold.test.size),
        "purged_rows": fold.purged,
        "in_sample_sharpe": in_sample_sharpe,
    }
    for name in POLICIES:
        metrics = results[name][-1][1]
        row.update(
            {f"{name}_{k}": metrics[k] for k in ("sharpe", "net_pnl", "hit_rate", "trade_count", "max_drawdown")}
        )
    return row
