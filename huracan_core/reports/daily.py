"""The daily report of one UTC day: what was trained and promoted (with the reasons), what the champions traded
and earned per coin after costs, the regime mix of the day's bars, the share of the gross profit that costs ate,
the best and worst patterns, and the checks that failed. Built with SQL over the exports (``queries``).

``daily_report.json`` carries ``date, models_trained, promotions, total_trades, avg_pnl_pct, hit_rate_pct``:
``promotions`` counts the champion changes that took effect that day (``promotion_decisions`` lists every decision
of the day with its reason), ``avg_pnl_pct`` is the mean net P&L per trade as % of its notional (mean net bps /
100), and the two trade figures (and ``net_pnl``) are null on a day without trades, which the page says, with why.
The page says a verdict several coins share once, with its coins (``verdicts``), and names patterns in words, their
key beside (``patterns``); the JSON keeps a row per coin and decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from html import escape
from typing import Any

import duckdb
import numpy as np

from huracan_core.reports import charts, queries
from huracan_core.reports import html as h
from huracan_core.reports.document import Report, jsonable
from huracan_core.reports.patterns import best_and_worst, pattern_words
from huracan_core.reports.verdicts import grouped_by_verdict
from huracan_core.trading import metrics

FAILED_CHECK_KEYS = ("asset", "check", "partition", "description")


def daily_report(
    con: duckdb.DuckDBPyConnection,
    day: date,
    failed_checks: Sequence[Mapping[str, Any]] = (),
    timeframe: str | None = None,
) -> Report:
    """``failed_checks``: the checks whose latest verdict failed, as ``{asset, check, partition, description}``
    (the caller reads them from the Dagster instance; the exports do not hold them)."""
    ex = queries.Exports(con, day, day, timeframe)
    summary = ex.one(queries.SUMMARY_OF_DAY) or {}
    outcomes = ex.rows(queries.OUTCOMES) or []
    net = np.array([r["net_pnl"] for r in outcomes], dtype=np.float64)
    net_bps = np.array([r["net_bps"] for r in outcomes], dtype=np.float64)
    traded = net.size > 0
    per_coin = ex.rows(queries.PER_COIN) or []
    costs = next((r for r in ex.rows(queries.COSTS) or [] if r["_total"]), None)
    decisions = ex.rows(queries.DECISIONS) or []
    champions = ex.rows(queries.CHAMPIONS_OF_DAY)
    coin_summaries = ex.rows(queries.COIN_SUMMARY_OF_DAY)
    patterns = ex.rows(queries.PATTERNS) or []
    doc: dict[str, Any] = {
        "date": day,
        "models_trained": summary.get("models_trained"),
        "promotions": sum(bool(d["promoted"]) for d in decisions),
        "total_trades": int(net.size),
        "avg_pnl_pct": float(net_bps.mean()) / 100.0 if traded else None,
        "hit_rate_pct": 100.0 * metrics.hit_rate(net) if traded else None,
        # beyond the six headline fields
        "kind": "daily",
        "timeframe": ex.timeframe,
        "generated_at": datetime.now(UTC).replace(microsecond=0),
        "models_passed": summary.get("models_passed"),
        "models_failed": summary.get("models_failed"),
        "net_pnl": float(net.sum()) if traded else None,
        "expectancy_bps": metrics.expectancy(net_bps) if traded else None,
        "profit_factor": metrics.profit_factor(net) if (net < 0).any() else None,
        "costs": _costs(costs),
        "cost_share_of_gross": costs["cost_share_of_gross"] if costs else None,
        "per_coin": [r for r in per_coin if not r["_total"]],
        "equity_per_coin": _equity_points(ex.rows(queries.EQUITY_POINTS) or []),
        "promotion_decisions": decisions,
        "regime_mix": ex.rows(queries.BAR_REGIMES) or [],
        "trade_regimes": ex.rows(queries.TRADE_REGIMES) or [],
        "patterns": _patterns(patterns),
        "champions": champions or [],
        "coins": coin_summaries or [],
        "failed_checks": [{k: check.get(k) for k in FAILED_CHECK_KEYS} for check in failed_checks],
        "no_trades_reason": None if traded else _why_no_trades(champions, coin_summaries),
    }
    doc["missing_tables"] = dict(ex.missing)
    return Report("daily", day.isoformat(), "daily_report.json", jsonable(doc), _html(doc))


def _costs(row: dict[str, Any] | None) -> dict[str, float]:
    keys = ("fees", "spread", "slippage", "costs", "gross_pnl", "net_pnl")
    return {k: (row[k] if row else 0.0) for k in keys}


def _equity_points(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    points: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        at = datetime.fromtimestamp(row["t"], UTC)
        points.setdefault(row["symbol"], []).append({"exit_time": at, "cum_net_pnl": row["cum_net_pnl"]})
    return points


def _patterns(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per scope, the best (or least bad) and the worst patterns by mean net bps, each named in words beside its
    key (rows come sorted best first)."""
    scopes: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        named = {**row, "pattern": pattern_words(row["regime"], row["side"], row["engines_agreeing"])}
        scopes.setdefault(row["scope"], []).append(named)
    return {scope: best_and_worst(ranked) for scope, ranked in scopes.items()}


def _why_no_trades(champions: list[dict[str, Any]] | None, coins: list[dict[str, Any]] | None) -> str:
    """From the champions table (or the daily summary) why the coins did not trade: each reason once, with the
    coins it applies to."""
    if champions:
        verdicts = [
            {
                **c,
                "reason": (c["reason"] or "no reason recorded")
                + ("" if not c["trade_ok"] else " (champion allowed to trade; no signal was taken)"),
            }
            for c in champions
        ]
    elif coins:
        verdicts = [{**c, "reason": c["reason"] or "no reason recorded"} for c in coins]
    else:
        return "no champion decisions and no daily summary were exported for this day"
    return "; ".join(f"{g['symbol']}: {g['reason']}" for g in grouped_by_verdict(verdicts, ()))


# ---- the page --------------------------------------------------------------------------------------------------

COIN_COLUMNS = [
    ("symbol", "Coin", "text"),
    ("trades", "Trades", "int"),
    ("wins", "Win", "int"),
    ("losses", "Loss", "int"),
    ("win_pct", "Hit rate", "pct"),
    ("mean_net_pct", "Avg net %", "pct"),
    ("total_net_pnl", "Net USDT", "usdt"),
    ("costs_paid", "Costs USDT", "usdt"),
    ("mean_duration_s", "Avg duration", "duration"),
]
REGIME_COLUMNS = [
    ("regime", "Regime at entry", "text"),
    ("share_pct", "Share of trades", "pct"),
    ("trades", "Trades", "int"),
    ("win_pct", "Hit rate", "pct"),
    ("mean_net_bps", "Avg net", "bps"),
    ("total_net_pnl", "Net USDT", "usdt"),
]
PATTERN_COLUMNS = [
    ("pattern", "Pattern", "text"),
    ("trades", "Trades", "int"),
    ("win_pct", "Win %", "pct"),
    ("mean_net_bps", "Avg net", "bps"),
    ("total_net_bps", "Total net", "bps"),
    ("pattern_key", "Key in the exports", "text"),
]


def same_failure_once(checks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The failed checks with one row per check and description, naming its partitions: a gate verdict that every
    coin got in the same words (a quiet day: no trades anywhere) is one row, not one per coin."""
    rows: dict[tuple, dict[str, Any]] = {}
    for check in checks:
        key = (check.get("asset"), check.get("check"), check.get("description"))
        if key in rows:
            rows[key]["partition"] += f", {check.get('partition')}"
        else:
            rows[key] = {**check, "partition": str(check.get("partition"))}
    return list(rows.values())


CHECK_COLUMNS = [
    ("asset", "Asset", "text"),
    ("check", "Check", "text"),
    ("partition", "Partitions", "text"),
    ("description", "Description", "text"),
]
CHAMPION_COLUMNS = [
    ("symbol", "Coin", "text"),
    ("champion_folder", "Champion", "text"),
    ("trade_ok", "Trading", "bool"),
    ("promoted", "Promoted", "bool"),
    ("reason", "Reason", "text"),
]


def _html(doc: dict[str, Any]) -> str:
    day: date = doc["date"]
    gone = doc["missing_tables"]
    title = f"Huracan daily report {day.isoformat()}"
    subtitle = (
        f"{doc['timeframe'] or 'no'} shadow trades of the champions in force, after fees, spread and slippage. "
        f"Generated {h.fmt(doc['generated_at'])}."
    )
    share = doc["cost_share_of_gross"]
    share_pct = h.fmt(None if share is None else 100 * share, "pct")
    headline = [
        h.cards(
            [
                ("Models trained", h.fmt(doc["models_trained"], "int")),
                ("Promotions", h.fmt(doc["promotions"], "int")),
                ("Total trades", h.fmt(doc["total_trades"], "int")),
                ("Avg net P&L per trade", h.fmt(doc["avg_pnl_pct"], "pct")),
                ("Hit rate", h.fmt(doc["hit_rate_pct"], "pct")),
                ("Net P&L", h.fmt(doc["net_pnl"], "usdt")),
                ("Cost share of gross", share_pct),
                ("Failed checks", h.fmt(len(doc["failed_checks"]), "int")),
            ]
        )
    ]
    if not doc["total_trades"]:
        headline.append(h.alert(f"No trades on {day.isoformat()}: {doc['no_trades_reason']}"))
    if doc["models_trained"] is None:
        headline.append(h.note("Models trained: n/a, no daily_summary row for this day."))
    parts = [h.section("The day", *headline, anchor="day"), _equity_section(doc)]
    parts.append(
        h.section(
            "Promotions and other champion decisions",
            h.table(
                h.DECISION_COLUMNS,
                h.said_once(doc["promotion_decisions"], h.DECISION_COLUMNS),
                h.missing(gone, "promotions", "no champion decision took effect this day"),
            ),
            anchor="promotions",
        )
    )
    mix = charts.bar_chart([(r["regime"], r["share_pct"]) for r in doc["regime_mix"]], "share of bars per regime", "%")
    parts.append(
        h.section(
            "Regime mix",
            h.figure(
                mix,
                "Share of the day's bars in each regime, over every coin's signals.",
                h.missing(gone, "signals", "no bars"),
            ),
            h.table(REGIME_COLUMNS, doc["trade_regimes"], "no trades", ("mean_net_bps", "total_net_pnl")),
            anchor="regimes",
        )
    )
    c = doc["costs"]
    parts.append(
        h.section(
            "Costs",
            h.cards(
                [
                    ("Fees", h.fmt(c["fees"], "usdt")),
                    ("Spread", h.fmt(c["spread"], "usdt")),
                    ("Slippage", h.fmt(c["slippage"], "usdt")),
                    ("Total costs", h.fmt(c["costs"], "usdt")),
                    ("Gross P&L", h.fmt(c["gross_pnl"], "usdt")),
                    ("Cost share of gross", share_pct),
                ]
            ),
            h.note("Cost share = costs paid / gross profit; n/a when the gross profit is not positive."),
            anchor="costs",
        )
    )
    patterns = []
    for scope, ranked in doc["patterns"].items():
        best = "best" if ranked["winning"] else "least bad — every pattern loses after costs"
        for which, heading in (("best", best), ("worst", "worst")):
            patterns += [
                f"<h3>{escape(str(scope))}: {escape(heading)}</h3>",
                h.table(PATTERN_COLUMNS, ranked[which], "none", ("mean_net_bps",)),
            ]
    if not patterns:
        patterns = [h.note(h.missing(gone, "pattern_performance", "no patterns with trades this day"))]
    parts.append(h.section("Best and worst patterns", *patterns, anchor="patterns"))
    parts.append(
        h.section(
            "Failed checks",
            h.table(CHECK_COLUMNS, same_failure_once(doc["failed_checks"]), "no failed checks"),
            anchor="checks",
        )
    )
    parts.append(
        h.section(
            "Champions",
            h.table(
                CHAMPION_COLUMNS,
                h.said_once(doc["champions"], CHAMPION_COLUMNS),
                h.missing(gone, "champions", "no champion decisions this day"),
            ),
            anchor="champions",
        )
    )
    parts.append(h.missing_section(gone))
    return h.page(title, subtitle, parts)


def _equity_section(doc: dict[str, Any]) -> str:
    day: date = doc["date"]
    start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    series = {
        symbol: [(start, 0.0)] + [(p["exit_time"].timestamp(), p["cum_net_pnl"]) for p in points]
        for symbol, points in doc["equity_per_coin"].items()
    }
    for points in series.values():  # flat to the end of the day (or of the last exit, if later)
        points.append((max(start + 86400, points[-1][0]), points[-1][1]))

    def label(t: float) -> str:
        return "24:00" if t == start + 86400 else datetime.fromtimestamp(t, UTC).strftime("%H:%M")

    chart = charts.line_chart(
        series,
        "cumulative net P&L per coin after costs",
        label,
        "USDT",
        step=True,
        x_ticks=[start + 6 * 3600 * i for i in range(5)],
    )
    return h.section(
        "Equity per coin after costs",
        h.figure(
            chart, "Cumulative net P&L of each coin's trades over the day (UTC), stepping at each exit.", "no trades"
        ),
        h.table(COIN_COLUMNS, doc["per_coin"], "no trades", ("mean_net_pct", "total_net_pnl")),
        anchor="equity",
    )
