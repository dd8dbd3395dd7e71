"""Per-coin LightGBM under purged walk-forward validation, judged after costs by the shadow trader itself.

One booster predicts the after-cost edge (net bps, from the lookahead labels) of a long and of a short entered
after each bar: the rows are stacked twice with a ``side`` input of +1 / −1, so both sides share what they learn
about the market and the model file is one LightGBM text model.

Each walk-forward fold trains on its purged training rows and its predictions on the following test window are
traded by the shadow trader with fees, spread and slippage; the same folds are traded by the rules-only
consensus and by staying flat (the baselines), and, when the shared encoder's embedding is among the inputs, by
the same model without it (the ablation). The gates judge the aggregate of the out-of-sample folds; the model
that is kept is then fit on every row of the window whose label ended before the cutoff.

Two rules trade each fold's predictions with the same booster (``policy.DecisionRule``): ``absolute`` (a side
whose predicted edge beats the margin) and ``calibrated`` (a side whose predicted edge beats a threshold chosen on
the last ``calibration_fraction`` of the fold's training window, which the booster does not fit: rows whose labels
meet that slice are purged as rows are purged against a test window, ``walk_forward.calibration_split``). The test
window never chooses anything. The gates and the break-even fee judge ``decision_policy``. The kept booster trades
with the most recent fold's thresholds: they were chosen on predictions its slice's booster made out of sample,
and an inner refit of the whole window minus its last slice would add about a quarter to the fitting (a fit on
~120 of the 150 days, beside six fits on ~48 and the kept one on 150) for thresholds that would still belong to
another booster than the kept one.

``signal``: the predictions judged by themselves (``diagnostics.py``: rank IC, quintiles, calibration) over the
folds' test bars whose outcome is known before the cutoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from huracan_core.models.break_even import break_even_fee
from huracan_core.models.calibration import SideCalibration, calibrate_side
from huracan_core.models.diagnostics import SignalDiagnostics, signal_diagnostics
from huracan_core.models.gates import DEFAULT_GATE_PROFILE, GateReport, evaluate_gates
from huracan_core.models.inputs import SIDE, matrix
from huracan_core.models.policy import DECISION_POLICIES, DecisionRule, rules_decisions
from huracan_core.models.walk_forward import Fold, InnerSplit, WalkForwardConfig, calibration_split, purged_walk_forward
from huracan_core.timeframes import timeframe_delta
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.metrics import summary
from huracan_core.trading.shadow_trader import shadow_fills

#: every policy traded over each fold: the model's two rules, then the baselines
POLICIES = (*DECISION_POLICIES, "rules", "flat")
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
    #: the rule the model trades with, which the gates and the break-even fee judge (``policy.DECISION_POLICIES``)
    decision_policy: str = "calibrated"
    #: the last this share of each fold's training window is the slice its thresholds are chosen on
    calibration_fraction: float = 0.2
    #: candidate thresholds: these quantiles of the slice's predictions (a fixed grid, ascending)
    calibration_quantiles: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
    #: a side is enabled only with at least this many slice entries above its threshold
    calibration_min_trades: int = 30
    #: standard errors taken off the slice mean before it is compared with the margin
    calibration_z: float = 1.0

    def __post_init__(self) -> None:
        if self.decision_policy not in DECISION_POLICIES:
            raise ValueError(
                f"model decision_policy {self.decision_policy!r} is not one of {', '.join(DECISION_POLICIES)}"
            )
        grid = self.calibration_quantiles
        if not grid or any(not 0 < q < 1 for q in grid) or list(grid) != sorted(set(grid)):
            raise ValueError(f"model calibration_quantiles must ascend strictly within (0, 1), got {grid}")
        if not 0 < self.calibration_fraction < 1:
            raise ValueError(f"model calibration_fraction must lie in (0, 1), got {self.calibration_fraction}")

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
    #: the ``decision_policy``'s result (what the gates judge)
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
    decision_policy: str = "calibrated"
    #: the kept booster's rule: the most recent fold's thresholds for ``calibrated``
    rule: DecisionRule = DecisionRule.absolute(ModelConfig.safety_margin_bps)
    #: each model rule traded over the folds (``absolute`` and ``calibrated``, one of them is ``model``)
    policies: dict[str, PolicyResult] = field(default_factory=dict)
    signal: SignalDiagnostics | None = None
    #: per fold, the calibration slice and each side's choice
    calibration: list[dict[str, object]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.gates.passed

    def metrics_document(self) -> dict[str, object]:
        """``metrics.json``: per fold, aggregate, both model rules, baselines, ablation, gates, the break-even fee,
        the signal diagnostics and the calibration."""
        return {
            "folds": self.folds,
            "aggregate": self.model.aggregate,
            "decision_policy": self.decision_policy,
            "decision_rule": self.rule.to_dict(),
            "policies": {name: {"aggregate": r.aggregate, "folds": r.folds} for name, r in self.policies.items()},
            "signal": self.signal.to_dict() if self.signal else None,
            "signal_summary": self.signal.summary() if self.signal else "n/a",
            "calibration": self.calibration,
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
    bar = timeframe_delta(timeframe)
    folds = purged_walk_forward(window["timestamp"], known, start, cutoff, bar, config.walk_forward)
    targets = stacked_targets(window, config, shuffle_labels)
    outcomes = known_outcomes(window, known)
    trade = FoldTrader(symbol, timeframe, exchange, exits, costs, config)
    chosen = config.decision_policy

    results: dict[str, list[tuple[pl.DataFrame, dict[str, float], pl.Series]]] = {
        p: [] for p in (*POLICIES, "no_embedding")
    }
    fold_rows, in_sample, calibration = [], [], []
    scored: list[FoldScores] = []  # each fold's test bars, predictions and calibration slice
    for fold in folds:
        inner = calibration_split(
            fold, window["timestamp"], known, bar, config.calibration_fraction, config.walk_forward.embargo_bars
        )
        booster = fit_booster(window, inner.fit, columns, targets, config)
        scored.append(FoldScores.of(booster, window, fold, inner, columns, outcomes))
        test = scored[-1].test
        rules, sides = scored[-1].rules(config)
        for name in DECISION_POLICIES:
            results[name].append(trade(test, rules[name].decide(test, *scored[-1].edges, "walk-forward")))
        consensus = rules_decisions(test)
        results["rules"].append(trade(test, consensus))
        flat = consensus.with_columns(recommendation=pl.lit("SKIP"), policy=pl.lit("flat"))
        results["flat"].append(trade(test, flat))
        if embedding:
            plain = [c for c in columns if c not in embedding]
            without = FoldScores.of(
                fit_booster(window, inner.fit, plain, targets, config), window, fold, inner, plain, outcomes
            )
            decide = without.rules(config)[0][chosen].decide
            results["no_embedding"].append(trade(test, decide(test, *without.edges, "ablation")))
        seen = window.filter((pl.col("timestamp") >= fold.train_start) & (pl.col("timestamp") < inner.start))
        in_sample.append(
            trade(seen, rules[chosen].decide(seen, *predicted_edges(booster, seen, columns), "in-sample"))[1]["sharpe"]
        )
        calibration.append(_calibration_row(fold, inner, sides))
        fold_rows.append(_fold_row(fold, inner, results, in_sample[-1], chosen, rules["calibrated"]))

    signal = signal_diagnostics([f.observations() for f in scored])
    for row, measured in zip(fold_rows, signal.folds, strict=True):
        row.update({"ic": measured.ic, "q5_minus_q1_bps": measured.quintiles.top_minus_bottom})
    policies = {name: combine_results(results[name], timeframe, config.capital) for name in DECISION_POLICIES}
    model = policies[chosen]
    sharpes = [f["sharpe"] for _, f, _ in results[chosen]]
    extras = {
        "fold_sharpe_std": float(np.std(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0,
        "in_sample_sharpe": float(np.mean(in_sample)),
        "sharpe_gap": _gap(float(np.mean(in_sample)), model.aggregate["sharpe"]),
    }
    model.aggregate.update(extras)
    model.aggregate["best_predicted_edge_bps"] = max(
        (float(max(lo.max(), sh.max())) for lo, sh in (f.edges for f in scored) if lo.size), default=float("nan")
    )
    gates = evaluate_gates(model.aggregate, config.gate_profile)
    fee = costs.fee_bps(exchange, symbol)
    schedule = costs.fee_schedule(exchange, symbol)

    def passes(level: float) -> bool:
        """The folds decided and traded again as if every side paid ``level``: the labels were after-cost at
        ``fee``, so each predicted edge, and each realized outcome of a calibration slice, moves by exactly the
        fee saved on both legs; the calibrated thresholds are chosen again on the moved slice (the fold spread
        and the train–test gap are kept from the model's own fee)."""
        shift = 2 * (fee - level)
        at_level = FoldTrader(
            symbol,
            timeframe,
            exchange,
            exits,
            replace(costs, default_fees=replace(schedule, maker_bps=level, taker_bps=level), fees={}),
            config,
        )
        parts = []
        for f in scored:
            long_edge, short_edge = f.edges[0] + shift, f.edges[1] + shift
            parts.append(at_level(f.test, f.rules(config, shift)[0][chosen].decide(f.test, long_edge, short_edge, "")))
        return evaluate_gates(
            {**combine_results(parts, timeframe, config.capital).aggregate, **extras}, config.gate_profile
        ).passed

    final = fit_booster(window, np.flatnonzero(known.is_not_null().to_numpy()), columns, targets, config)
    ablation: dict[str, object] = {}
    if embedding:
        plain = combine_results(results["no_embedding"], timeframe, config.capital).aggregate
        ablation = {
            "without_embedding": plain,
            "difference": {k: model.aggregate[k] - plain[k] for k in ("sharpe", "net_pnl", "hit_rate", "trade_count")},
        }
    names = [*columns, SIDE]
    gains = final.feature_importance(importance_type="gain")
    last = window.tail(REFERENCE_BARS)
    long_edge, short_edge = predicted_edges(final, last, columns)
    return TrainedModel(
        symbol=symbol,
        timeframe=timeframe,
        cutoff=cutoff,
        columns=list(columns),
        booster_text=final.model_to_string(),
        model=model,
        baselines={name: combine_results(results[name], timeframe, config.capital) for name in ("rules", "flat")},
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
        decision_policy=chosen,
        rule=scored[-1].rules(config)[0][chosen],
        policies=policies,
        signal=signal,
        calibration=calibration,
    )


@dataclass(frozen=True)
class FoldScores:
    """One fold's booster applied: its test bars' and its calibration slice's predicted edges and realized
    outcomes (long, short; NaN where unknown before the cutoff)."""

    fold: int
    test: pl.DataFrame
    edges: tuple[np.ndarray, np.ndarray]
    outcomes: tuple[np.ndarray, np.ndarray]
    slice_edges: tuple[np.ndarray, np.ndarray]
    slice_outcomes: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of(
        cls,
        booster,
        window: pl.DataFrame,
        fold: Fold,
        inner: InnerSplit,
        columns: Sequence[str],
        outcomes: tuple[np.ndarray, np.ndarray],
    ) -> FoldScores:
        test = window[fold.test]
        return cls(
            fold=fold.index,
            test=test,
            edges=predicted_edges(booster, test, columns),
            outcomes=(outcomes[0][fold.test], outcomes[1][fold.test]),
            slice_edges=predicted_edges(booster, window[inner.calibration], columns),
            slice_outcomes=(outcomes[0][inner.calibration], outcomes[1][inner.calibration]),
        )

    def rules(
        self, config: ModelConfig, shift: float = 0.0
    ) -> tuple[dict[str, DecisionRule], tuple[SideCalibration, SideCalibration]]:
        """Both model rules, the calibrated one chosen on the slice alone (edges and outcomes moved by
        ``shift`` bps), and each side's calibration."""
        long_side, short_side = (
            calibrate_side(
                edges + shift,
                realized + shift,
                config.calibration_quantiles,
                config.safety_margin_bps,
                config.calibration_min_trades,
                config.calibration_z,
            )
            for edges, realized in zip(self.slice_edges, self.slice_outcomes, strict=True)
        )
        rules = {
            "absolute": DecisionRule.absolute(config.safety_margin_bps),
            "calibrated": DecisionRule(
                "calibrated", config.safety_margin_bps, long_side.threshold_bps, short_side.threshold_bps
            ),
        }
        return rules, (long_side, short_side)

    def observations(self) -> tuple[int, np.ndarray, np.ndarray]:
        """Both sides of the test bars as observations: (fold, predicted edge, realized net bps)."""
        return self.fold, np.concatenate(self.edges), np.concatenate(self.outcomes)


class FoldTrader:
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


def stacked_targets(window: pl.DataFrame, config: ModelConfig, shuffle: bool) -> np.ndarray:
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


def known_outcomes(window: pl.DataFrame, known: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Realized after-cost net bps of a long and of a short after each bar, as paid (never clipped); NaN where
    the outcome was not known before the cutoff."""
    unknown = known.is_null().to_numpy()
    return tuple(  # type: ignore[return-value]
        np.where(unknown, np.nan, window[f"{side}_net_bps"].cast(pl.Float64).fill_null(np.nan).to_numpy())
        for side in ("long", "short")
    )


def fit_booster(
    window: pl.DataFrame, rows: np.ndarray, columns: Sequence[str], targets: np.ndarray, config: ModelConfig
):
    import lightgbm

    part = window[rows]
    x = np.vstack([matrix(part, columns, side=1), matrix(part, columns, side=-1)])
    y = np.concatenate([targets[rows], targets[window.height + rows]])
    keep = np.isfinite(y)
    data = lightgbm.Dataset(x[keep], y[keep], feature_name=[*columns, SIDE], free_raw_data=True)
    return lightgbm.train(config.lightgbm_params(), data, num_boost_round=config.rounds)


def predicted_edges(booster, bars: pl.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Predicted after-cost edge (bps) of a long and of a short entered after each bar."""
    return booster.predict(matrix(bars, columns, side=1)), booster.predict(matrix(bars, columns, side=-1))


def combine_results(
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


def _calibration_row(
    fold: Fold, inner: InnerSplit, sides: tuple[SideCalibration, SideCalibration]
) -> dict[str, object]:
    return {
        "fold": fold.index,
        "slice_start": inner.start.isoformat(),
        "slice_rows": int(inner.calibration.size),
        "fit_rows": int(inner.fit.size),
        "purged_before_slice": inner.purged,
        "long": sides[0].to_dict(),
        "short": sides[1].to_dict(),
    }


def _fold_row(
    fold: Fold, inner: InnerSplit, results: dict[str, list], in_sample_sharpe: float, chosen: str, rule: DecisionRule
) -> dict[str, object]:
    row: dict[str, object] = {
        "fold": fold.index,
        "train_start": fold.train_start.isoformat(),
        "calibration_start": inner.start.isoformat(),
        "test_start": fold.test_start.isoformat(),
        "test_end": fold.test_end.isoformat(),
        "train_rows": int(fold.train.size),
        "fit_rows": int(inner.fit.size),
        "calibration_rows": int(inner.calibration.size),
        "test_rows": int(fold.test.size),
        "purged_rows": fold.purged,
        "in_sample_sharpe": in_sample_sharpe,
        "calibrated_long_threshold_bps": rule.long_threshold_bps,
        "calibrated_short_threshold_bps": rule.short_threshold_bps,
    }
    for name in (*POLICIES, "model"):
        metrics = results[chosen if name == "model" else name][-1][1]
        row.update(
            {f"{name}_{k}": metrics[k] for k in ("sharpe", "net_pnl", "hit_rate", "trade_count", "max_drawdown")}
        )
    return row
