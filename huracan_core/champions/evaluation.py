"""One champion decision: the challengers' out-of-sample trades against the champion's own trades on the same
recent window, after costs, judged by the promotion rule — and the history line that records it.

The window ends where the challengers' training data ends (their cutoff, which is the moment the decision takes
effect) and reaches back ``evaluation_days``, but never before the champion's own cutoff: on it the champion
trades bars it never saw (it is re-decided and re-traded by the shadow trader with the costs of every bar), and a
challenger's trades are its walk-forward folds' out-of-sample trades (``oos_trades.parquet``, stored with the
model), which end at the same cutoff. So both sides are out of sample, on the same periods, paid the same costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from huracan_core.champions.promotion import Contender, PromotionRule, decide, period_count, period_returns
from huracan_core.models.policy import CoinModel
from huracan_core.symbols import to_key
from huracan_core.trading.backtest import run_backtest
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig


@dataclass(frozen=True)
class Challenger:
    """A trained model offered for promotion, with what the pointer would say if it won."""

    folder: str
    cutoff: datetime
    passed: bool
    gate_summary: str
    #: the walk-forward folds' out-of-sample trades; None when the model failed its gates (never read then)
    oos_trades: pl.DataFrame | None
    #: ``model_folder``, ``mlflow_model``, ``mlflow_version``, ``metrics``, ``recipe_hash`` … (the pointer's body)
    card: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Incumbent:
    """The champion in force, as loaded from its verified folder, and the history line that made it so."""

    model: CoinModel
    line: Mapping[str, Any]


def evaluation_window(cutoff: datetime, evaluation_days: int, incumbent: Incumbent | None) -> tuple[datetime, datetime]:
    start = cutoff - timedelta(days=evaluation_days)
    return (max(start, incumbent.model.cutoff) if incumbent else start), cutoff


def champion_decision(
    symbol: str,
    timeframe: str,
    challengers: Sequence[Challenger],
    incumbent: Incumbent | None,
    bars: pl.DataFrame,
    *,
    decision_key: str,
    source: str,
    effective_from: datetime,
    decided_at: datetime,
    evaluation_days: int,
    rule: PromotionRule = PromotionRule(),
    exchange: str = "binance",
    costs: CostModel,
    exits: ExitConfig = ExitConfig(),
    run_id: str = "",
) -> dict[str, Any]:
    """The history line of one decision (``book.ChampionBook.record`` stores it).

    ``bars``: the coin's bars (``inputs.with_signals``) covering the window, on which the champion is traded.
    ``effective_from``: the moment the decision applies from; every challenger was trained on data before it.
    """
    late = [c.folder for c in challengers if c.cutoff > effective_from]
    if late:
        raise ValueError(
            f"champion {to_key(symbol)} at {effective_from.isoformat()}: challengers trained on later data: {late}"
        )
    start, end = evaluation_window(effective_from, evaluation_days, incumbent)
    periods = period_count(start, end, timedelta(hours=rule.period_hours)) if end > start else 0
    before = incumbent.line["champion"] if incumbent else None
    base: dict[str, Any] = {
        "decision_key": decision_key,
        "symbol": to_key(symbol),
        "timeframe": timeframe,
        "source": source,
        "run_id": run_id,
        "decided_at": decided_at.isoformat(),
        "effective_from": effective_from.isoformat(),
        "window": [start.isoformat(), end.isoformat()],
        "evaluation_days": evaluation_days,
        "rule": rule.to_dict(),
        "champion_before": before["model_folder"] if before else None,
        "candidates": [
            {
                "folder": c.folder,
                "passed_gates": c.passed,
                "gate_summary": c.gate_summary,
                "mlflow_model": c.card.get("mlflow_model"),
                "mlflow_version": c.card.get("mlflow_version"),
                # a challenger from a research search carries what the search's corrections found
                **({"search": c.card["search"]} if "search" in c.card else {}),
            }
            for c in challengers
        ],
    }
    rivals = [c for c in challengers if not before or c.folder != before["model_folder"]]
    if not rivals or periods == 0:
        why = (
            "no coin model trained for this day"
            if not challengers
            else "no challenger other than the champion"
            if not rivals
            else f"no out-of-sample window left after the champion's cutoff {start.isoformat()}"
        )
        reason = f"kept champion {before['model_folder']}: {why}" if before else f"no champion yet: {why}"
        return {
            **base,
            "promoted": False,
            "winner": None,
            "champion_after": base["champion_before"],
            "champion": before,
            "reason": reason,
            "test": "none",
            "p_value": None,
            "figures": {},
        }
    champion = (
        _champion_contender(incumbent, bars, symbol, timeframe, start, end, rule, exchange, costs, exits)
        if incumbent
        else None
    )
    decision = decide(champion, [_contender(c, start, end, rule, periods) for c in rivals], rule)
    told = decision.to_dict()  # JSON-safe figures (an undefined one is None)
    promoted = next((c for c in rivals if c.folder == decision.winner), None) if decision.promoted else None
    card = (
        {
            **promoted.card,
            "symbol": to_key(symbol),
            "timeframe": timeframe,
            "model_folder": promoted.folder,
            "promoted_at": decided_at.isoformat(),
            "effective_from": effective_from.isoformat(),
            "reason": decision.reason,
            "decision_id": decision_key,
        }
        if promoted
        else before
    )
    return {
        **base,
        "promoted": promoted is not None,
        "winner": decision.winner if promoted else None,
        "champion_after": card["model_folder"] if card else None,
        "champion": card,
        "reason": decision.reason,
        "test": decision.test,
        "p_value": told["p_value"],
        "figures": told["figures"],
    }


def _contender(challenger: Challenger, start: datetime, end: datetime, rule: PromotionRule, periods: int) -> Contender:
    period = timedelta(hours=rule.period_hours)
    if challenger.oos_trades is None:
        return Contender(challenger.folder, False, challenger.gate_summary, np.zeros(periods), 0)
    trades = challenger.oos_trades.filter((pl.col("entry_time") >= start) & (pl.col("entry_time") < end))
    return Contender(
        challenger.folder,
        challenger.passed,
        challenger.gate_summary,
        period_returns(trades, start, end, period),
        trades.height,
    )


def _champion_contender(
    incumbent: Incumbent,
    bars: pl.DataFrame,
    symbol: str,
    timeframe: str,
    start: datetime,
    end: datetime,
    rule: PromotionRule,
    exchange: str,
    costs: CostModel,
    exits: ExitConfig,
) -> Contender:
    """The champion re-decided and re-traded on the window's bars (all after its cutoff, so out of sample)."""
    window = bars.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") < end))
    if window.is_empty():
        raise ValueError(
            f"champion {to_key(symbol)}: no bars in the evaluation window {start.isoformat()}..{end.isoformat()}"
        )
    result = run_backtest(window, incumbent.model.decisions(window), symbol, timeframe, exchange, exits, costs=costs)
    ledger = result.ledger
    return Contender(
        incumbent.model.folder,
        True,
        "champion in force",
        period_returns(ledger, start, end, timedelta(hours=rule.period_hours)),
        ledger.height,
    )
