"""One day in one document (``summaries/daily/<tf>/<DATE>.json``): what was trained and why it failed, what was
promoted, what the champions (or the rules) traded, and what it earned after costs — per coin, per pattern (regime
× side × engines agreeing, best first) and in total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

import polars as pl

from huracan_core.candles import day_start
from huracan_core.health.patterns import pattern_records
from huracan_core.symbols import to_key
from huracan_core.trading.costs import PAID_COLUMNS


def decisions_of_day(history: Sequence[Mapping[str, Any]], day: date) -> list[dict[str, Any]]:
    """Champion decisions, promoted or not, that took effect on ``day`` (the Engine's of that day, the Mechanic's
    whose data ended then), as they stand: a decision taken again counts once, by its latest line."""
    start, end = day_start(day), day_start(day + timedelta(days=1))
    fields = (
        "symbol",
        "source",
        "champion_before",
        "champion_after",
        "reason",
        "p_value",
        "decided_at",
        "decision_key",
        "effective_from",
        "promoted",
        "test",
        "window",
        "run_id",
    )
    latest = {
        line["decision_key"]: line for line in history if start <= datetime.fromisoformat(line["effective_from"]) < end
    }
    return [{k: line.get(k) for k in fields} for line in latest.values()]


def promotions_of_day(history: Sequence[Mapping[str, Any]], day: date) -> list[dict[str, Any]]:
    return [line for line in decisions_of_day(history, day) if line["promoted"]]


def daily_summary(
    day: date,
    timeframe: str,
    models: Mapping[str, Mapping[str, Any]],
    champions: Mapping[str, Mapping[str, Any]],
    ledgers: Mapping[str, pl.DataFrame],
    promotions: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """``models``, ``champions``, ``ledgers``: each coin's ``coin_model`` row, ``champion`` row and shadow-trade
    ledger of ``day`` (a coin missing from one is reported as such, never silently counted as zero)."""
    symbols = sorted({to_key(s) for s in (*models, *champions, *ledgers)})
    coins = []
    for symbol in symbols:
        model, champion, ledger = models.get(symbol), champions.get(symbol), ledgers.get(symbol)
        coins.append(
            {
                "symbol": symbol,
                "model_trained": model is not None,
                "model_passed": bool(model["passed"]) if model else None,
                "gate_summary": model["gate_summary"] if model else "no coin model for this day",
                # a partition stored before the signal was measured has none
                "signal_summary": model.get("signal_summary") if model else None,
                "champion": champion.get("champion_folder") if champion else None,
                "trade_ok": bool(champion.get("trade_ok")) if champion else False,
                "champion_reason": champion["reason"] if champion else "no champion decision for this day",
                **_trading(ledger),
            }
        )
    ledgers_all = [ledgers[s] for s in ledgers if ledgers[s].height]
    everything = pl.concat(ledgers_all, how="diagonal_relaxed") if ledgers_all else None
    trained = [c for c in coins if c["model_trained"]]
    return {
        "date": day.isoformat(),
        "timeframe": timeframe,
        "models_trained": len(trained),
        "models_passed": sum(bool(c["model_passed"]) for c in trained),
        "models_failed": sum(not c["model_passed"] for c in trained),
        "failures": [{"symbol": c["symbol"], "reason": c["gate_summary"]} for c in trained if not c["model_passed"]],
        "promotions": list(promotions),
        "promotion_count": len(promotions),
        "champions": sum(c["trade_ok"] for c in coins),
        **_trading(everything),
        "patterns": pattern_records(everything) if everything is not None else [],
        "per_coin": coins,
    }


def _trading(ledger: pl.DataFrame | None) -> dict[str, Any]:
    """Trades, hit rate and net figures after costs; undefined figures (no trades) are None, not 0."""
    if ledger is None or ledger.is_empty():
        return {
            "trades": 0,
            "hit_rate_pct": None,
            "net_pnl": 0.0,
            "mean_net_bps": None,
            "costs_paid": 0.0,
            "policies": {},
        }
    paid = float(ledger.select(pl.sum_horizontal(PAID_COLUMNS)).to_series().sum())
    return {
        "trades": ledger.height,
        "hit_rate_pct": round(100.0 * cast(float, (ledger["net_pnl"] > 0).mean()), 2),
        "net_pnl": round(float(ledger["net_pnl"].sum()), 6),
        "mean_net_bps": round(cast(float, ledger["net_bps"].mean()), 4),
        "costs_paid": round(paid, 6),
        "policies": dict(sorted(ledger.group_by("policy").len().iter_rows())),
    }
