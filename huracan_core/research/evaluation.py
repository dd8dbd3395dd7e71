"""One candidate judged exactly as a coin model is: purged walk-forward, thresholds calibrated inside each fold's
training window, the test window traded by the shadow trader with the same costs, the signal diagnostics and the
gates (``models.training``'s own fold pieces, not a copy).

What differs between families is only what a fold's booster is fit on: a coin's own purged rows (``coin_lgbm``),
or the rows of every coin of the universe over the same training span (``pooled_lgbm``: one booster per fold,
shared by every coin it then trades). A pooled row is fit only if its label ended before the fold's calibration
slice, widened by the embargo — the rule a coin's own rows are purged by — so no fit row's label shares a price
with the slice or the test window of any coin. The market-neutral candidate is built on the pooled model's
predictions: at every Nth bar of a test window (N = the fixed hold), long the coin ranked highest and short the one
ranked lowest; each leg is a trade with its own after-cost outcome (the lookahead labels: the trader's exits and
costs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from huracan_core.models.diagnostics import SignalDiagnostics, signal_diagnostics
from huracan_core.models.gates import GateReport, evaluate_gates
from huracan_core.models.training import (
    FoldScores,
    FoldTrader,
    ModelConfig,
    combine_results,
    fit_booster,
    known_outcomes,
    predicted_edges,
    stacked_targets,
)
from huracan_core.models.walk_forward import Fold, InnerSplit, calibration_split, purged_walk_forward
from huracan_core.timeframes import timeframe_delta
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.metrics import summary

#: what the corrections read of each out-of-sample trade
TRADE_COLUMNS = ("entry_time", "exit_time", "direction", "net_bps", "gross_bps", "net_pnl", "regime")
Fitter = Callable[[Fold, InnerSplit], object]


@dataclass(frozen=True)
class Evaluation:
    """One candidate on one coin (or the universe) over the search window's folds."""

    symbol: str
    candidate: str
    #: ``summary`` of the out-of-sample trades, plus ``fold_sharpe_std`` and the in-sample Sharpe and gap
    metrics: dict[str, float]
    gates: GateReport
    signal: SignalDiagnostics
    #: per fold: index, test window, trades, Sharpe, IC
    folds: list[dict[str, object]]
    trades: pl.DataFrame
    oos_start: datetime
    oos_end: datetime


@dataclass(frozen=True)
class _CoinFolds:
    evaluation: Evaluation
    folds: list[Fold]
    scored: list[FoldScores]


def window_of(bars: pl.DataFrame, cutoff: datetime, config: ModelConfig) -> tuple[pl.DataFrame, pl.Series]:
    """The training window before ``cutoff`` and each row's label end where known before it (else null)."""
    start = cutoff - timedelta(days=config.train_days)
    window = bars.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < cutoff))
    known = window.select(pl.when(pl.col("label_end") < cutoff).then(pl.col("label_end")))["label_end"]
    return window, known


def evaluate_coin(
    bars: pl.DataFrame,
    columns: Sequence[str],
    symbol: str,
    candidate: str,
    timeframe: str,
    cutoff: datetime,
    *,
    config: ModelConfig,
    costs: CostModel,
    exits: ExitConfig,
    exchange: str = "binance",
    fitter: Fitter | None = None,
    shuffle_labels: bool = False,
) -> Evaluation:
    """The candidate's walk-forward on one coin; ``fitter`` supplies each fold's booster (default: fit on the
    coin's own purged rows)."""
    return _coin_folds(
        bars, columns, symbol, candidate, timeframe, cutoff, config, costs, exits, exchange, fitter, shuffle_labels
    ).evaluation


def evaluate_pooled(
    bars: Mapping[str, pl.DataFrame],
    columns: Sequence[str],
    candidate: str,
    timeframe: str,
    cutoff: datetime,
    *,
    config: ModelConfig,
    costs: CostModel,
    exits: ExitConfig,
    exchange: str = "binance",
    neutral: tuple[str, int] | None = None,
    shuffle_labels: bool = False,
) -> list[Evaluation]:
    """One booster per fold fit on every coin's rows, each coin traded by it; with ``neutral`` (its candidate id
    and hold in bars) also the market-neutral candidate over the universe, last."""
    fitter = PooledFitter(bars, columns, timeframe, cutoff, config, shuffle_labels)
    runs = {
        symbol: _coin_folds(
            frame, columns, symbol, candidate, timeframe, cutoff, config, costs, exits, exchange, fitter, False
        )
        for symbol, frame in sorted(bars.items())
    }
    out = [run.evaluation for run in runs.values()]
    if neutral is not None:
        out.append(_market_neutral(runs, neutral[0], neutral[1], timeframe, config, exits.notional))
    return out


class PooledFitter:
    """Each fold's pooled booster, fit once and shared by every coin (the folds lie on the calendar, so every
    coin of the universe has the same ones)."""

    def __init__(
        self,
        bars: Mapping[str, pl.DataFrame],
        columns: Sequence[str],
        timeframe: str,
        cutoff: datetime,
        config: ModelConfig,
        shuffle_labels: bool,
    ) -> None:
        parts = [window_of(frame, cutoff, config) for _, frame in sorted(bars.items())]
        self.window = pl.concat([w.with_columns(_known=k) for w, k in parts], how="vertical_relaxed")
        self.targets = stacked_targets(self.window, config, shuffle_labels)
        self.columns, self.config = list(columns), config
        self.embargo = timeframe_delta(timeframe) * config.walk_forward.embargo_bars
        self.cache: dict[tuple[datetime, datetime], object] = {}

    def rows(self, train_start: datetime, slice_start: datetime) -> np.ndarray:
        """Rows from the fold's training start whose label ended before the slice less the embargo."""
        keep = self.window.select(
            (pl.col("timestamp") >= train_start) & (pl.col("_known") < slice_start - self.embargo)
        ).to_series()
        return np.flatnonzero(keep.fill_null(False).to_numpy())

    def __call__(self, fold: Fold, inner: InnerSplit) -> object:
        key = (fold.train_start, inner.start)
        if key not in self.cache:
            rows = self.rows(fold.train_start, inner.start)
            self.cache[key] = fit_booster(self.window, rows, self.columns, self.targets, self.config)
        return self.cache[key]


def _coin_folds(
    bars: pl.DataFrame,
    columns: Sequence[str],
    symbol: str,
    candidate: str,
    timeframe: str,
    cutoff: datetime,
    config: ModelConfig,
    costs: CostModel,
    exits: ExitConfig,
    exchange: str,
    fitter: Fitter | None,
    shuffle_labels: bool,
) -> _CoinFolds:
    window, known = window_of(bars, cutoff, config)
    start = cutoff - timedelta(days=config.train_days)
    bar = timeframe_delta(timeframe)
    try:
        folds = purged_walk_forward(window["timestamp"], known, start, cutoff, bar, config.walk_forward)
    except ValueError as error:
        raise ValueError(f"research {symbol} {candidate}: {error}") from error
    targets = stacked_targets(window, config, shuffle_labels)
    outcomes = known_outcomes(window, known)
    trade = FoldTrader(symbol, timeframe, exchange, exits, costs, config)
    chosen = config.decision_policy
    parts, scored, in_sample, fold_rows = [], [], [], []
    for fold in folds:
        inner = calibration_split(
            fold, window["timestamp"], known, bar, config.calibration_fraction, config.walk_forward.embargo_bars
        )
        booster = fitter(fold, inner) if fitter else fit_booster(window, inner.fit, columns, targets, config)
        scores = FoldScores.of(booster, window, fold, inner, columns, outcomes)
        rule = scores.rules(config)[0][chosen]
        parts.append(trade(scores.test, rule.decide(scores.test, *scores.edges, candidate)))
        seen = window.filter((pl.col("timestamp") >= fold.train_start) & (pl.col("timestamp") < inner.start))
        in_sample.append(trade(seen, rule.decide(seen, *predicted_edges(booster, seen, columns), "in-sample"))[1])
        scored.append(scores)
        fold_rows.append(
            {
                "fold": fold.index,
                "test_start": fold.test_start,
                "test_end": fold.test_end,
                "trades": int(parts[-1][1]["trade_count"]),
                "sharpe": parts[-1][1]["sharpe"],
                "net_pnl": parts[-1][1]["net_pnl"],
            }
        )
    signal = signal_diagnostics([s.observations() for s in scored])
    for row, measured in zip(fold_rows, signal.folds, strict=True):
        row["ic"] = measured.ic
    result = combine_results(parts, timeframe, config.capital)
    metrics = dict(result.aggregate)
    metrics.update(_spread(parts, in_sample, metrics["sharpe"]))
    evaluation = Evaluation(
        symbol=symbol,
        candidate=candidate,
        metrics=metrics,
        gates=evaluate_gates(metrics, config.gate_profile),
        signal=signal,
        folds=fold_rows,
        trades=result.ledger.select(TRADE_COLUMNS),
        oos_start=folds[0].test_start,
        oos_end=folds[-1].test_end,
    )
    return _CoinFolds(evaluation, folds, scored)


def _spread(parts: list, in_sample: list[dict[str, float]], test_sharpe: float) -> dict[str, float]:
    """The gates' figures beyond ``summary``: the folds' Sharpe spread and the in-sample Sharpe and its gap."""
    sharpes = [p[1]["sharpe"] for p in parts]
    seen = float(np.mean([m["sharpe"] for m in in_sample]))
    return {
        "fold_sharpe_std": float(np.std(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0,
        "in_sample_sharpe": seen,
        "sharpe_gap": (seen - test_sharpe) / seen if seen > 0 else float("inf"),
    }


def _market_neutral(
    runs: Mapping[str, _CoinFolds], candidate: str, hold_bars: int, timeframe: str, config: ModelConfig, notional: float
) -> Evaluation:
    """Long the top-ranked coin and short the bottom one every ``hold_bars`` bars of each test window; the rank is
    the pooled model's predicted long edge less its predicted short edge at that bar."""
    bar = timeframe_delta(timeframe)
    first = next(iter(runs.values()))
    legs, fold_rows, times = [], [], []
    for k, fold in enumerate(first.folds):
        test_start, test_end = fold.test_start, fold.test_end
        frames = []
        for symbol, run in runs.items():
            scores = run.scored[k]
            frames.append(
                scores.test.select(
                    "timestamp",
                    "regime",
                    *(c for c in _OUTCOMES if c in scores.test.columns),
                ).with_columns(
                    symbol=pl.lit(symbol),
                    score=pl.Series(scores.edges[0] - scores.edges[1]),
                    known_long=pl.Series(scores.outcomes[0]),
                    known_short=pl.Series(scores.outcomes[1]),
                )
            )
        fold_bars = pl.concat(frames, how="vertical_relaxed")
        times.append(fold_bars["timestamp"].unique().sort())
        grid = fold_bars.filter(
            ((pl.col("timestamp").dt.epoch("ms") - _ms(test_start)) // (bar // timedelta(milliseconds=1))) % hold_bars
            == 0,
            pl.col("known_long").is_not_nan() & pl.col("known_short").is_not_nan(),
        )
        picks = grid.group_by("timestamp").agg(
            pl.len().alias("coins"),
            pl.all().sort_by("score").first().name.prefix("low_"),
            pl.all().sort_by("score").last().name.prefix("top_"),
        )
        picks = picks.filter(pl.col("coins") >= 2).sort("timestamp")
        fold_legs = pl.concat(
            [_leg(picks, "top_", "long", 1, bar, notional), _leg(picks, "low_", "short", -1, bar, notional)]
        )
        legs.append(fold_legs)
        fold_rows.append(
            {
                "fold": fold.index,
                "test_start": test_start,
                "test_end": test_end,
                "trades": fold_legs.height,
                "sharpe": float("nan"),
                "net_pnl": float(fold_legs["net_pnl"].sum()),
            }
        )
    ledger = pl.concat(legs, how="vertical_relaxed").sort("exit_time")
    grid_times = pl.concat(times).unique().sort()
    metrics = summary(ledger, timeframe, config.capital, grid_times, 0)
    per_fold = [summary(f, timeframe, config.capital, t, 0) for f, t in zip(legs, times, strict=True)]
    for row, m in zip(fold_rows, per_fold, strict=True):
        row["sharpe"] = m["sharpe"]
    sharpes = [m["sharpe"] for m in per_fold]
    metrics["fold_sharpe_std"] = float(np.std(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
    signal = signal_diagnostics([s.observations() for run in runs.values() for s in run.scored])
    return Evaluation(
        symbol="UNIVERSE",
        candidate=candidate,
        metrics=metrics,
        gates=evaluate_gates(metrics, config.gate_profile),
        signal=signal,
        folds=fold_rows,
        trades=ledger.select(TRADE_COLUMNS),
        oos_start=first.evaluation.oos_start,
        oos_end=first.evaluation.oos_end,
    )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


_OUTCOMES = (
    "long_net_bps",
    "long_gross_bps",
    "long_exit_time",
    "short_net_bps",
    "short_gross_bps",
    "short_exit_time",
)


def _leg(picks: pl.DataFrame, prefix: str, side: str, direction: int, bar: timedelta, notional: float) -> pl.DataFrame:
    """One leg per pick as a ledger row: entered at the next bar's open, its label's outcome, sized as a trade."""
    return picks.select(
        (pl.col("timestamp") + bar).alias("entry_time"),
        pl.col(f"{prefix}{side}_exit_time").alias("exit_time"),
        pl.lit(direction, pl.Int8).alias("direction"),
        pl.col(f"{prefix}{side}_net_bps").alias("net_bps"),
        pl.col(f"{prefix}{side}_gross_bps").alias("gross_bps"),
        (pl.col(f"{prefix}{side}_net_bps") * notional / 1e4).alias("net_pnl"),
        pl.col(f"{prefix}regime").alias("regime"),
        pl.lit(notional).alias("size"),
        ((pl.col(f"{prefix}{side}_gross_bps") - pl.col(f"{prefix}{side}_net_bps")) * notional / 1e4).alias("fees_paid"),
        pl.lit(0.0).alias("spread_paid"),
        pl.lit(0.0).alias("slippage_paid"),
        pl.lit(0.0).alias("funding_paid"),
    )
