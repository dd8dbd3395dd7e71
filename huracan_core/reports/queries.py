"""SQL over the export tables (``docs/exports.md``) on one DuckDB connection.

Every figure of the reports is aggregated here, from the exported rows, never recomputed from candles.
Each table a report reads is read once from the caller's connection, cut to the report's days (``LOADS``), into a
private in-memory DuckDB: the exports are one parquet file per partition, so every query over the views opens
every file's footer, and a report runs some twenty queries. The caller's connection is only read.

In a query, ``{trade_history}`` and the like stand for that table cut to the report's timeframe
(``{promotions*}``: the table as loaded). Parameters are bound by name: ``$start``, ``$end`` (DATE),
``$window_from``, ``$window_to`` (TIMESTAMPTZ: the window's first instant and the instant after it), ``$tf`` ('' =
any timeframe) and ``$capital``. A table that is not there (no view, or no parquet file behind it yet) is
recorded in ``Exports.missing`` with the reason, and the sections built on it say so; any other SQL error is raised.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

#: equity that daily returns are measured against (USDT), as a freqtrade backtest's starting balance
DEFAULT_CAPITAL = 10_000.0

#: how each table is read from the exports; the rest: ``SELECT * FROM <table> WHERE day BETWEEN $start AND $end``
LOADS = {
    # the ledger's columns that the reports read (not the entry feature vectors)
    "trade_history": "SELECT day, symbol, timeframe, trade_id, entry_time, exit_time, size, bars_held, gross_bps, net_bps, "
    "net_pnl, fees_paid, spread_paid, slippage_paid, funding_paid, exit_reason, regime, policy, model_version "
    "FROM trade_history WHERE day BETWEEN $start AND $end",
    # a bar table: only what the regime mix needs
    "signals": "SELECT day, symbol, timeframe, regime FROM signals WHERE day BETWEEN $start AND $end",
    # a decision belongs to the day it takes effect, which may not be the day of its partition
    "promotions": "SELECT * FROM promotions WHERE effective_from >= $window_from AND effective_from < $window_to",
}
TIMEFRAME_CUT = "(SELECT * FROM {table} WHERE ($tf = '' OR timeframe = $tf))"
_PARAM = re.compile(r"\$([a-z_]+)")
_TABLE = re.compile(r"\{([a-z_]+)(\*?)\}")


class Exports:
    """The export tables of ``start..end`` (UTC days, inclusive) and one timeframe, for SQL."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        start: date,
        end: date,
        timeframe: str | None = None,
        capital: float = DEFAULT_CAPITAL,
    ) -> None:
        if end < start:
            raise ValueError(f"report window ends ({end}) before it starts ({start})")
        self.source, self.start, self.end, self.capital = con, start, end, capital
        self.con = duckdb.connect()  # the loaded tables; private, so the caller's connection is never changed
        self.missing: dict[str, str] = {}
        self._present: dict[str, bool] = {}
        self.timeframe = timeframe
        if not timeframe:
            self.timeframe = self._only_timeframe()

    def has(self, table: str) -> bool:
        """Whether ``table`` could be read (loading it on first use); the reason is in ``missing`` if not."""
        if table not in self._present:
            sql = LOADS.get(table, f"SELECT * FROM {table} WHERE day BETWEEN $start AND $end")
            try:
                loaded = self.source.execute(sql, self._params(sql)).to_arrow_table()
            except (duckdb.CatalogException, duckdb.IOException) as error:
                self.missing[table] = str(error).strip().splitlines()[0]
                self._present[table] = False
            else:
                self.con.register(table, loaded)
                self._present[table] = True
        return self._present[table]

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]] | None:
        """The rows of ``sql`` as dicts; None when a table it reads is missing (recorded in ``missing``)."""
        if not all(self.has(table) for table, _ in _TABLE.findall(sql)):
            return None
        text = _TABLE.sub(lambda m: m.group(1) if m.group(2) else TIMEFRAME_CUT.format(table=m.group(1)), sql)
        cursor = self.con.execute(text, self._params(text, **params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def count(self, table: str) -> int:
        """Rows of ``table`` in the window and timeframe; 0 when the table is missing."""
        found = self.rows(f"SELECT count(*) AS n FROM {{{table}}}")
        return int(found[0]["n"]) if found else 0

    def days_held(self, table: str) -> tuple[date, date] | None:
        """The first and last day ``table`` holds in the timeframe, over every window (to say where data is when
        the window has none); None when it holds none or is missing."""
        try:
            first, last = self.source.execute(
                f"SELECT min(day), max(day) FROM {table} WHERE ($tf = '' OR timeframe = $tf)",
                {"tf": self.timeframe or ""},
            ).fetchone() or (None, None)
        except (duckdb.CatalogException, duckdb.IOException):
            return None
        return (first, last) if first is not None and last is not None else None

    def one(self, sql: str, **params: Any) -> dict[str, Any] | None:
        rows = self.rows(sql, **params)
        return rows[0] if rows else None

    def _params(self, sql: str, **extra: Any) -> dict[str, Any]:
        values = {
            "start": self.start,
            "end": self.end,
            "tf": self.timeframe or "",
            "capital": self.capital,
            "window_from": _utc(self.start),
            "window_to": _utc(self.end + timedelta(days=1)),
            **extra,
        }
        return {name: values[name] for name in dict.fromkeys(_PARAM.findall(sql))}

    def _only_timeframe(self) -> str | None:
        """The one timeframe the window's trades and summaries have; an error naming them when there are more."""
        found: set[str] = set()
        for table in ("trade_history", "daily_summary"):
            rows = self.rows(f"SELECT DISTINCT timeframe FROM {{{table}}}")
            found |= {r["timeframe"] for r in rows or []}
        if len(found) > 1:
            raise ValueError(
                f"the exports of {self.start}..{self.end} hold timeframes {', '.join(sorted(found))}: pick one (--timeframe)"
            )
        return found.pop() if found else None


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# ---- trade statistics (one row per group, or per whole window) -------------------------------------------------

_OUTCOMES = """
    count(*) AS trades,
    count(*) FILTER (WHERE net_pnl > 0) AS wins,
    count(*) FILTER (WHERE net_pnl = 0) AS draws,
    count(*) FILTER (WHERE net_pnl < 0) AS losses,
    100.0 * count(*) FILTER (WHERE net_pnl > 0) / count(*) AS win_pct,
    avg(net_bps) AS mean_net_bps,
    avg(net_bps) / 100.0 AS mean_net_pct,
    sum(net_pnl) AS total_net_pnl,
    100.0 * sum(net_pnl) / $capital AS total_net_pct,
    avg(epoch(exit_time) - epoch(entry_time)) AS mean_duration_s,
    avg(bars_held) AS mean_bars_held,
    sum(fees_paid + spread_paid + slippage_paid + funding_paid) AS costs_paid"""

PER_COIN = f"""
SELECT coalesce(symbol, 'TOTAL') AS symbol, grouping(symbol) = 1 AS _total, {_OUTCOMES}
FROM {{trade_history}} GROUP BY GROUPING SETS ((symbol), ()) HAVING count(*) > 0 ORDER BY _total, symbol"""

EXIT_REASONS = f"""
SELECT exit_reason, {_OUTCOMES}, 100.0 * count(*) / sum(count(*)) OVER () AS share_pct
FROM {{trade_history}} GROUP BY exit_reason ORDER BY trades DESC, exit_reason"""

TRADE_REGIMES = f"""
SELECT coalesce(regime, 'UNKNOWN') AS regime, {_OUTCOMES}, 100.0 * count(*) / sum(count(*)) OVER () AS share_pct
FROM {{trade_history}} GROUP BY ALL ORDER BY trades DESC, regime"""

DECIDED_BY = f"""
SELECT symbol, policy, nullif(model_version, '') AS model_version, {_OUTCOMES}
FROM {{trade_history}} GROUP BY ALL ORDER BY symbol, policy, model_version"""

#: the values the metrics module is fed, in the order of exit
OUTCOMES = """
SELECT net_pnl, net_bps FROM {trade_history} ORDER BY exit_time, symbol, trade_id"""

COSTS = """
SELECT coalesce(symbol, 'TOTAL') AS symbol, grouping(symbol) = 1 AS _total, count(*) AS trades,
    sum(fees_paid) AS fees, sum(spread_paid) AS spread, sum(slippage_paid) AS slippage, sum(funding_paid) AS funding,
    sum(fees_paid + spread_paid + slippage_paid + funding_paid) AS costs,
    sum(gross_bps * size / 1e4) AS gross_pnl, sum(net_pnl) AS net_pnl,
    avg((fees_paid + spread_paid + slippage_paid + funding_paid) / size * 1e4) AS mean_cost_bps,
    CASE WHEN sum(gross_bps * size / 1e4) > 0
         THEN sum(fees_paid + spread_paid + slippage_paid + funding_paid) / sum(gross_bps * size / 1e4) END AS cost_share_of_gross
FROM {trade_history} GROUP BY GROUPING SETS ((symbol), ()) HAVING count(*) > 0 ORDER BY _total, symbol"""

#: longest runs of consecutive winning (net > 0) and losing (net < 0) trades in exit order; a draw breaks both
STREAKS = """
WITH ordered AS (
    SELECT sign(net_pnl) AS outcome, row_number() OVER (ORDER BY exit_time, symbol, trade_id) AS n FROM {trade_history}
), runs AS (
    SELECT outcome, n - row_number() OVER (PARTITION BY outcome ORDER BY n) AS run FROM ordered
), lengths AS (SELECT outcome, count(*) AS length FROM runs GROUP BY outcome, run)
SELECT coalesce(max(length) FILTER (WHERE outcome > 0), 0) AS max_win_streak,
       coalesce(max(length) FILTER (WHERE outcome < 0), 0) AS max_loss_streak FROM lengths"""

# ---- days, weeks, months ----------------------------------------------------------------------------------------

_DAYS = """
WITH grid AS (SELECT CAST(d AS DATE) AS day FROM range($start, $end + 1, INTERVAL 1 DAY) t(d)),
traded AS (
    SELECT day, count(*) AS trades, count(*) FILTER (WHERE net_pnl > 0) AS wins,
           count(*) FILTER (WHERE net_pnl = 0) AS draws, count(*) FILTER (WHERE net_pnl < 0) AS losses,
           sum(net_pnl) AS net_pnl, sum(fees_paid + spread_paid + slippage_paid + funding_paid) AS costs_paid
    FROM {trade_history} GROUP BY day
), days AS (
    SELECT g.day, coalesce(t.trades, 0) AS trades, coalesce(t.wins, 0) AS wins, coalesce(t.draws, 0) AS draws,
           coalesce(t.losses, 0) AS losses, coalesce(t.net_pnl, 0.0) AS net_pnl, coalesce(t.costs_paid, 0.0) AS costs_paid,
           $capital + sum(coalesce(t.net_pnl, 0.0)) OVER (ORDER BY g.day ROWS UNBOUNDED PRECEDING) AS equity
    FROM grid g LEFT JOIN traded t USING (day)
)"""

#: every day of the window (a day without trades has 0 P&L), with the equity at its end and its drawdown
DAILY = (
    _DAYS
    + """
SELECT *, 100.0 * net_pnl / $capital AS net_pct,
       CASE WHEN trades > 0 THEN 100.0 * wins / trades END AS win_pct,
       greatest($capital, max(equity) OVER (ORDER BY day ROWS UNBOUNDED PRECEDING)) AS peak,
       1.0 - equity / greatest($capital, max(equity) OVER (ORDER BY day ROWS UNBOUNDED PRECEDING)) AS drawdown
FROM days ORDER BY day"""
)

PERIODS = (
    _DAYS
    + """
SELECT CAST(date_trunc($unit, day) AS DATE) AS period, min(day) AS first_day, max(day) AS last_day,
       sum(trades) AS trades, sum(wins) AS wins, sum(draws) AS draws, sum(losses) AS losses,
       CASE WHEN sum(trades) > 0 THEN 100.0 * sum(wins) / sum(trades) END AS win_pct,
       sum(net_pnl) AS net_pnl, 100.0 * sum(net_pnl) / $capital AS net_pct, sum(costs_paid) AS costs_paid,
       count(*) FILTER (WHERE trades > 0) AS trading_days
FROM days GROUP BY ALL ORDER BY period"""
)

#: the deepest drawdown of the daily equity: the day of its trough and the last high before it (NULL: the
#: starting capital, before the window's first day)
DRAWDOWN = f"""
WITH daily AS ({DAILY}), trough AS (SELECT day, equity, peak, drawdown FROM daily ORDER BY drawdown DESC, day LIMIT 1)
SELECT t.drawdown, t.day AS trough_day, t.equity AS trough_equity, t.peak AS peak_equity, t.peak - t.equity AS drawdown_usdt,
       (SELECT max(d.day) FROM daily d WHERE d.day <= t.day AND d.equity = t.peak) AS peak_day
FROM trough t"""

#: cumulative net P&L per traded coin at the end of every day of the window (flat on days it did not trade)
COIN_DAYS = """
WITH grid AS (SELECT CAST(d AS DATE) AS day FROM range($start, $end + 1, INTERVAL 1 DAY) t(d)),
traded AS (SELECT symbol, day, sum(net_pnl) AS net_pnl FROM {trade_history} GROUP BY symbol, day)
SELECT c.symbol, g.day,
       sum(coalesce(t.net_pnl, 0.0)) OVER (PARTITION BY c.symbol ORDER BY g.day ROWS UNBOUNDED PRECEDING) AS cum_net_pnl
FROM grid g CROSS JOIN (SELECT DISTINCT symbol FROM traded) c LEFT JOIN traded t ON t.symbol = c.symbol AND t.day = g.day
ORDER BY c.symbol, g.day"""

# ---- what decided, and the gates -------------------------------------------------------------------------------

#: the Engine's model per coin and day, its aggregate over the folds, and each gate's verdict
GATES = """
WITH models AS (
    SELECT * FROM {model_performance} WHERE policy = 'model' AND fold IS NULL
)
SELECT symbol, count(DISTINCT model_version) AS models,
       count(DISTINCT model_version) FILTER (WHERE passed) AS passed,
       count(DISTINCT model_version) FILTER (WHERE NOT passed) AS failed,
       arg_max(gate_profile, cutoff) AS gate_profile, arg_max(gate_summary, cutoff) AS latest_gate_summary,
       arg_max(model_version, cutoff) AS latest_model
FROM models GROUP BY symbol ORDER BY symbol"""

GATE_RESULTS = """
WITH gates AS (
    SELECT symbol, unnest(from_json(gates_json, '{"results": [{"name": "VARCHAR", "passed": "BOOLEAN"}]}').results) AS g
    FROM {model_performance} WHERE policy = 'model' AND fold IS NULL
)
SELECT symbol, g.name AS gate, count(*) FILTER (WHERE g.passed) AS passed, count(*) FILTER (WHERE NOT g.passed) AS failed
FROM gates GROUP BY ALL ORDER BY symbol, gate"""

CHAMPION_DAYS = """
SELECT symbol, count(*) AS days, count(*) FILTER (WHERE champion_folder IS NOT NULL) AS days_with_champion,
       count(*) FILTER (WHERE trade_ok) AS days_trading, count(*) FILTER (WHERE promoted) AS promotions,
       mode(reason) FILTER (WHERE NOT coalesce(trade_ok, false)) AS usual_reason_not_trading,
       arg_max(champion_folder, day) AS latest_champion
FROM {champions} GROUP BY symbol ORDER BY symbol"""

CHAMPIONS_OF_DAY = """
SELECT symbol, champion_folder, trade_ok, promoted, reason FROM {champions} ORDER BY symbol"""

#: decisions that took effect in the window (UTC days of ``effective_from``), each once. Cut on a timestamp range: a
#: ``CAST(... AS DATE) BETWEEN`` filter next to QUALIFY trips an internal error in DuckDB 1.5.6's TopN-window optimizer
DECISIONS = """
SELECT symbol, source, promoted, champion_before, champion_after, reason, test, p_value,
       strftime(timezone('UTC', decided_at), '%Y-%m-%d %H:%M') AS decided_at,
       strftime(timezone('UTC', effective_from), '%Y-%m-%d %H:%M') AS effective_from
FROM {promotions*}
WHERE effective_from >= $window_from AND effective_from < $window_to AND ($tf = '' OR timeframe = $tf)
QUALIFY row_number() OVER (PARTITION BY decision_key ORDER BY day DESC) = 1
ORDER BY effective_from, symbol, decided_at"""

# ---- the daily report ------------------------------------------------------------------------------------------

SUMMARY_OF_DAY = """
SELECT coalesce(max(models_trained) FILTER (WHERE symbol = 'ALL'), sum(models_trained) FILTER (WHERE symbol <> 'ALL'))
           AS models_trained,
       coalesce(max(models_passed) FILTER (WHERE symbol = 'ALL'), sum(models_passed) FILTER (WHERE symbol <> 'ALL'))
           AS models_passed,
       coalesce(max(models_failed) FILTER (WHERE symbol = 'ALL'), sum(models_failed) FILTER (WHERE symbol <> 'ALL'))
           AS models_failed,
       count(*) AS rows
FROM {daily_summary}"""

COIN_SUMMARY_OF_DAY = """
SELECT symbol, champion, trade_ok, reason, models_trained, models_passed, trades FROM {daily_summary}
WHERE symbol <> 'ALL' ORDER BY symbol"""

#: cumulative net P&L per coin at each exit (seconds since the epoch), after costs
EQUITY_POINTS = """
SELECT symbol, epoch(exit_time) AS t,
       sum(net_pnl) OVER (PARTITION BY symbol ORDER BY exit_time, trade_id ROWS UNBOUNDED PRECEDING) AS cum_net_pnl
FROM {trade_history} ORDER BY symbol, exit_time, trade_id"""

#: share of the bars of the window per regime, from the signals the engines saw
BAR_REGIMES = """
SELECT coalesce(regime, 'UNKNOWN') AS regime, count(*) AS bars, 100.0 * count(*) / sum(count(*)) OVER () AS share_pct
FROM {signals} GROUP BY ALL ORDER BY bars DESC, regime"""

#: patterns over the window's partitions (summed over coins), best and worst by mean net bps per trade
PATTERNS = """
SELECT scope, pattern_key, regime, side, engines_agreeing, sum(trades) AS trades, sum(wins) AS wins,
       100.0 * sum(wins) / sum(trades) AS win_pct, sum(total_net_bps) / sum(trades) AS mean_net_bps,
       sum(total_net_bps) AS total_net_bps
FROM {pattern_performance} WHERE trades > 0 GROUP BY ALL ORDER BY scope, mean_net_bps DESC, pattern_key"""
