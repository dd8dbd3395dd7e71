"""The daily and window reports, built with SQL over export tables written here as parquet (per the contract in
``docs/exports.md``), against figures computed directly with polars and the metrics module."""

from __future__ import annotations

import json
import math
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from huracan_core.reports import (
    daily_report,
    daily_report_command,
    report_command,
    window_report,
    write_report,
)
from huracan_core.reports.document import jsonable
from huracan_core.reports.patterns import best_and_worst, pattern_words
from huracan_core.reports.window import NothingInWindow
from huracan_core.trading import metrics

TF = "15m"
CAPITAL = 10_000.0
START, END = date(2024, 12, 2), date(2024, 12, 6)
QUIET_DAY = date(2024, 12, 4)  # no trades on any coin
SYMBOLS = ("BTC-USDT", "ETH-USDT")
COST_BPS = {"fees_paid": 8.0, "spread_paid": 2.5, "slippage_paid": 0.5, "funding_paid": 1.0}
#: (symbol, day, hour of exit, gross bps, exit reason, regime) — wins and losses on both coins
TRADES = [
    ("BTC-USDT", date(2024, 12, 2), 3, 60.0, "take_profit", "TREND"),
    ("BTC-USDT", date(2024, 12, 2), 9, -40.0, "stop_loss", "TREND"),
    ("ETH-USDT", date(2024, 12, 2), 11, 35.0, "trailing_stop", "RANGE"),
    ("BTC-USDT", date(2024, 12, 3), 5, -80.0, "stop_loss", "PANIC"),
    ("ETH-USDT", date(2024, 12, 3), 6, -25.0, "max_hold", "RANGE"),
    ("ETH-USDT", date(2024, 12, 3), 14, 12.0, "max_hold", "RANGE"),  # gross 12 = costs 12: a draw after costs
    ("BTC-USDT", date(2024, 12, 5), 2, 150.0, "take_profit", "TREND"),
    ("ETH-USDT", date(2024, 12, 5), 8, 90.0, "take_profit", "TREND"),
    ("ETH-USDT", date(2024, 12, 6), 20, -30.0, "end_of_data", "RANGE"),
]


def _ts(day: date, hour: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)


def ledger(trades=TRADES, size: float = 1_000.0) -> pl.DataFrame:
    """A trade_history export of ``trades``: costs of COST_BPS on the notional, net = gross - costs."""
    cost = sum(COST_BPS.values())
    rows = []
    for i, (symbol, day, hour, gross, reason, regime) in enumerate(trades):
        net = gross - cost
        rows.append(
            {
                "day": day,
                "symbol": symbol,
                "timeframe": TF,
                "partition_key": f"{day}|{symbol}",
                "dagster_run_id": "run-1",
                "trade_id": f"{symbol}-{day}-{i:03d}",
                "signal_time": _ts(day, hour - 1.25),
                "entry_time": _ts(day, hour - 1),
                "exit_time": _ts(day, hour),
                "entry_price": 100.0,
                "exit_price": 100.0 * (1 + gross / 1e4),
                "size": size,
                "direction": 1,
                "bars_held": 4,
                "gross_bps": gross,
                "net_bps": net,
                "net_pnl": net * size / 1e4,
                **{k: v * size / 1e4 for k, v in COST_BPS.items()},
                "exit_reason": reason,
                "regime": regime,
                "engines_agreeing": "trend,leader,breakout",
                "confidence": 0.7,
                "policy": "model" if symbol == "BTC-USDT" else "rules",
                "model_version": "20241201_000000Z" if symbol == "BTC-USDT" else "",
                "expected_edge_bps": 20.0,
                "recipe_hash": "abc",
            }
        )
    if not rows:  # the schema of a partition without trades
        return ledger(TRADES[:1], size).clear()
    return pl.DataFrame(rows, schema_overrides={"exit_time": pl.Datetime("us", "UTC")})


def _lineage(day: date, symbol: str) -> dict:
    key = f"{day}|{symbol}" if symbol != "ALL" else str(day)
    return {"day": day, "symbol": symbol, "timeframe": TF, "partition_key": key, "dagster_run_id": "run-1"}


def write_exports(root: Path, trades: pl.DataFrame, days: list[date] | None = None) -> Path:
    """Writes the export tables under ``root/exports/<table>/<tf>/...`` (one file per partition, an empty one for a
    coin-day without trades) and returns ``root``."""
    days = days or [START + timedelta(days=i) for i in range((END - START).days + 1)]
    base = root / "exports"

    def put(table: str, frame: pl.DataFrame, day: date, symbol: str | None = None) -> None:
        path = base / table / TF / (f"{symbol}/{day}.parquet" if symbol else f"{day}.parquet")
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)

    for day in days:
        for symbol in SYMBOLS:
            put("trade_history", trades.filter((pl.col("day") == day) & (pl.col("symbol") == symbol)), day, symbol)
            bars = pl.DataFrame(
                [
                    {
                        **_lineage(day, symbol),
                        "timestamp": _ts(day, h / 4),
                        "direction": 0,
                        "confidence": 0.5,
                        "regime": ("TREND" if h < 48 else "RANGE")
                        if symbol == "BTC-USDT"
                        else "PANIC"
                        if h < 24
                        else "RANGE",
                    }
                    for h in range(96)
                ]
            )
            put("signals", bars, day, symbol)
            passed = symbol == "BTC-USDT"
            gates = {
                "profile": "default",
                "passed": passed,
                "results": [{"name": "min_trades", "passed": True}, {"name": "sharpe", "passed": passed}],
            }
            put(
                "model_performance",
                pl.DataFrame(
                    [
                        {
                            **_lineage(day, symbol),
                            "model_version": f"{symbol}/{day:%Y%m%d}_000000Z",
                            "cutoff": _ts(day, 0),
                            "passed": passed,
                            "gate_profile": "default",
                            "gate_summary": "passed default"
                            if passed
                            else "failed default: sharpe 0.1 (needs >= 0.5, short by 0.4)",
                            "policy": "model",
                            "fold": None,
                            "trade_count": 40.0,
                            "net_pnl": 1.0,
                            "gates_json": json.dumps(gates),
                        }
                    ],
                    schema_overrides={"fold": pl.Int64},
                ),
                day,
                symbol,
            )
            put(
                "champions",
                pl.DataFrame(
                    [
                        {
                            **_lineage(day, symbol),
                            "champion_folder": "models/BTC-USDT/20241201_000000Z" if passed else None,
                            "trade_ok": passed and day != QUIET_DAY,
                            "promoted": False,
                            "reason": "champion in force"
                            if passed and day != QUIET_DAY
                            else ("kill switch: 3 losing days" if passed else "no model has passed its gates yet"),
                        }
                    ],
                    schema_overrides={"champion_folder": pl.String},
                ),
                day,
                symbol,
            )
            mine = trades.filter((pl.col("day") == day) & (pl.col("symbol") == symbol))
            patterns = (
                mine.group_by("regime")
                .agg(
                    trades=pl.len(),
                    wins=(pl.col("net_pnl") > 0).sum(),
                    mean_net_bps=pl.col("net_bps").mean(),
                    total_net_bps=pl.col("net_bps").sum(),
                )
                .with_columns(
                    scope=pl.lit("traded"),
                    pattern_key=pl.col("regime") + "|long|3",
                    side=pl.lit("long"),
                    engines_agreeing=pl.lit(3),
                )
            )
            put(
                "pattern_performance",
                patterns.with_columns(**{k: pl.lit(v) for k, v in _lineage(day, symbol).items()}),
                day,
                symbol,
            )
        summary = []
        for symbol in (*SYMBOLS, "ALL"):
            mine = trades.filter(pl.col("day") == day, (pl.col("symbol") == symbol) | (symbol == "ALL"))
            summary.append(
                {
                    **_lineage(day, symbol),
                    "models_trained": 2 if symbol == "ALL" else 1,
                    "models_passed": 1 if symbol in ("ALL", "BTC-USDT") else 0,
                    "models_failed": 0 if symbol == "BTC-USDT" else 1,
                    "promotions": int(day == START and symbol in ("ALL", "BTC-USDT")),
                    "trades": mine.height,
                    "hit_rate_pct": 100 * float((mine["net_pnl"] > 0).mean()) if mine.height else None,
                    "mean_net_bps": mine["net_bps"].mean(),
                    "net_pnl": float(mine["net_pnl"].sum()),
                    "costs_paid": float(sum(mine[k].sum() for k in COST_BPS)),
                    "champion": None,
                    "trade_ok": None,
                    "reason": None,
                }
            )
        put(
            "daily_summary",
            pl.DataFrame(
                summary,
                schema_overrides={
                    "hit_rate_pct": pl.Float64,
                    "mean_net_bps": pl.Float64,
                    "champion": pl.String,
                    "trade_ok": pl.Boolean,
                    "reason": pl.String,
                },
            ),
            day,
        )
        promoted = day == START
        put(
            "promotions",
            pl.DataFrame(
                [
                    {
                        **_lineage(day, "BTC-USDT"),
                        "decision_key": f"engine|BTC-USDT|{day}",
                        "source": "engine",
                        "decided_at": _ts(day, 0.5),
                        "effective_from": _ts(day, 1),
                        "promoted": promoted,
                        "champion_before": None if promoted else "models/BTC-USDT/20241201_000000Z",
                        "champion_after": "models/BTC-USDT/20241201_000000Z",
                        "reason": "first gate-passing model that makes money becomes champion"
                        if promoted
                        else "challenger did not beat the champion",
                        "test": "first-champion" if promoted else "stationary-bootstrap",
                        "p_value": None if promoted else 0.41,
                    }
                ],
                schema_overrides={"champion_before": pl.String, "p_value": pl.Float64},
            ),
            day,
        )
    return root


VIEWS = (
    "trade_history",
    "signals",
    "model_performance",
    "champions",
    "pattern_performance",
    "daily_summary",
    "promotions",
)


def connect(root: Path, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A connection whose views are the contract's tables, as the exports' DuckDB file defines them."""
    con = duckdb.connect(database)
    for table in VIEWS:
        glob = root / "exports" / table / "**" / "*.parquet"
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{glob}', union_by_name=true)")
    return con


@pytest.fixture
def exports(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return connect(write_exports(tmp_path, ledger()))


def expected_daily_equity(trades: pl.DataFrame, start: date = START, end: date = END) -> np.ndarray:
    """Capital, then the equity at the end of each day of the window (a day without trades adds 0)."""
    grid = pl.DataFrame({"day": pl.date_range(start, end, eager=True)})
    pnl = (
        grid.join(trades.group_by("day").agg(pl.col("net_pnl").sum()), on="day", how="left").fill_null(0.0).sort("day")
    )
    return np.concatenate([[CAPITAL], CAPITAL + np.cumsum(pnl["net_pnl"].to_numpy())])


def test_window_figures_equal_the_metrics_module(exports) -> None:
    trades = ledger()
    report = window_report(exports, START, END)
    s = report.json["summary"]
    equity = expected_daily_equity(trades)
    returns = np.diff(equity) / equity[:-1]
    net, net_bps = trades["net_pnl"].to_numpy(), trades["net_bps"].to_numpy()
    assert s["trades"] == trades.height == 9
    assert s["sharpe"] == pytest.approx(metrics.sharpe(returns, "1d"), rel=1e-9)
    assert s["sortino"] == pytest.approx(metrics.sortino(returns, "1d"), rel=1e-9)
    assert s["calmar"] == pytest.approx(metrics.calmar(equity, "1d"), rel=1e-9)
    assert s["max_drawdown"] == pytest.approx(metrics.max_drawdown(equity), rel=1e-9)
    assert s["profit_factor"] == pytest.approx(metrics.profit_factor(net), rel=1e-9)
    assert s["expectancy_bps"] == pytest.approx(metrics.expectancy(net_bps), rel=1e-9)
    assert s["hit_rate"] == pytest.approx(metrics.hit_rate(net))
    assert s["hit_rate_pct"] == pytest.approx(100 * metrics.hit_rate(net))
    assert all(v is not None and v != 0 for v in (s["sharpe"], s["sortino"], s["calmar"], s["max_drawdown"]))
    # the drawdown's dates: the last high before the trough, and the trough (equity[i] is the end of day i - 1)
    trough = int(np.argmax((np.maximum.accumulate(equity) - equity) / np.maximum.accumulate(equity)))
    peak = int(np.argmax(equity[: trough + 1]))
    assert s["drawdown_trough_day"] == (START + timedelta(days=trough - 1)).isoformat() == "2024-12-03"
    assert s["drawdown_peak_day"] == (START + timedelta(days=peak - 1)).isoformat() == "2024-12-02"
    assert s["max_drawdown_usdt"] == pytest.approx(equity[: trough + 1].max() - equity[trough])
    assert s["final_equity"] == pytest.approx(equity[-1])
    assert (s["days"], s["trading_days"], s["days_without_trades"]) == (5, 4, 1)
    assert (s["wins"], s["draws"], s["losses"]) == (4, 1, 4)
    day_pnl = trades.group_by("day").agg(pl.col("net_pnl").sum()).sort("net_pnl")
    assert s["best_day"] == {"day": str(day_pnl["day"][-1]), "net_pnl": pytest.approx(day_pnl["net_pnl"][-1])}
    assert s["worst_day"] == {"day": str(day_pnl["day"][0]), "net_pnl": pytest.approx(day_pnl["net_pnl"][0])}
    assert s["best_coin"]["symbol"] == "BTC-USDT" and s["worst_coin"]["symbol"] == "ETH-USDT"
    assert report.folder_name == "window_2024-12-02_2024-12-06" and report.json["timeframe"] == TF


def test_window_tables_equal_polars_sums(exports) -> None:
    trades = ledger()
    doc = window_report(exports, START, END).json
    per_coin = {r["symbol"]: r for r in doc["per_coin"]}
    expected = trades.group_by("symbol").agg(
        n=pl.len(),
        total=pl.col("net_pnl").sum(),
        mean_bps=pl.col("net_bps").mean(),
        wins=(pl.col("net_pnl") > 0).sum(),
        losses=(pl.col("net_pnl") < 0).sum(),
        costs=(pl.col("fees_paid") + pl.col("spread_paid") + pl.col("slippage_paid") + pl.col("funding_paid")).sum(),
        duration=(pl.col("exit_time") - pl.col("entry_time")).dt.total_seconds().mean(),
    )
    for row in expected.iter_rows(named=True):
        mine = per_coin[row["symbol"]]
        assert mine["trades"] == row["n"] and mine["wins"] == row["wins"] and mine["losses"] == row["losses"]
        assert mine["total_net_pnl"] == pytest.approx(row["total"])
        assert mine["mean_net_pct"] == pytest.approx(row["mean_bps"] / 100)
        assert mine["costs_paid"] == pytest.approx(row["costs"])
        assert mine["mean_duration_s"] == pytest.approx(row["duration"])
    assert per_coin["TOTAL"]["total_net_pnl"] == pytest.approx(trades["net_pnl"].sum())
    exits = {r["exit_reason"]: r for r in doc["exit_reasons"]}
    for reason, group in trades.group_by("exit_reason"):
        assert exits[reason[0]]["trades"] == group.height
        assert exits[reason[0]]["total_net_pnl"] == pytest.approx(group["net_pnl"].sum())
    assert sum(r["share_pct"] for r in doc["exit_reasons"]) == pytest.approx(100)
    # every day of the window, the quiet one at 0; weeks and months add up to the window
    days = {r["day"]: r for r in doc["daily"]}
    assert list(days) == [str(START + timedelta(days=i)) for i in range(5)]
    assert days[str(QUIET_DAY)]["trades"] == 0 and days[str(QUIET_DAY)]["net_pnl"] == 0.0
    assert days[str(QUIET_DAY)]["win_pct"] is None
    for period in ("weekly", "monthly"):
        assert sum(r["net_pnl"] for r in doc[period]) == pytest.approx(trades["net_pnl"].sum())
        assert sum(r["trades"] for r in doc[period]) == trades.height
    assert [r["period"] for r in doc["monthly"]] == ["2024-12-01"]
    assert [r["period"] for r in doc["weekly"]] == ["2024-12-02"]  # ISO week starting on Monday 2 December
    costs = {r["symbol"]: r for r in doc["costs"]}["TOTAL"]
    for kind, column in (
        ("fees", "fees_paid"),
        ("spread", "spread_paid"),
        ("slippage", "slippage_paid"),
        ("funding", "funding_paid"),
    ):
        assert costs[kind] == pytest.approx(trades[column].sum())
    gross = float((trades["gross_bps"] * trades["size"] / 1e4).sum())
    assert costs["gross_pnl"] == pytest.approx(gross)
    assert costs["cost_share_of_gross"] == pytest.approx(metrics.cost_share_of_gross(trades))
    regimes = {r["regime"]: r for r in doc["regimes"]["trades"]}
    assert {k: v["trades"] for k, v in regimes.items()} == dict(trades.group_by("regime").len().iter_rows())
    bars = {r["regime"]: r["share_pct"] for r in doc["regimes"]["bars"]}
    assert bars == pytest.approx({"TREND": 25.0, "RANGE": 62.5, "PANIC": 12.5})
    decided = {(r["symbol"], r["policy"], r["model_version"]): r["trades"] for r in doc["decided_by"]}
    assert decided == {("BTC-USDT", "model", "20241201_000000Z"): 4, ("ETH-USDT", "rules", None): 5}
    gates = {r["symbol"]: r for r in doc["gates"]["per_coin"]}
    assert (gates["BTC-USDT"]["models"], gates["BTC-USDT"]["passed"], gates["ETH-USDT"]["failed"]) == (5, 5, 5)
    assert gates["ETH-USDT"]["latest_gate_summary"].startswith("failed default: sharpe")
    per_gate = {(r["symbol"], r["gate"]): (r["passed"], r["failed"]) for r in doc["gates"]["per_gate"]}
    assert per_gate[("ETH-USDT", "sharpe")] == (0, 5) and per_gate[("ETH-USDT", "min_trades")] == (5, 0)
    champions = {r["symbol"]: r for r in doc["champions"]}
    assert champions["BTC-USDT"]["days_trading"] == 4
    assert champions["ETH-USDT"]["usual_reason_not_trading"] == "no model has passed its gates yet"
    assert [p["promoted"] for p in doc["promotions"]] == [True, False, False, False, False]
    assert doc["missing_tables"] == {}


def test_streaks_on_a_crafted_sequence(tmp_path) -> None:
    # in exit order: W W L L L L W D W W W L — a draw breaks a streak
    outcomes = [60, 60, -40, -40, -40, -40, 60, 12, 60, 60, 60, -40]
    trades = [
        ("BTC-USDT", START, 1 + i, g, "take_profit" if g > 12 else "stop_loss", "TREND") for i, g in enumerate(outcomes)
    ]
    con = connect(write_exports(tmp_path, ledger(trades)))
    s = window_report(con, START, END).json["summary"]
    assert (s["max_win_streak"], s["max_loss_streak"]) == (3, 4)
    assert (s["wins"], s["draws"], s["losses"]) == (6, 1, 5)


def test_undefined_figures_are_null_never_zero(tmp_path) -> None:
    # no trades at all
    con = connect(write_exports(tmp_path / "none", ledger([])))
    report = window_report(con, START, END)
    s = report.json["summary"]
    for key in (
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "profit_factor",
        "expectancy_bps",
        "hit_rate",
        "hit_rate_pct",
        "best_coin",
        "worst_day",
        "max_win_streak",
        "mean_duration_s",
        "cost_share_of_gross",
    ):
        assert s[key] is None, key
    assert s["trades"] == 0 and report.json["per_coin"] == []
    assert s["total_net_pnl"] is None and s["total_net_pct"] is None and s["final_equity"] == CAPITAL
    assert "No trades between" in report.html and "n/a" in report.html
    # only winning trades: no loss for the profit factor, no losing day, no drawdown
    wins = [t for t in TRADES if t[3] > 20]
    con = connect(write_exports(tmp_path / "wins", ledger(wins)))
    s = window_report(con, START, END).json["summary"]
    assert math.isnan(metrics.profit_factor(ledger(wins)["net_pnl"].to_numpy()))
    assert s["profit_factor"] is None and s["sortino"] is None and s["calmar"] is None
    assert s["max_drawdown"] == 0.0 and s["sharpe"] is not None
    html = window_report(con, START, END).html
    assert "(no losing trade)" in html and "no drawdown" in html


def test_daily_report_fields(exports) -> None:
    trades = ledger().filter(pl.col("day") == START)
    checks = [
        {
            "asset": "15m/candles",
            "check": "no_flash_crash",
            "partition": "2024-12-02|ETH-USDT",
            "description": "1 bar beyond 10× ATR",
        }
    ]
    report = daily_report(exports, START, checks)
    doc = report.json
    assert list(doc)[:6] == ["date", "models_trained", "promotions", "total_trades", "avg_pnl_pct", "hit_rate_pct"]
    assert doc["date"] == "2024-12-02" and doc["models_trained"] == 2 and doc["promotions"] == 1
    assert doc["total_trades"] == trades.height == 3
    assert doc["avg_pnl_pct"] == pytest.approx(trades["net_bps"].mean() / 100)
    assert doc["hit_rate_pct"] == pytest.approx(100 * metrics.hit_rate(trades["net_pnl"].to_numpy()))
    assert doc["promotion_decisions"][0]["reason"].startswith("first gate-passing model")
    assert doc["cost_share_of_gross"] == pytest.approx(metrics.cost_share_of_gross(trades))
    btc = doc["equity_per_coin"]["BTC-USDT"]
    assert [p["cum_net_pnl"] for p in btc] == pytest.approx(
        np.cumsum(trades.filter(pl.col("symbol") == "BTC-USDT")["net_pnl"])
    )
    assert {r["regime"]: r["share_pct"] for r in doc["regime_mix"]} == pytest.approx(
        {"TREND": 25, "RANGE": 62.5, "PANIC": 12.5}
    )
    best, worst = doc["patterns"]["traded"]["best"], doc["patterns"]["traded"]["worst"]
    assert best[0]["pattern_key"] == "RANGE|long|3" and worst[0]["pattern_key"] == "TREND|long|3"
    assert worst[0]["trades"] == 2 and worst[0]["mean_net_bps"] == pytest.approx((48 - 52) / 2)
    assert doc["failed_checks"] == checks and doc["no_trades_reason"] is None
    assert "no_flash_crash" in report.html and "first gate-passing model" in report.html
    assert report.folder_name == "2024-12-02" and report.json_name == "daily_report.json"


def test_a_day_without_trades_says_why(exports) -> None:
    report = daily_report(exports, QUIET_DAY)
    doc = report.json
    assert doc["total_trades"] == 0 and doc["avg_pnl_pct"] is None and doc["hit_rate_pct"] is None
    assert doc["promotions"] == 0 and doc["models_trained"] == 2
    assert "BTC-USDT: kill switch: 3 losing days" in doc["no_trades_reason"]
    assert "ETH-USDT: no model has passed its gates yet" in doc["no_trades_reason"]
    assert f"No trades on {QUIET_DAY}" in report.html and "kill switch" in report.html
    assert "<svg" in report.html  # the regime mix still has its bars
    assert doc["net_pnl"] is None and re.search(r'Net P&amp;L</div><div class="value">n/a<', report.html)


def test_missing_tables_are_named_not_fatal(tmp_path) -> None:
    root = write_exports(tmp_path, ledger())
    con = duckdb.connect()
    glob = root / "exports" / "trade_history" / "**" / "*.parquet"
    con.execute(f"CREATE VIEW trade_history AS SELECT * FROM read_parquet('{glob}', union_by_name=true)")
    gone = root / "exports" / "signals"
    con.execute(f"CREATE VIEW signals AS SELECT * FROM read_parquet('{gone}/**/*.parquet')")
    shutil.rmtree(gone)  # its files removed after the view was made: "No files found" when it is read
    report = window_report(con, START, END)
    assert report.json["summary"]["trades"] == 9
    assert set(report.json["missing_tables"]) >= {"signals", "champions", "promotions", "model_performance"}
    assert "signals not available" in report.html
    daily = daily_report(con, START)
    assert daily.json["models_trained"] is None and daily.json["total_trades"] == 3
    assert "daily_summary" in daily.json["missing_tables"]


def test_several_timeframes_need_a_choice(tmp_path, exports) -> None:
    other = ledger().with_columns(timeframe=pl.lit("5m"))
    path = tmp_path / "exports" / "trade_history" / "5m" / "BTC-USDT" / "2024-12-02.parquet"
    path.parent.mkdir(parents=True)
    other.filter(pl.col("symbol") == "BTC-USDT", pl.col("day") == START).write_parquet(path)
    with pytest.raises(ValueError, match="timeframes 15m, 5m"):
        window_report(exports, START, END)
    assert window_report(exports, START, END, timeframe=TF).json["summary"]["trades"] == 9
    assert window_report(exports, START, END, timeframe="5m").json["summary"]["trades"] == 2


def test_written_reports_are_valid_json_and_offline_html(tmp_path) -> None:
    home = tmp_path / "home"
    root = write_exports(tmp_path / "archive", ledger())
    (home / "exports").mkdir(parents=True)
    connect(root, str(home / "exports" / "huracan.duckdb")).close()
    folder = report_command(home, START, END)
    assert folder == home / "reports" / "window_2024-12-02_2024-12-06"
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "window_report.json"]
    doc = json.loads((folder / "window_report.json").read_text())
    assert doc["summary"]["trades"] == 9 and doc["start"] == "2024-12-02"
    page = daily_report_command(home, START)
    assert page == home / "reports" / "2024-12-02" / "index.html"
    assert json.loads((page.parent / "daily_report.json").read_text())["total_trades"] == 3
    for html in (folder / "index.html", page):
        text = html.read_text()
        assert not re.search(r"https?://", text), html
        assert "<script" not in text and "<svg" in text
    with pytest.raises(FileNotFoundError, match="no exports database"):
        report_command(tmp_path / "empty", START, END)


def test_jsonable_turns_undefined_numbers_into_null() -> None:
    assert jsonable({"a": math.inf, "b": float("nan"), "c": [date(2024, 1, 1), np.float64(1.5)], "_hidden": 1}) == {
        "a": None,
        "b": None,
        "c": ["2024-01-01", 1.5],
    }


def test_write_report_replaces_whole_files(tmp_path, exports) -> None:
    report = daily_report(exports, START)
    page = write_report(tmp_path / "r", report)
    write_report(tmp_path / "r", report)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["daily_report.json", "index.html"]
    assert page.read_text() == report.html


#: the gate verdict every other coin's model got, in the words the champion decisions use (its folder inside)
FAILED = "failed gates: failed standard: sharpe n/a (needs > 0.5; undefined: no trades or no variation)"
SAME_FATE = ("ADA-USDT", "SOL-USDT", "XRP-USDT")


def _same_failure(root: Path, day: date) -> None:
    """Adds coins whose models all failed the same gates on ``day``: a champion row and a decision row each, the
    reason naming the coin's own model folder, as ``champions.promotion`` writes it."""
    for symbol in SAME_FATE:
        reason = f"no champion yet and no eligible challenger (models/{symbol}/{TF}/{day:%Y%m%d}_000000Z {FAILED})"
        row = {**_lineage(day, symbol), "champion_folder": None, "trade_ok": False, "promoted": False}
        folder = root / "exports" / "champions" / TF / symbol
        folder.mkdir(parents=True, exist_ok=True)
        pl.DataFrame([{**row, "reason": reason}], schema_overrides={"champion_folder": pl.String}).write_parquet(
            folder / f"{day}.parquet"
        )
        decision = {
            **_lineage(day, symbol),
            "decision_key": f"engine|{symbol}|{day}",
            "source": "engine",
            "decided_at": _ts(day, 0.5),
            "effective_from": _ts(day, 1),
            "promoted": False,
            "champion_before": None,
            "champion_after": None,
            "reason": reason,
            "test": "none",
            "p_value": None,
        }
        folder = root / "exports" / "promotions" / TF / symbol
        folder.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(
            [decision],
            schema_overrides={"champion_before": pl.String, "champion_after": pl.String, "p_value": pl.Float64},
        ).write_parquet(folder / f"{day}.parquet")


def _section(html: str, anchor: str) -> str:
    return html.split(f'<section id="{anchor}">')[1].split("</section>")[0]


def test_a_verdict_shared_by_coins_is_said_once_with_its_coins(tmp_path) -> None:
    root = write_exports(tmp_path, ledger())
    _same_failure(root, QUIET_DAY)
    report = daily_report(connect(root), QUIET_DAY)
    page, doc = report.html, report.json
    grouped = "ADA-USDT, SOL-USDT, XRP-USDT"
    for anchor in ("promotions", "champions"):  # one row for the three coins, the verdict said once
        table = _section(page, anchor)
        assert table.count(escape(FAILED)) == 1 and grouped in table, anchor
        assert escape(f"its model {FAILED}") in table and f"models/SOL-USDT/{TF}" not in table
    # a coin with a verdict of its own keeps its row and its words
    assert "BTC-USDT" in _section(page, "champions") and "kill switch: 3 losing days" in page
    # why nothing traded: each reason once, with its coins
    why = doc["no_trades_reason"]
    assert why.count(FAILED) == 1 and f"{grouped}: no champion yet and no eligible challenger (its model" in why
    assert "BTC-USDT: kill switch: 3 losing days" in why and "ETH-USDT: no model has passed its gates yet" in why
    assert page.count(escape(FAILED)) == 3  # the reason for no trades, the decisions, the champions: once each
    # the JSON keeps a row per coin, in the coin's own words (it is data, not prose)
    mine = {c["symbol"]: c["reason"] for c in doc["champions"]}
    assert set(SAME_FATE) <= set(mine) and f"models/SOL-USDT/{TF}/" in mine["SOL-USDT"]
    assert sum(d["symbol"] in SAME_FATE for d in doc["promotion_decisions"]) == len(SAME_FATE)


def test_patterns_read_in_words_and_a_losing_top_is_not_called_best(tmp_path) -> None:
    # every trade of the day loses after its 12 bps of costs: TREND by 22 bps, RANGE by 7 bps
    losing = [("BTC-USDT", START, 3, -10.0, "stop_loss", "TREND"), ("ETH-USDT", START, 5, 5.0, "max_hold", "RANGE")]
    report = daily_report(connect(write_exports(tmp_path / "losing", ledger(losing))), START)
    traded = report.json["patterns"]["traded"]
    assert traded["winning"] is False
    assert [p["pattern_key"] for p in traded["best"]] == ["RANGE|long|3"]  # the key stays, for the exports
    assert [p["pattern"] for p in traded["worst"]] == ["trend regime · long · 3 engines agreeing"]
    patterns = _section(report.html, "patterns")
    assert "traded: least bad — every pattern loses after costs" in patterns and "traded: best" not in patterns
    assert f"<h1>Huracan daily report {START}</h1>" in report.html
    assert "range regime · long · 3 engines agreeing" in patterns and "RANGE|long|3" in patterns

    report = daily_report(connect(write_exports(tmp_path / "mixed", ledger())), START)
    traded = report.json["patterns"]["traded"]
    assert traded["winning"] is True and "traded: best</h3>" in report.html
    assert all(p["mean_net_bps"] > 0 for p in traded["best"])


def test_pattern_words_and_lists() -> None:
    assert pattern_words("PANIC", "short", 0) == "panic regime · short · no engine agreeing"
    assert pattern_words("TREND", "long", 1) == "trend regime · long · 1 engine agreeing"
    assert (
        pattern_words(None, "long", 2)
        == pattern_words("UNKNOWN", "long", 2)
        == "regime unknown · long · 2 engines agreeing"
    )
    rng = np.random.default_rng(3)
    for n in range(0, 9):
        for _ in range(20):
            means = sorted(rng.normal(-5, 10, n).round(1).tolist(), reverse=True)
            ranked = [{"pattern_key": f"p{i}", "mean_net_bps": m} for i, m in enumerate(means)]
            lists = best_and_worst(ranked)
            best, worst = [p["pattern_key"] for p in lists["best"]], [p["pattern_key"] for p in lists["worst"]]
            assert not set(best) & set(worst) and len(best) <= 3 and len(worst) <= 3
            assert lists["winning"] == any(m > 0 for m in means)
            if lists["winning"]:
                assert all(p["mean_net_bps"] > 0 for p in lists["best"])
            assert all(p["mean_net_bps"] <= 0 for p in lists["worst"])
            assert [p["mean_net_bps"] for p in lists["worst"]] == sorted(p["mean_net_bps"] for p in lists["worst"])


def test_a_check_failed_in_the_same_words_on_every_coin_is_one_row_naming_them() -> None:
    from huracan_core.reports.daily import same_failure_once

    said = "Failed 2 of 5 standard gates: trade_count 0 trades (needs >= 100 trades); sharpe n/a."
    checks = [
        {"asset": "15m/coin_model", "check": "passes_gates", "partition": f"2024-12-02|{s}", "description": said}
        for s in ("BTC-USDT", "ETH-USDT")
    ] + [
        {"asset": "15m/coin_model", "check": "passes_gates", "partition": "2024-12-02|SOL-USDT", "description": "other"}
    ]
    rows = same_failure_once(checks)
    assert [r["partition"] for r in rows] == ["2024-12-02|BTC-USDT, 2024-12-02|ETH-USDT", "2024-12-02|SOL-USDT"]
    assert [r["description"] for r in rows] == [said, "other"] and checks[0]["partition"] == "2024-12-02|BTC-USDT"


def test_a_window_the_exports_hold_nothing_for_is_refused_naming_the_days_they_hold(exports) -> None:
    before = START - timedelta(days=30)
    with pytest.raises(NothingInWindow, match=f"nothing in {before}..{before}: .* they hold {START}..{END}"):
        window_report(exports, before, before)
    with pytest.raises(NothingInWindow, match="the 5m exports hold no trade .* they hold no day at all"):
        window_report(exports, START, END, timeframe="5m")
    # a window of days without a trade is not empty: their daily summaries say what happened
    assert window_report(exports, QUIET_DAY, QUIET_DAY).json["summary"]["trades"] == 0
