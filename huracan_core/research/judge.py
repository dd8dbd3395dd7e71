"""From a search's evaluations to its verdict per coin: the winner by out-of-sample Sharpe, and whether it survives
the correction for having searched.

Every candidate of a coin is put on one calendar: its after-cost P&L by exit day over the out-of-sample days (the
folds' test windows, the same for every timeframe since the folds lie on the calendar), as a return on the trading
capital; a day without an exit is 0. The winner is the best annualised Sharpe of those daily returns, so candidates
of different bar lengths compare on one footing. Then the corrections (``corrections.py``) judge it against the
whole search of that coin: the Deflated Sharpe over the number of candidates tried and the spread of their
Sharpes, Hansen's SPA of all of them against staying flat, the PBO of the candidates by CSCV, stability in time,
regime and side, and holding the coin (the equal-weight universe too, for a pooled or market-neutral model) with
the same notional over the same days, after its round trip.
The market-neutral candidates form the universe's own group (``UNIVERSE``): they trade every coin at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from huracan_core.research.corrections import (
    Admission,
    SearchRules,
    admit,
    deflated_sharpe,
    pbo_cscv,
    spa_pvalue,
    stability,
    versus_hold,
)
from huracan_core.research.records import figure, trades_frame
from huracan_core.research.space import UNIVERSE
from huracan_core.symbols import to_key

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Holding:
    """A coin held over the search window: each day's close-to-close return, and the round trip (bps) it pays."""

    closes: pl.DataFrame  # day, close
    round_trip_bps: float


@dataclass(frozen=True)
class CoinVerdict:
    symbol: str
    winner: str | None
    trials: int
    admission: Admission | None
    #: why nothing could be judged (no candidate with a defined Sharpe)
    reason: str | None = None


@dataclass(frozen=True)
class Judged:
    """The search's tables (``report.py``'s inputs) and each coin's verdict."""

    candidates: pl.DataFrame
    equity: pl.DataFrame
    folds: pl.DataFrame
    verdicts: dict[str, CoinVerdict]


def judge(
    records: Sequence[dict[str, Any]],
    holdings: Mapping[str, Holding],
    rules: SearchRules,
    *,
    capital: float,
    notional: float,
    search_id: str,
    window: tuple[date, date],
) -> Judged:
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["symbol"], []).append(record)
    rows, curves, folds, verdicts = [], [], [], {}
    for symbol, group in sorted(groups.items()):
        days = _calendar(group)
        matrix = np.column_stack([_daily(r, days, capital) for r in group])
        sharpes = np.array([_sharpe(matrix[:, k]) for k in range(len(group))])
        # holding with a trade's notional over the same days: the coin, and the equal-weight universe
        universe = np.mean([hold_returns(h, days, capital, notional) for h in holdings.values()], axis=0)
        own = universe if symbol == UNIVERSE else hold_returns(holdings[symbol], days, capital, notional)
        verdict = _verdict(symbol, group, matrix, sharpes, days, rules, own, universe)
        verdicts[symbol] = verdict
        shown = symbol if symbol == UNIVERSE else to_key(symbol)
        for k, record in enumerate(group):
            selected = record["candidate"] == verdict.winner
            rows.append(_row(record, matrix[:, k], own, sharpes[k], len(group), selected, verdict))
            curves.append(
                pl.DataFrame(
                    {"symbol": shown, "candidate": record["candidate"], "day": days, "equity": np.cumsum(matrix[:, k])}
                )
            )
            folds += [
                {
                    "symbol": shown,
                    "candidate": record["candidate"],
                    "fold": int(f["fold"]),
                    "test_start": datetime.fromisoformat(f["test_start"]).date(),
                    "ic": f.get("ic"),
                }
                for f in record["folds"]
            ]
    candidates = pl.DataFrame(rows).with_columns(
        search_id=pl.lit(search_id), window_start=pl.lit(window[0]), window_end=pl.lit(window[1])
    )
    return Judged(
        candidates=candidates,
        equity=pl.concat(curves, how="vertical") if curves else pl.DataFrame(),
        folds=pl.DataFrame(folds, schema_overrides={"ic": pl.Float64}),
        verdicts=verdicts,
    )


def hold_returns(holding: Holding, days: Sequence[date], capital: float, notional: float) -> np.ndarray:
    """The coin held with one trade's notional over ``days``: daily close-to-close returns on the capital, the
    round trip paid half on the first day and half on the last."""
    closes = pl.DataFrame({"day": list(days)}).join(holding.closes, on="day", how="left")
    prices = closes["close"].fill_null(strategy="forward").to_numpy().astype(np.float64)
    previous = holding.closes.filter(pl.col("day") < days[0])["close"]
    start = float(previous[-1]) if previous.len() else prices[0]
    change = np.diff(np.concatenate([[start], prices])) / np.concatenate([[start], prices[:-1]])
    returns = np.nan_to_num(change) * notional / capital
    half = holding.round_trip_bps / 2 / 1e4 * notional / capital
    returns[0] -= half
    returns[-1] -= half
    return returns


def _verdict(
    symbol: str,
    group: list[dict[str, Any]],
    matrix: np.ndarray,
    sharpes: np.ndarray,
    days: list[date],
    rules: SearchRules,
    own_hold: np.ndarray,
    universe_hold: np.ndarray,
) -> CoinVerdict:
    defined = np.isfinite(sharpes)
    if not defined.any():
        return CoinVerdict(symbol, None, len(group), None, "no candidate traded: no Sharpe to rank by")
    best = int(np.nanargmax(np.where(defined, sharpes, -np.inf)))
    record = group[best]
    # every candidate tried counts: one that never traded (or never varied) earned nothing, a Sharpe of 0
    per_period = np.array([_sharpe(matrix[:, k], annualised=False) for k in range(len(group))])
    dsr = deflated_sharpe(matrix[:, best], np.nan_to_num(per_period, nan=0.0))
    spa = spa_pvalue(matrix, block=rules.spa_block, reps=rules.spa_reps, seed=rules.seed)
    pbo = pbo_cscv(matrix, rules.pbo_splits)
    daily = pl.DataFrame({"day": days, "net_return": matrix[:, best]})
    stable = stability(trades_frame(record), daily)
    own = versus_hold(matrix[:, best], own_hold, DAYS_PER_YEAR)
    # a pooled model must beat the universe it was fit on too (a market-neutral one's own hold is the universe)
    pooled = symbol != UNIVERSE and record["params"]["family"] != "coin_lgbm"
    extra = versus_hold(matrix[:, best], universe_hold, DAYS_PER_YEAR) if pooled else None
    admission = admit(bool(record["gates_passed"]), dsr, spa, pbo, stable, own, rules, extra)
    return CoinVerdict(symbol, record["candidate"], len(group), admission)


def _row(
    record: dict[str, Any],
    daily: np.ndarray,
    hold: np.ndarray,
    sharpe: float,
    trials: int,
    selected: bool,
    verdict: CoinVerdict,
) -> dict[str, object]:
    metrics, signal, params = record["metrics"], record["signal"], record["params"]
    admission = verdict.admission if selected else None
    figures = admission.to_dict() if admission else {}
    return {
        "symbol": record["symbol"] if record["symbol"] == UNIVERSE else to_key(record["symbol"]),
        "candidate": record["candidate"],
        "timeframe": params["timeframe"],
        "exit": params["exit"],
        "family": params["family"],
        "encoder": bool(params["encoder"]),
        "trials": trials,
        "trades": int(figure(metrics.get("trade_count")) if metrics.get("trade_count") is not None else 0),
        "net_bps": figure(metrics.get("expectancy_bps")),
        "net_pnl": figure(metrics.get("net_pnl")),
        "sharpe": float(sharpe),
        "ic_mean": figure(signal.get("ic_mean")),
        "top_quintile_net_bps": figure(signal.get("q5_net_bps")),
        "dsr": _opt(figures.get("dsr", {}).get("probability")) if admission else None,
        "spa_p": _opt(figures.get("spa_p")) if admission else None,
        "pbo": _opt(figures.get("pbo", {}).get("probability")) if admission else None,
        "quarters_positive": _opt(figures.get("stable", {}).get("quarters_positive_share")) if admission else None,
        "max_year_share": _opt(figures.get("stable", {}).get("largest_year_share")) if admission else None,
        "sharpe_vs_hold": _sharpe(daily - hold),
        "hold_sharpe": _sharpe(hold),
        "gates_passed": bool(record["gates_passed"]),
        "gates_failed": record["gates_failed"],
        "selected": selected,
        "admitted": bool(admission.admitted) if admission else False,
        "verdict": _sentence(record, selected, verdict),
    }


def _sentence(record: dict[str, Any], selected: bool, verdict: CoinVerdict) -> str:
    if not selected:
        return "not the best by out-of-sample Sharpe"
    admission = verdict.admission
    if admission is None:
        return verdict.reason or "not judged"
    if admission.admitted:
        return f"admitted: best of {verdict.trials} candidates and survives every correction"
    return f"best of {verdict.trials}, not admitted: " + "; ".join(admission.reasons)


def _calendar(group: list[dict[str, Any]]) -> list[date]:
    """The out-of-sample days, through the last exit: a trade entered near a test window's end (a market-neutral
    leg held N bars) may close after it, and its P&L counts on the day it closed."""
    start = min(datetime.fromisoformat(r["oos_start"]) for r in group).date()
    end = max(datetime.fromisoformat(r["oos_end"]) for r in group).date()
    exits = [
        max(datetime.fromisoformat(t) for t in r["trades"]["exit_time"]).date()
        for r in group
        if r["trades"]["exit_time"]
    ]
    end = max([end, *(day + timedelta(days=1) for day in exits)])
    return [start + timedelta(days=n) for n in range((end - start).days)]


def _daily(record: dict[str, Any], days: list[date], capital: float) -> np.ndarray:
    """P&L by exit day as a return on the capital; 0 on a day nothing closed."""
    trades = trades_frame(record)
    by_day = trades.group_by(pl.col("exit_time").dt.date().alias("day")).agg(pl.col("net_pnl").sum())
    grid = pl.DataFrame({"day": days}).join(by_day, on="day", how="left")
    return grid["net_pnl"].fill_null(0.0).to_numpy().astype(np.float64) / capital


def _sharpe(returns: np.ndarray, annualised: bool = True) -> float:
    """Mean over standard deviation of daily returns (× √365 when annualised); NaN when flat or too short."""
    if returns.size < 3:
        return math.nan
    sd = float(np.std(returns, ddof=1))
    if not sd > 0:
        return math.nan
    ratio = float(np.mean(returns)) / sd
    return ratio * math.sqrt(DAYS_PER_YEAR) if annualised else ratio


def _opt(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
