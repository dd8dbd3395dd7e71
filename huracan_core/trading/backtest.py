"""One call from a coin's bars and the decisions on them to its trade ledger, costs paid, metrics and equity —
what the daily shadow trader, the walk-forward folds' reports and any backtest run for a stretch of bars."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from huracan_core.trading.costs import CostModel, bar_costs, daily_costs_summary
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.metrics import equity_curve, summary
from huracan_core.trading.shadow_trader import shadow_fills


@dataclass(frozen=True)
class BacktestResult:
    ledger: pl.DataFrame
    costs: dict[str, float]
    metrics: dict[str, float]
    equity: pl.DataFrame  # timestamp, equity over every bar
    #: ``bar_costs`` of every bar for the trade size: what a trade entered there would have paid
    quoted: pl.DataFrame
    #: maker entries the market never traded through (``MISSED_COLUMNS``): signals, not trades
    missed: pl.DataFrame


def run_backtest(
    bars: pl.DataFrame,
    decisions: pl.DataFrame,
    symbol: str,
    timeframe: str,
    exchange: str = "binance",
    exits: ExitConfig = ExitConfig(),
    capital: float = 10_000.0,
    *,
    costs: CostModel,
) -> BacktestResult:
    """``bars``: candles joined with features and regime, one symbol, sorted; ``decisions`` cover exactly those
    bars (the consensus' ``decide``, or a coin model's). Trading starts flat on the first bar."""
    fills = shadow_fills(bars, decisions, symbol, timeframe, exchange, exits, costs=costs)
    ledger = fills.ledger
    quoted = bar_costs(bars, costs, exchange, symbol, exits.notional)
    return BacktestResult(
        ledger=ledger,
        costs=daily_costs_summary(quoted, ledger),
        metrics=summary(ledger, timeframe, capital, bars["timestamp"], fills.missed.height),
        equity=equity_curve(ledger, capital, bars["timestamp"]).select("timestamp", "equity"),
        quoted=quoted,
        missed=fills.missed,
    )
