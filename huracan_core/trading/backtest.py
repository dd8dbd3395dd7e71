"""One call from a coin's bars and the decisions on them to its trade ledger, costs paid, metrics and equity —
what the daily shadow trader, the walk-forward folds' reports and any backtest run for a stretch of bars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from huracan_core.trading.bars import schema_groups
from huracan_core.trading.costs import CostModel, bar_costs, daily_costs_summary
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.metrics import curve_summary, equity_curves
from huracan_core.trading.shadow_trader import stretch_fills


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
    [result] = run_backtests([(bars, decisions)], symbol, timeframe, exchange, exits, capital, costs=costs)
    return result


def run_backtests(
    stretches: Sequence[tuple[pl.DataFrame, pl.DataFrame]],
    symbol: str,
    timeframe: str,
    exchange: str = "binance",
    exits: ExitConfig = ExitConfig(),
    capital: float = 10_000.0,
    *,
    costs: CostModel,
) -> list[BacktestResult]:
    """``run_backtest`` of each (bars, decisions) stretch alone, in order: the stretches whose frames share their
    schemas are joined and run in one pass (``stretch_fills``), which gives each what it gives alone while paying
    the polars overhead once — a day of bars costs far less to trade than to set up."""
    results: dict[int, BacktestResult] = {}
    for members in schema_groups(range(len(stretches)), lambda n: stretches[n]):
        bars = pl.concat([stretches[n][0] for n in members], rechunk=True)
        decisions = pl.concat([stretches[n][1] for n in members], rechunk=True)
        lengths = [stretches[n][0].height for n in members]
        results |= zip(
            members,
            _joined_run(bars, decisions, lengths, symbol, timeframe, exchange, exits, capital, costs),
            strict=True,
        )
    return [results[n] for n in range(len(stretches))]


def _joined_run(
    bars: pl.DataFrame,
    decisions: pl.DataFrame,
    lengths: Sequence[int],
    symbol: str,
    timeframe: str,
    exchange: str,
    exits: ExitConfig,
    capital: float,
    costs: CostModel,
) -> list[BacktestResult]:
    """Each stretch of ``lengths`` bars its own backtest; the quoted costs are per bar, so computed once."""
    fills = stretch_fills(bars, decisions, lengths, symbol, timeframe, exchange, exits, costs=costs)
    quoted = bar_costs(bars, costs, exchange, symbol, exits.notional)
    starts = np.cumsum(lengths) - lengths
    times = [bars["timestamp"].slice(start, n) for start, n in zip(starts, lengths, strict=True)]
    curves = equity_curves([fill.ledger for fill in fills], times, capital)
    results = []
    for start, n, fill, curve in zip(starts, lengths, fills, curves, strict=True):
        ledger, quotes = fill.ledger, quoted.slice(start, n)
        results.append(
            BacktestResult(
                ledger=ledger,
                costs=daily_costs_summary(quotes, ledger),
                metrics=curve_summary(ledger, curve, timeframe, capital, fill.missed.height),
                equity=curve.select("timestamp", "equity"),
                quoted=quotes,
                missed=fill.missed,
            )
        )
    return results
