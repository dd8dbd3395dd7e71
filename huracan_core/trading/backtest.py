"""One call from a coin's frame to its decisions, trade ledger, costs summary and metrics — what a backtest
or shadow-trading asset runs for a symbol and a range of days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from huracan_core.trading.consensus import ConsensusConfig, decide
from huracan_core.trading.costs import CostModel, bar_costs, daily_costs_summary
from huracan_core.trading.engines import DEFAULT_ENGINES, Engine
from huracan_core.trading.metrics import summary
from huracan_core.trading.shadow_trader import shadow_trade


@dataclass(frozen=True)
class BacktestResult:
    decisions: pl.DataFrame
    ledger: pl.DataFrame
    costs: dict[str, float]
    metrics: dict[str, float]


def run_backtest(
    frame: pl.DataFrame,
    symbol: str,
    timeframe: str,
    exchange: str = "binance",
    engines: tuple[Engine, ...] = DEFAULT_ENGINES,
    costs: CostModel = CostModel(),
    config: ConsensusConfig = ConsensusConfig(),
    capital: float = 10_000.0,
    trade_from: datetime | None = None,
) -> BacktestResult:
    """``frame``: candles joined with features and regime on timestamp, one symbol, sorted.

    ``trade_from``: the bars before it are warm-up only — the engines' trailing windows and the meta combiner see
    them, but trading starts flat at ``trade_from``, and the ledger, costs and metrics cover only the bars from it.
    """
    decisions = decide(frame, symbol, exchange, engines, costs, config)
    if trade_from is not None:
        traded = frame["timestamp"] >= trade_from
        frame, decisions = frame.filter(traded), decisions.filter(traded)
    ledger = shadow_trade(frame, decisions, symbol, timeframe, exchange, config.exits, costs)
    quoted = bar_costs(frame, costs, exchange, symbol, config.exits.notional)
    return BacktestResult(
        decisions=decisions,
        ledger=ledger,
        costs=daily_costs_summary(quoted, ledger),
        metrics=summary(ledger, timeframe, capital, frame["timestamp"]),
    )
