"""The export tables analysts query: their names, what a row is, and what each column means (the DuckDB file
carries these as COMMENTs, the README as a table). CONTRACT.md beside this file is the same list for people."""

from __future__ import annotations

from dataclasses import dataclass

#: every row's lineage
LINEAGE = {
    "day": "UTC day of the source partition",
    "symbol": "pair as BASE-QUOTE ('ALL' on a whole-universe row)",
    "timeframe": "candle timeframe of the chain that produced the row",
    "partition_key": "the Dagster partition the row was exported from ('YYYY-MM-DD|BASE-QUOTE', or 'YYYY-MM-DD')",
    "dagster_run_id": "the Dagster run that materialized the source partition",
}
#: a column whose comment is not listed is described by its prefix or suffix (wide tables: features, signals …)
PATTERNS = {
    "f_": "entry feature of the trade (its signal bar)",
    "centroid_": "pattern centroid of this entry feature, in the feature's own units",
    "_direction": "engine vote: -1 short, 0 none, 1 long",
    "_confidence": "engine confidence 0..1",
    "_reason": "engine's reason, for people",
    "_affinity": "how well the engine suits the bar's regime 0..1",
}


@dataclass(frozen=True)
class Table:
    name: str
    #: date × symbol tables are exported per source partition, date tables per day
    grain: str
    comment: str
    columns: dict[str, str]


def _t(name: str, grain: str, comment: str, **columns: str) -> Table:
    return Table(name, grain, comment, columns)


_BAR = "one row per bar (timestamp = the bar's open, UTC)"
TABLES = {t.name: t for t in (
    _t("candles", "date×symbol", f"Closed OHLCV candles, validated; {_BAR}.",
       timestamp="bar open time (UTC)", open="open price", high="high price", low="low price", close="close price",
       volume="base volume", quote_volume="quote (USDT) volume", trades="number of trades"),
    _t("features", "date×symbol", f"The feature recipe's values (causal: each uses bars up to its own); {_BAR}.",
       timestamp="bar open time (UTC)", recipe_hash="feature recipe version (names, parameters and code)",
       universe_hash="hash of the universe the cross-asset features ranked against"),
    _t("regimes", "date×symbol", f"Market regime per bar; {_BAR}.",
       timestamp="bar open time (UTC)", regime="TREND, RANGE, PANIC or UNKNOWN", regime_confidence="0..1",
       trend_score="trend evidence", range_score="range evidence", panic_score="panic evidence"),
    _t("signals", "date×symbol", f"Every engine's vote and the consensus decision, costs in; {_BAR}.",
       timestamp="bar open time (UTC)", regime="the bar's regime", direction="consensus direction -1/0/1",
       confidence="consensus confidence 0..1", agreement="agreement level of the engines",
       recommendation="TAKE, SKIP or REDUCE_SIZE", engines_agreeing="engines voting with the consensus",
       expected_edge_bps="expected edge after costs (bps of notional)", cost_bps="round-trip cost at this bar (bps)"),
    _t("opportunities", "date×symbol",
       "LOOKS FORWARD: each bar's after-cost outcome of a long and a short under the trader's exits (the labels); " + _BAR,
       timestamp="bar open time (UTC)", long_net_bps="long's outcome after all costs (bps)",
       long_gross_bps="long's outcome before costs (bps)", long_exit_reason="how the long would have exited",
       long_bars_held="bars the long would have been held", long_exit_time="when it would have exited",
       long_cost_bps="its round-trip cost (bps)", short_net_bps="short's outcome after all costs (bps)",
       short_gross_bps="short's outcome before costs (bps)", short_exit_reason="how the short would have exited",
       short_bars_held="bars the short would have been held", short_exit_time="when it would have exited",
       short_cost_bps="its round-trip cost (bps)", label_end="when both outcomes are known",
       complete="both outcomes known (false while the next day's candles are missing)"),
    _t("trade_history", "date×symbol", "Every shadow trade entered that day, net of fees, spread and slippage on both legs.",
       trade_id="unique trade id", signal_time="bar whose decision opened the trade", entry_time="entry (next bar's open)",
       exit_time="exit time", entry_price="entry price", exit_price="exit price", size="notional (USDT)",
       direction="1 long, -1 short", bars_held="bars held", gross_bps="return before costs (bps of notional)",
       net_bps="return after costs (bps of notional)", net_pnl="profit after costs (USDT)", fees_paid="fees (USDT)",
       spread_paid="half spread on each leg (USDT)", slippage_paid="slippage (USDT)",
       exit_reason="stop_loss, take_profit, trailing_stop, max_hold or end_of_data", regime="regime at entry",
       engines_agreeing="the engines that agreed at entry, comma-separated", confidence="consensus confidence at entry",
       policy="model (the champion decided) or rules (the consensus fallback)",
       model_version="the deciding model's folder ('' for rules)", expected_edge_bps="edge expected at entry (bps)",
       recipe_hash="feature recipe version of the inputs"),
    _t("post_exit_tracking", "date×symbol", "What the price did after each exit (trades and opportunities).",
       trade_id="trade or opportunity id", kind="trade or opportunity", direction="1 long, -1 short",
       exit_time="exit time", exit_reason="how it exited", net_bps="its outcome after costs (bps)",
       price_5m="price 5 minutes after the exit", after_5m_bps="move 5 minutes after, in the trade's direction (bps)",
       price_30m="price 30 minutes after the exit", after_30m_bps="move 30 minutes after (bps)",
       price_120m="price 120 minutes after the exit", after_120m_bps="move 120 minutes after (bps)",
       mfe_bps="best excursion after the exit (bps)", exited_too_early="price kept going the trade's way",
       exited_too_late="profit was given back before the exit"),
    _t("win_loss_analysis", "date×symbol", "How winners differ from losers, long format (one figure a row).",
       scope="traded (the ledger) or opportunities (every labelled bar)",
       section="features, regimes or failure_reasons", key="the feature, regime or exit reason", metric="the figure's name",
       value="the figure"),
    _t("regime_analysis", "date×symbol", "Outcomes by regime at entry.",
       scope="traded or opportunities", regime="regime at entry", trades="count", win_rate="share with net > 0",
       mean_net_bps="mean after costs (bps)", total_net_bps="sum after costs (bps)", mean_gross_bps="mean before costs (bps)"),
    _t("pattern_library", "date×symbol", "Entry patterns of the partition (seeded k-means on entry features).",
       scope="traded or opportunities", pattern="cluster id within this partition", trades="count",
       win_rate="share with net > 0", mean_net_bps="mean after costs (bps)"),
    _t("pattern_performance", "date×symbol", "Outcomes by a pattern key that is stable across days (regime, side, agreement).",
       scope="traded or opportunities", pattern_key="'<regime>|<long/short>|<engines_agreeing>'", regime="regime at entry",
       side="long or short", engines_agreeing="how many engines agreed at entry", trades="count", wins="count with net > 0",
       mean_net_bps="mean after costs (bps)", total_net_bps="sum after costs (bps)"),
    _t("model_performance", "date×symbol", "Each coin model's out-of-sample figures: per fold and aggregate, for the model, "
       "its rules and flat baselines and the no-embedding ablation, with its gates.",
       model_version="the model folder", cutoff="where its training data ends", passed="passed its gates",
       gate_profile="gate profile judged by", gate_summary="gates and shortfalls, for people",
       policy="model, rules, flat or no_embedding", fold="walk-forward fold (NULL: aggregate over the folds)",
       trade_count="trades", net_pnl="profit after costs (USDT)", sharpe="annualised Sharpe", hit_rate="share of winners",
       max_drawdown="max drawdown (fraction)", profit_factor="gross wins / gross losses (NULL when undefined)",
       expectancy_bps="mean net bps per trade", break_even_fee_bps="highest fee a side at which it would pass (NULL: none)",
       mlflow_model="registered MLflow model", mlflow_version="its version", gates_json="every gate with value and threshold"),
    _t("champions", "date×symbol", "Each coin's champion at the start of each day, and the decision that left it.",
       champion_folder="model in force (NULL: no champion, the rules trade)", mlflow_model="registered model",
       mlflow_version="version carrying @champion", trade_ok="the coin has a champion",
       promoted="the decision of this day promoted a challenger", reason="why, with the figures",
       test="none, first-champion, stationary-bootstrap or spa", p_value="the test's p-value",
       decision_key="the history line's key", effective_from="when the decision takes effect"),
    _t("promotions", "date", "Every champion decision (promoted or not) that took effect that day (champions/promotions.jsonl).",
       decision_key="unique per decision", source="engine (daily) or mechanic (hourly)", decided_at="wall-clock time decided",
       effective_from="when it takes effect", promoted="a challenger became champion", champion_before="folder before",
       champion_after="folder after", reason="why, with the figures", test="the statistical test", p_value="its p-value",
       window_start="start of the out-of-sample window compared", window_end="its end", run_id="the Dagster run"),
    _t("daily_summary", "date", "The day per coin and in total (symbol 'ALL'), after costs.",
       models_trained="coin models trained for the day", models_passed="of which passed their gates",
       models_failed="of which failed", promotions="promotions effective that day", trades="shadow trades",
       hit_rate_pct="winners in % (NULL without trades)", mean_net_bps="mean net bps per trade (NULL without trades)",
       net_pnl="profit after costs (USDT)", costs_paid="fees + spread + slippage (USDT)",
       champion="champion in force", trade_ok="the coin has a champion", reason="why (no champion, failed gates …)"),
)}

#: views over other tables
DERIVED = {
    "model_evolution": (
        "Each coin model's aggregate out-of-sample figures in cutoff order: how a coin's models evolved.",
        "SELECT * FROM model_performance WHERE policy = 'model' AND fold IS NULL ORDER BY symbol, cutoff",
    ),
}


def column_comment(table: Table, column: str) -> str | None:
    if column in LINEAGE:
        return LINEAGE[column]
    if column in table.columns:
        return table.columns[column]
    for pattern, comment in PATTERNS.items():
        if column.startswith(pattern) or column.endswith(pattern):
            return comment
    if table.name == "features":
        return f"feature {column} (see the recipe, recipe_hash)"
    return None
