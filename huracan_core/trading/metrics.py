"""Performance metrics as pure functions. Every figure is net of costs unless its name starts with ``gross_``.

Ratios are annualised with sqrt(bars per year) for the bar frequency of the returns, over a 365-day crypto
year (``huracan_core.timeframes.bars_per_year``): per-bar statistics of a 5m curve are not daily statistics.

A figure the data cannot define (a hit rate without trades, a Sharpe of a flat curve, a profit factor without
a loss) is NaN, never 0: a 0 would read as a measured failure, and every reader (gates, exports, reports, the
UI) shows NaN as missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import polars as pl

from huracan_core.timeframes import bars_per_year
from huracan_core.trading.costs import PAID_COLUMNS


def sharpe(returns: np.ndarray, timeframe: str) -> float:
    r = np.asarray(returns, dtype=np.float64)
    if r.size < 2 or r.std(ddof=1) == 0:
        return math.nan
    return float(r.mean() / r.std(ddof=1) * math.sqrt(bars_per_year(timeframe)))


def sortino(returns: np.ndarray, timeframe: str) -> float:
    """Mean over downside deviation (root mean square of the negative returns, target 0, over all bars)."""
    r = np.asarray(returns, dtype=np.float64)
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2))) if r.size else 0.0
    if downside == 0:
        return math.nan
    return float(r.mean() / downside * math.sqrt(bars_per_year(timeframe)))


def max_drawdown(equity: np.ndarray) -> float:
    """Largest peak-to-trough loss as a positive fraction of the peak (0.1 = a 10 % drawdown)."""
    e = np.asarray(equity, dtype=np.float64)
    if e.size == 0:
        return 0.0
    peaks = np.maximum.accumulate(e)
    return float(np.max((peaks - e) / peaks))


def annualised_return(equity: np.ndarray, timeframe: str) -> float:
    e = np.asarray(equity, dtype=np.float64)
    if e.size < 2 or e[0] <= 0 or e[-1] <= 0:
        return 0.0
    return float((e[-1] / e[0]) ** (bars_per_year(timeframe) / (e.size - 1)) - 1.0)


def calmar(equity: np.ndarray, timeframe: str) -> float:
    mdd = max_drawdown(equity)
    return annualised_return(equity, timeframe) / mdd if mdd > 0 else math.nan


def profit_factor(pnl: np.ndarray) -> float:
    """Gross wins over gross losses; NaN without a loss (nothing to divide by)."""
    p = np.asarray(pnl, dtype=np.float64)
    losses = -p[p < 0].sum()
    if losses == 0:
        return math.nan
    return float(p[p > 0].sum() / losses)


def hit_rate(pnl: np.ndarray) -> float:
    p = np.asarray(pnl, dtype=np.float64)
    return float((p > 0).mean()) if p.size else math.nan


def expectancy(values: np.ndarray) -> float:
    """Mean outcome per trade, in the unit given (net bps per trade for ``net_bps``)."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()) if v.size else math.nan


def expectancy_t(values: np.ndarray) -> float:
    """The mean outcome per trade over its standard error: how many standard errors the edge stands above zero.

    A Sharpe ratio annualised from a hundred trades can look large while the trades' mean is one standard error
    from nothing — a model trained on shuffled labels did exactly that here (Sharpe 4, t of about 1). NaN under two
    trades or with no variation: a t that cannot be measured must not pass a gate."""
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return math.nan
    sd = float(v.std(ddof=1))
    return float(v.mean() / (sd / math.sqrt(v.size))) if sd > 0 else math.nan


def cost_share_of_gross(ledger: pl.DataFrame) -> float:
    """Costs paid as a share of gross profit; above 1 means the costs ate more than the edge made. NaN when the
    gross profit is not positive (no share of it to speak of; the exports' SQL gives NULL there too)."""
    gross = float((ledger["gross_bps"] * ledger["size"] / 1e4).sum())
    if gross <= 0:
        return math.nan
    return float(ledger.select(pl.sum_horizontal(PAID_COLUMNS)).to_series().sum()) / gross


def equity_curve(ledger: pl.DataFrame, capital: float, bar_times: pl.Series | None = None) -> pl.DataFrame:
    """Equity (capital + realised net P&L) stepping at each exit; on ``bar_times`` (every bar, flat where
    nothing closed) when given, which is the curve per-bar ratios need."""
    if bar_times is not None:
        return equity_curves([ledger], [bar_times], capital)[0]
    pnl = ledger.group_by("exit_time").agg(pl.col("net_pnl").sum()).rename({"exit_time": "timestamp"})
    return pnl.sort("timestamp").with_columns(equity=capital + pl.col("net_pnl").cum_sum())


def equity_curves(
    ledgers: Sequence[pl.DataFrame], bar_times: Sequence[pl.Series], capital: float
) -> list[pl.DataFrame]:
    """The equity curve of each ledger on its own bars (net P&L summed per exit bar, flat elsewhere, an exit off
    the bars left out), in one query: a day's curve costs far less to compute than to set up. Each curve restarts
    at ``capital``, so a ledger's curve is the same alone or among others."""
    stretch = "_stretch"

    def numbered(series: Sequence[pl.Series]) -> dict[str, pl.Series]:  # the columns of many, no query each
        return {
            stretch: pl.Series(np.repeat(np.arange(len(series), dtype=np.uint32), [len(s) for s in series])),
            "timestamp": pl.concat(series),
        }

    pnl = (
        pl.DataFrame(
            {
                **numbered([ledger["exit_time"] for ledger in ledgers]),
                "net_pnl": pl.concat([ledger["net_pnl"] for ledger in ledgers]),
            }
        )
        .group_by(stretch, "timestamp")
        .agg(pl.col("net_pnl").sum())
    )
    grid = pl.DataFrame(numbered(list(bar_times)))
    curves = (
        grid.join(pnl, on=[stretch, "timestamp"], how="left")
        .with_columns(pl.col("net_pnl").fill_null(0.0))
        .sort(stretch, "timestamp")
        .with_columns(equity=capital + pl.col("net_pnl").cum_sum().over(stretch))
        .drop(stretch)
    )
    starts = np.cumsum([0, *map(len, bar_times)])
    return [curves.slice(int(start), len(times)) for start, times in zip(starts, bar_times, strict=False)]


def summary(
    ledger: pl.DataFrame, timeframe: str, capital: float, bar_times: pl.Series, missed_entries: int
) -> dict[str, float]:
    """The headline figures of a backtest (what promotion reads); ``missed_entries``: the maker entries the
    market never traded through (``shadow_fills``' missed rows), which are no trades."""
    return curve_summary(ledger, equity_curve(ledger, capital, bar_times), timeframe, capital, missed_entries)


def curve_summary(
    ledger: pl.DataFrame, curve: pl.DataFrame, timeframe: str, capital: float, missed_entries: int
) -> dict[str, float]:
    """``summary`` from the ledger's ``equity_curve`` on every bar, for a caller that keeps the curve too (it is
    the dearest part to build)."""
    equity = np.concatenate([[capital], curve["equity"].to_numpy()])
    returns = np.diff(equity) / equity[:-1]
    net = ledger["net_pnl"].to_numpy()
    return {
        "trade_count": float(ledger.height),
        "missed_entries": float(missed_entries),
        "net_pnl": float(net.sum()),
        "gross_pnl": float((ledger["gross_bps"] * ledger["size"] / 1e4).sum()),
        "sharpe": sharpe(returns, timeframe),
        "sortino": sortino(returns, timeframe),
        "calmar": calmar(equity, timeframe),
        "max_drawdown": max_drawdown(equity),
        "profit_factor": profit_factor(net),
        "hit_rate": hit_rate(net),
        "expectancy_bps": expectancy(ledger["net_bps"].to_numpy()),
        "expectancy_t": expectancy_t(ledger["net_bps"].to_numpy()),
        "gross_expectancy_bps": expectancy(ledger["gross_bps"].to_numpy()),
        "cost_share_of_gross": cost_share_of_gross(ledger),
    }


#: the unit of each ``summary`` figure, for a person reading it beside the number (fractions stay fractions:
#: gates and ``metrics.json`` compare them as such)
SUMMARY_UNITS: dict[str, str] = {
    "trade_count": "trades",
    "missed_entries": "maker entries not filled (no trade)",
    "net_pnl": "quote currency",
    "gross_pnl": "quote currency, before costs",
    "sharpe": "annualised from per-bar returns",
    "sortino": "annualised from per-bar returns",
    "calmar": "annualised return / max drawdown",
    "max_drawdown": "fraction of the peak",
    "profit_factor": "gross wins / gross losses",
    "hit_rate": "fraction of trades won",
    "expectancy_bps": "bps of notional per trade",
    "expectancy_t": "mean net per trade / its standard error",
    "gross_expectancy_bps": "bps of notional per trade, before costs",
    "cost_share_of_gross": "costs / gross profit",
}
