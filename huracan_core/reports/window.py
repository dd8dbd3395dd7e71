"""The window report: a backtest report for any range of days, as a freqtrade user reads one — per-coin table,
exit reasons, summary metrics, breakdown by day/week/month — plus what freqtrade cannot show: costs paid by kind,
the regime mix, which model or policy decided, and the gates each coin's models passed or failed.

Everything is aggregated with SQL over the exports (``queries``). The ratios are the metrics module's own
functions (``huracan_core.trading.metrics``) on the window's daily equity: capital + the cumulative net P&L of
each day (trades counted on their day, i.e. their shadow-trade partition; a day without trades adds 0), with
daily returns annualised as ``1d`` bars (sqrt(365)). A figure the metrics module cannot define on these trades —
no trades, a flat curve, no losing day, no loss for the profit factor — is None (``n/a``), never 0.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np

from huracan_core.reports import charts, queries
from huracan_core.reports import html as h
from huracan_core.reports.document import Report, jsonable
from huracan_core.trading import metrics

#: the period of the equity points the ratios are computed on
PERIOD = "1d"
#: above this many days the P&L bar chart shows weeks instead of days
MAX_DAY_BARS = 62


class NothingInWindow(ValueError):
    """The exports hold no trade and no daily summary for a window's days: a report of it would be empty."""


def window_folder_name(start: date, end: date) -> str:
    return f"window_{start.isoformat()}_{end.isoformat()}"


def window_report(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    timeframe: str | None = None,
    capital: float = queries.DEFAULT_CAPITAL,
) -> Report:
    ex = queries.Exports(con, start, end, timeframe, capital)
    if not ex.count("trade_history") and not ex.count("daily_summary"):
        raise NothingInWindow(_nothing(ex))
    daily = ex.rows(queries.DAILY) or []
    per_coin, costs = ex.rows(queries.PER_COIN) or [], ex.rows(queries.COSTS) or []
    summary = summary_metrics(ex, daily, per_coin, costs)
    doc: dict[str, Any] = {
        "kind": "window",
        "start": start,
        "end": end,
        "timeframe": ex.timeframe,
        "capital": capital,
        "generated_at": datetime.now(UTC).replace(microsecond=0),
        "summary": summary,
        "per_coin": per_coin,
        "exit_reasons": ex.rows(queries.EXIT_REASONS) or [],
        "daily": daily,
        "weekly": ex.rows(queries.PERIODS, unit="week") or [],
        "monthly": ex.rows(queries.PERIODS, unit="month") or [],
        "costs": costs,
        "regimes": {"trades": ex.rows(queries.TRADE_REGIMES) or [], "bars": ex.rows(queries.BAR_REGIMES) or []},
        "decided_by": ex.rows(queries.DECIDED_BY) or [],
        "gates": {"per_coin": ex.rows(queries.GATES) or [], "per_gate": ex.rows(queries.GATE_RESULTS) or []},
        "champions": ex.rows(queries.CHAMPION_DAYS) or [],
        "promotions": ex.rows(queries.DECISIONS) or [],
    }
    coin_days = ex.rows(queries.COIN_DAYS) or []
    doc["missing_tables"] = dict(ex.missing)
    return Report("window", window_folder_name(start, end), "window_report.json", jsonable(doc), _html(doc, coin_days))


def _nothing(ex: queries.Exports) -> str:
    """``nothing in D1..D2``, and the days the exports do hold (or that they hold none)."""
    held = ex.days_held("daily_summary")
    where = (
        f"they hold {held[0]}..{held[1]}"
        if held
        else "they hold no day at all (a whole `huracan run` exports its days)"
    )
    cut = f" {ex.timeframe}" if ex.timeframe else ""
    return (
        f"nothing in {ex.start}..{ex.end}: the{cut} exports hold no trade and no daily summary for those days; {where}"
    )


def summary_metrics(
    ex: queries.Exports, daily: list[dict[str, Any]], per_coin: list[dict[str, Any]], costs: list[dict[str, Any]]
) -> dict[str, Any]:
    """freqtrade's summary figures: SQL aggregates, and the metrics module's ratios on the daily equity."""
    outcomes = ex.rows(queries.OUTCOMES) or []
    net = np.array([r["net_pnl"] for r in outcomes], dtype=np.float64)
    net_bps = np.array([r["net_bps"] for r in outcomes], dtype=np.float64)
    totals = next((r for r in per_coin if r["_total"]), None)
    coins = [r for r in per_coin if not r["_total"]]
    traded_days = [d for d in daily if d["trades"] > 0]
    equity = np.array([ex.capital] + [d["equity"] for d in daily], dtype=np.float64)
    returns = np.diff(equity) / equity[:-1]
    traded = net.size > 0
    downside = bool((returns < 0).any())
    drawdown = ex.one(queries.DRAWDOWN) if traded else None
    mdd = metrics.max_drawdown(equity) if traded else None
    streaks = ex.one(queries.STREAKS) or {}
    best_coin = max(coins, key=lambda r: r["total_net_pnl"], default=None)
    worst_coin = min(coins, key=lambda r: r["total_net_pnl"], default=None)
    best_day = max(traded_days, key=lambda d: d["net_pnl"], default=None)
    worst_day = min(traded_days, key=lambda d: d["net_pnl"], default=None)
    cost_total = next((r for r in costs if r["_total"]), {})
    return {
        "trades": int(net.size),
        "days": len(daily),
        "trading_days": len(traded_days),
        "days_without_trades": len(daily) - len(traded_days),
        "wins": totals["wins"] if totals else 0,
        "draws": totals["draws"] if totals else 0,
        "losses": totals["losses"] if totals else 0,
        "total_net_pnl": float(net.sum()) if traded else None,
        "total_net_pct": 100.0 * float(net.sum()) / ex.capital if traded else None,
        "final_equity": float(equity[-1]),
        "mean_net_bps": totals["mean_net_bps"] if totals else None,
        "mean_duration_s": totals["mean_duration_s"] if totals else None,
        "costs_paid": cost_total.get("costs") or 0.0,
        "cost_share_of_gross": cost_total.get("cost_share_of_gross"),
        # the metrics module's figures, None where they are undefined on these trades
        "sharpe": metrics.sharpe(returns, PERIOD) if traded and returns.size >= 2 and returns.std(ddof=1) > 0 else None,
        "sortino": metrics.sortino(returns, PERIOD) if traded and downside else None,
        "calmar": metrics.calmar(equity, PERIOD) if mdd else None,
        "max_drawdown": mdd,
        "max_drawdown_pct": 100.0 * mdd if mdd is not None else None,
        "max_drawdown_usdt": drawdown["drawdown_usdt"] if drawdown and mdd else None,
        "drawdown_peak_day": (drawdown["peak_day"] or "window start") if drawdown and mdd else None,
        "drawdown_trough_day": drawdown["trough_day"] if drawdown and mdd else None,
        "profit_factor": metrics.profit_factor(net) if (net < 0).any() else None,
        "expectancy_bps": metrics.expectancy(net_bps) if traded else None,
        "expectancy_usdt": metrics.expectancy(net) if traded else None,
        "hit_rate": metrics.hit_rate(net) if traded else None,
        "hit_rate_pct": 100.0 * metrics.hit_rate(net) if traded else None,
        "best_coin": _named(best_coin, "symbol", "total_net_pnl"),
        "worst_coin": _named(worst_coin, "symbol", "total_net_pnl"),
        "best_day": _named(best_day, "day", "net_pnl"),
        "worst_day": _named(worst_day, "day", "net_pnl"),
        "max_win_streak": streaks.get("max_win_streak", 0) if traded else None,
        "max_loss_streak": streaks.get("max_loss_streak", 0) if traded else None,
    }


def _named(row: dict[str, Any] | None, key: str, value: str) -> dict[str, Any] | None:
    return {key: row[key], value: row[value]} if row else None


# ---- the page --------------------------------------------------------------------------------------------------

OUTCOME_COLUMNS = [
    ("trades", "Trades", "int"),
    ("mean_net_pct", "Avg net %", "pct"),
    ("total_net_pnl", "Tot net USDT", "usdt"),
    ("total_net_pct", "Tot net % of capital", "pct"),
    ("wins", "Win", "int"),
    ("draws", "Draw", "int"),
    ("losses", "Loss", "int"),
    ("win_pct", "Win %", "pct"),
    ("mean_duration_s", "Avg duration", "duration"),
]
SIGNED = ("mean_net_pct", "total_net_pnl", "total_net_pct", "net_pnl", "net_pct", "mean_net_bps", "cum_net_pnl")
PERIOD_COLUMNS = [
    ("trades", "Trades", "int"),
    ("wins", "Win", "int"),
    ("draws", "Draw", "int"),
    ("losses", "Loss", "int"),
    ("win_pct", "Win %", "pct"),
    ("net_pnl", "Net USDT", "usdt"),
    ("net_pct", "Net % of capital", "pct"),
    ("costs_paid", "Costs USDT", "usdt"),
]


def _day_labels(start: date):
    """x labels of a chart by day, whose point the day before ``start`` is the window's start (the capital)."""

    def label(seconds: float) -> str:
        day = datetime.fromtimestamp(seconds, UTC).date()
        return "start" if day < start else day.isoformat()

    return label


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _summary_table(s: dict[str, Any]) -> str:
    def named(item: dict[str, Any] | None, key: str, value: str) -> str:
        return f"{h.fmt(item[key])} ({h.fmt(item[value], 'usdt')})" if item else h.NA

    dd = (
        (
            f"{h.fmt(s['max_drawdown_pct'], 'pct')} ({h.fmt(s['max_drawdown_usdt'], 'usdt')}), "
            f"from {h.fmt(s['drawdown_peak_day'])} to {h.fmt(s['drawdown_trough_day'])}"
        )
        if s["max_drawdown"]
        else (h.NA if s["max_drawdown"] is None else "0.00 % (no drawdown)")
    )
    no_loss, share = s["profit_factor"] is None and s["trades"] > 0, s["cost_share_of_gross"]
    rows = [
        ("Trades", h.fmt(s["trades"], "int")),
        ("Days / with trades / without", f"{s['days']} / {s['trading_days']} / {s['days_without_trades']}"),
        ("Total net profit", f"{h.fmt(s['total_net_pnl'], 'usdt')} ({h.fmt(s['total_net_pct'], 'pct')} of capital)"),
        ("Final equity", h.fmt(s["final_equity"], "usdt")),
        ("Win / draw / loss", f"{s['wins']} / {s['draws']} / {s['losses']}"),
        ("Hit rate", h.fmt(s["hit_rate_pct"], "pct")),
        ("Expectancy", f"{h.fmt(s['expectancy_bps'], 'bps')} ({h.fmt(s['expectancy_usdt'], 'usdt')}) per trade"),
        ("Profit factor", h.fmt(s["profit_factor"], "ratio") + (" (no losing trade)" if no_loss else "")),
        ("Sharpe (daily, annualised)", h.fmt(s["sharpe"], "ratio")),
        ("Sortino (daily, annualised)", h.fmt(s["sortino"], "ratio")),
        ("Calmar (daily)", h.fmt(s["calmar"], "ratio")),
        ("Max drawdown", dd),
        ("Best coin", named(s["best_coin"], "symbol", "total_net_pnl")),
        ("Worst coin", named(s["worst_coin"], "symbol", "total_net_pnl")),
        ("Best day", named(s["best_day"], "day", "net_pnl")),
        ("Worst day", named(s["worst_day"], "day", "net_pnl")),
        ("Max consecutive wins / losses", f"{h.fmt(s['max_win_streak'])} / {h.fmt(s['max_loss_streak'])}"),
        ("Avg trade duration", h.fmt(s["mean_duration_s"], "duration")),
        ("Costs paid", h.fmt(s["costs_paid"], "usdt")),
        ("Costs / gross profit", h.fmt(None if share is None else 100 * share, "pct")),
    ]
    return h.table(
        [("metric", "Metric", "text"), ("value", "Value", "text")],
        [{"metric": k, "value": v} for k, v in rows],
        "no figures",
    )


COST_COLUMNS = [
    ("symbol", "Coin", "text"),
    ("trades", "Trades", "int"),
    ("fees", "Fees", "usdt"),
    ("spread", "Spread", "usdt"),
    ("slippage", "Slippage", "usdt"),
    ("costs", "Total costs", "usdt"),
    ("gross_pnl", "Gross P&L", "usdt"),
    ("net_pnl", "Net P&L", "usdt"),
    ("mean_cost_bps", "Avg cost", "bps"),
    ("cost_share_of_gross", "Costs / gross", "ratio"),
]
CHAMPION_COLUMNS = [
    ("symbol", "Coin", "text"),
    ("days", "Days", "int"),
    ("days_with_champion", "With champion", "int"),
    ("days_trading", "Trading", "int"),
    ("promotions", "Promotions", "int"),
    ("usual_reason_not_trading", "Usual reason for not trading", "text"),
    ("latest_champion", "Latest champion", "text"),
]
GATE_COLUMNS = [
    ("symbol", "Coin", "text"),
    ("models", "Models", "int"),
    ("passed", "Passed", "int"),
    ("failed", "Failed", "int"),
    ("gate_profile", "Profile", "text"),
    ("latest_gate_summary", "Latest verdict", "text"),
]
PER_GATE_COLUMNS = [
    ("symbol", "Coin", "text"),
    ("gate", "Gate", "text"),
    ("passed", "Passed", "int"),
    ("failed", "Failed", "int"),
]


def _html(doc: dict[str, Any], coin_days: list[dict[str, Any]]) -> str:
    s, start, end = doc["summary"], doc["start"], doc["end"]
    gone = doc["missing_tables"]
    title = f"Huracan window report {start} .. {end}"
    subtitle = (
        f"{doc['timeframe'] or 'no'} shadow trades of the champions in force, after fees, spread and slippage; "
        f"capital {h.fmt(doc['capital'], 'usdt')}. Generated {h.fmt(doc['generated_at'])}."
    )
    parts = [
        h.section(
            "Summary",
            h.cards(
                [
                    ("Trades", h.fmt(s["trades"], "int")),
                    ("Net profit", h.fmt(s["total_net_pnl"], "usdt")),
                    ("Hit rate", h.fmt(s["hit_rate_pct"], "pct")),
                    ("Profit factor", h.fmt(s["profit_factor"], "ratio")),
                    ("Sharpe", h.fmt(s["sharpe"], "ratio")),
                    ("Max drawdown", h.fmt(s["max_drawdown_pct"], "pct")),
                ]
            ),
            _summary_table(s),
            anchor="summary",
        )
    ]
    if not s["trades"]:
        parts.insert(0, h.alert(f"No trades between {start} and {end}: see the champions and gates below for why."))
    parts.append(_equity_section(doc, coin_days))
    coin = [("symbol", "Coin", "text"), *OUTCOME_COLUMNS, ("costs_paid", "Costs USDT", "usdt")]
    parts.append(h.section("Per coin", h.table(coin, doc["per_coin"], "no trades", SIGNED), anchor="per-coin"))
    exits = [("exit_reason", "Exit reason", "text"), ("share_pct", "Share", "pct"), *OUTCOME_COLUMNS]
    parts.append(
        h.section("Exit reasons", h.table(exits, doc["exit_reasons"], "no trades", SIGNED), anchor="exit-reasons")
    )
    period = [("trading_days", "Trading days", "int"), *PERIOD_COLUMNS]
    parts.append(
        h.section(
            "Breakdown by day, week and month",
            "<h3>Days</h3>",
            h.table(
                [("day", "Day", "date"), *PERIOD_COLUMNS, ("equity", "Equity", "usdt")], doc["daily"], "no days", SIGNED
            ),
            "<h3>Weeks</h3>",
            h.table([("period", "Week of", "date"), *period], doc["weekly"], "no weeks", SIGNED),
            "<h3>Months</h3>",
            h.table([("period", "Month", "date"), *period], doc["monthly"], "no months", SIGNED),
            anchor="breakdown",
        )
    )
    total = next((r for r in doc["costs"] if r["symbol"] == "TOTAL"), None)
    kinds = (
        charts.bar_chart([(k, total[k]) for k in ("fees", "spread", "slippage")], "costs by kind", "USDT")
        if total
        else ""
    )
    parts.append(
        h.section(
            "Costs paid by kind",
            h.figure(kinds, "Fees, spread and slippage paid over the window, both legs.", "no trades: no costs"),
            h.table(COST_COLUMNS, doc["costs"], "no trades", SIGNED),
            h.note("Costs / gross is n/a where the gross P&L is not positive."),
            anchor="costs",
        )
    )
    mix = charts.bar_chart(
        [(r["regime"], r["share_pct"]) for r in doc["regimes"]["bars"]], "share of bars per regime", "%"
    )
    parts.append(
        h.section(
            "Regime mix",
            h.figure(
                mix, "Share of the window's bars in each regime (signals).", h.missing(gone, "signals", "no bars")
            ),
            h.table(
                [("regime", "Regime at entry", "text"), ("share_pct", "Share of trades", "pct"), *OUTCOME_COLUMNS],
                doc["regimes"]["trades"],
                "no trades",
                SIGNED,
            ),
            anchor="regimes",
        )
    )
    decided = [
        ("symbol", "Coin", "text"),
        ("policy", "Policy", "text"),
        ("model_version", "Model", "text"),
        *OUTCOME_COLUMNS,
    ]
    parts.append(
        h.section(
            "Which model or policy decided",
            h.table(decided, doc["decided_by"], "no trades", SIGNED),
            h.table(
                CHAMPION_COLUMNS,
                h.said_once(doc["champions"], CHAMPION_COLUMNS, "usual_reason_not_trading"),
                h.missing(gone, "champions", "no champion decisions in the window"),
            ),
            anchor="decided-by",
        )
    )
    parts.append(
        h.section(
            "Gates passed and failed by each coin's models",
            h.table(
                GATE_COLUMNS,
                h.said_once(doc["gates"]["per_coin"], GATE_COLUMNS, "latest_gate_summary"),
                h.missing(gone, "model_performance", "no models trained in the window"),
            ),
            h.table(PER_GATE_COLUMNS, doc["gates"]["per_gate"], "no gate verdicts"),
            anchor="gates",
        )
    )
    parts.append(
        h.section(
            "Champion decisions",
            h.table(
                h.DECISION_COLUMNS,
                h.said_once(doc["promotions"], h.DECISION_COLUMNS),
                h.missing(gone, "promotions", "no decisions took effect in the window"),
            ),
            anchor="promotions",
        )
    )
    parts.append(h.missing_section(gone))
    return h.page(title, subtitle, parts)


def _equity_section(doc: dict[str, Any], coin_days: list[dict[str, Any]]) -> str:
    start = doc["start"]
    before = _epoch(start) - 86400  # the capital, before the first day's P&L
    ticks = [before] + [_epoch(d["day"]) for d in doc["daily"]]
    curve = [(before, doc["capital"])] + [(_epoch(d["day"]), d["equity"]) for d in doc["daily"]]
    equity = charts.line_chart(
        {"equity": curve}, "daily equity after costs", _day_labels(start), "USDT", include_zero=False, x_ticks=ticks
    )
    per_coin: dict[str, list[tuple[float, float]]] = {}
    for row in coin_days:
        per_coin.setdefault(row["symbol"], [(before, 0.0)]).append((_epoch(row["day"]), row["cum_net_pnl"]))
    coins = charts.line_chart(per_coin, "cumulative net P&L per coin", _day_labels(start), "USDT", x_ticks=ticks)
    daily = len(doc["daily"]) <= MAX_DAY_BARS
    by = doc["daily"] if daily else doc["weekly"]
    bars = charts.bar_chart(
        [(str(d["day"] if daily else d["period"]), d["net_pnl"]) for d in by],
        "net P&L per day" if daily else "net P&L per week",
        "USDT",
    )
    return h.section(
        "Equity",
        h.figure(equity, "Equity at the end of each day (capital + cumulative net P&L after costs).", "no days"),
        h.figure(coins, "Cumulative net P&L per coin at the end of each day, after costs.", "no trades"),
        h.figure(bars, "Net P&L " + ("per day" if daily else "per week (ISO weeks)") + " after costs.", "no days"),
        anchor="equity",
    )
