"""The export tables analysts query: their names, what a row is, and each column's type and meaning — written here
once. The DuckDB file carries them as COMMENTs, ``docs/exports.md`` is generated from them, and the dbt sources
are tested against them."""

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


#: a table exported per source partition (date × symbol), per day (every symbol inside), or per research search
#: (every coin's candidates inside: a search spans days, coins and timeframes, so it has no partition of its own)
DATE_SYMBOL = "date×symbol"
DATE = "date"
SEARCH = "search"


@dataclass(frozen=True)
class Column:
    #: the DuckDB type the view shows
    type: str
    comment: str


@dataclass(frozen=True)
class Table:
    """One export table: the single place its grain, its columns, their types and what they mean are written. The
    DuckDB COMMENTs, ``docs/exports.md`` (generated: ``huracan_core.exports.contract``) and the dbt sources are
    checked against it (tests/assets/test_exports.py)."""

    name: str
    #: ``DATE_SYMBOL`` tables are exported per source partition, ``DATE`` tables per day, ``SEARCH`` tables per search
    grain: str
    #: what one row is
    row: str
    comment: str
    columns: dict[str, Column]


def _t(name: str, grain: str, row: str, comment: str, **columns: tuple[str, str]) -> Table:
    return Table(name, grain, row, comment, {c: Column(*spec) for c, spec in columns.items()})


_BAR = "one row per bar (timestamp = the bar's open, UTC)"
TABLES = {
    t.name: t
    for t in (
        _t(
            "candles",
            DATE_SYMBOL,
            "bar",
            "Closed OHLCV candles, validated; " + _BAR + ".",
            timestamp=("TIMESTAMPTZ", "bar open time (UTC)"),
            open=("DOUBLE", "open price"),
            high=("DOUBLE", "high price"),
            low=("DOUBLE", "low price"),
            close=("DOUBLE", "close price"),
            volume=("DOUBLE", "base volume"),
            quote_volume=("DOUBLE", "quote (USDT) volume"),
            trades=("BIGINT", "number of trades"),
        ),
        _t(
            "features",
            DATE_SYMBOL,
            "bar",
            "The feature recipe's values (causal: each uses bars up to its own); " + _BAR + ".",
            timestamp=("TIMESTAMPTZ", "bar open time (UTC)"),
            recipe_hash=("VARCHAR", "feature recipe version (names, parameters and code)"),
            universe_hash=("VARCHAR", "hash of the universe the cross-asset features ranked against"),
        ),
        _t(
            "regimes",
            DATE_SYMBOL,
            "bar",
            "Market regime per bar; " + _BAR + ".",
            timestamp=("TIMESTAMPTZ", "bar open time (UTC)"),
            regime=("VARCHAR", "TREND, RANGE, PANIC or UNKNOWN"),
            regime_confidence=("DOUBLE", "0..1"),
            trend_score=("DOUBLE", "trend evidence"),
            range_score=("DOUBLE", "range evidence"),
            panic_score=("DOUBLE", "panic evidence"),
        ),
        _t(
            "signals",
            DATE_SYMBOL,
            "bar",
            "Every engine's vote and the consensus decision, costs in; " + _BAR + ".",
            timestamp=("TIMESTAMPTZ", "bar open time (UTC)"),
            regime=("VARCHAR", "the bar's regime"),
            direction=("TINYINT", "consensus direction -1/0/1"),
            confidence=("DOUBLE", "consensus confidence 0..1"),
            agreement=("VARCHAR", "agreement level of the engines"),
            recommendation=("VARCHAR", "TAKE, SKIP or REDUCE_SIZE"),
            engines_agreeing=("VARCHAR", "engines voting with the consensus"),
            expected_edge_bps=("DOUBLE", "expected edge after costs (bps of notional)"),
            cost_bps=("DOUBLE", "round-trip cost at this bar (bps)"),
        ),
        _t(
            "opportunities",
            DATE_SYMBOL,
            "bar",
            "LOOKS FORWARD: each bar's after-cost outcome of a long and a short under the trader's exits (the labels); "
            + _BAR,
            timestamp=("TIMESTAMPTZ", "bar open time (UTC)"),
            long_net_bps=("DOUBLE", "long's outcome after all costs (bps)"),
            long_gross_bps=("DOUBLE", "long's outcome before costs (bps)"),
            long_exit_reason=("VARCHAR", "how the long would have exited (missed: a maker limit never filled)"),
            long_bars_held=("BIGINT", "bars the long would have been held"),
            long_exit_time=("TIMESTAMPTZ", "when it would have exited"),
            long_cost_bps=("DOUBLE", "its round-trip cost (bps)"),
            short_net_bps=("DOUBLE", "short's outcome after all costs (bps)"),
            short_gross_bps=("DOUBLE", "short's outcome before costs (bps)"),
            short_exit_reason=("VARCHAR", "how the short would have exited (missed: a maker limit never filled)"),
            short_bars_held=("BIGINT", "bars the short would have been held"),
            short_exit_time=("TIMESTAMPTZ", "when it would have exited"),
            short_cost_bps=("DOUBLE", "its round-trip cost (bps)"),
            label_end=("TIMESTAMPTZ", "when both outcomes are known"),
            complete=("BOOLEAN", "both outcomes known (false while the next day's candles are missing)"),
        ),
        _t(
            "trade_history",
            DATE_SYMBOL,
            "trade",
            "Every shadow trade entered that day, net of fees, spread and slippage on both legs and funding.",
            trade_id=("VARCHAR", "unique trade id"),
            signal_time=("TIMESTAMPTZ", "bar whose decision opened the trade"),
            entry_time=("TIMESTAMPTZ", "entry bar (a taker fills at its open, a maker limit inside it)"),
            exit_time=("TIMESTAMPTZ", "exit time"),
            entry_price=("DOUBLE", "entry price"),
            exit_price=("DOUBLE", "exit price"),
            size=("DOUBLE", "notional (USDT)"),
            direction=("TINYINT", "1 long, -1 short"),
            bars_held=("BIGINT", "bars held"),
            gross_bps=("DOUBLE", "return before costs (bps of notional)"),
            net_bps=("DOUBLE", "return after costs (bps of notional)"),
            net_pnl=("DOUBLE", "profit after costs (USDT)"),
            fees_paid=("DOUBLE", "fees (USDT)"),
            spread_paid=("DOUBLE", "half spread on each leg (USDT)"),
            slippage_paid=("DOUBLE", "slippage (USDT)"),
            funding_paid=("DOUBLE", "funding at the settlements held (USDT; negative = received)"),
            exit_reason=("VARCHAR", "stop_loss, take_profit, trailing_stop, max_hold or end_of_data"),
            regime=("VARCHAR", "regime at entry"),
            engines_agreeing=("VARCHAR", "the engines that agreed at entry, comma-separated"),
            confidence=("DOUBLE", "consensus confidence at entry"),
            policy=("VARCHAR", "model (the champion decided) or rules (the consensus fallback)"),
            model_version=("VARCHAR", "the deciding model's folder ('' for rules)"),
            expected_edge_bps=("DOUBLE", "edge expected at entry (bps)"),
            recipe_hash=("VARCHAR", "feature recipe version of the inputs"),
        ),
        _t(
            "post_exit_tracking",
            DATE_SYMBOL,
            "trade or opportunity",
            "What the price did after each exit (trades and opportunities).",
            trade_id=("VARCHAR", "trade or opportunity id"),
            kind=("VARCHAR", "trade or opportunity"),
            direction=("TINYINT", "1 long, -1 short"),
            exit_time=("TIMESTAMPTZ", "exit time"),
            exit_reason=("VARCHAR", "how it exited"),
            net_bps=("DOUBLE", "its outcome after costs (bps)"),
            price_5m=("DOUBLE", "price 5 minutes after the exit"),
            after_5m_bps=("DOUBLE", "move 5 minutes after, in the trade's direction (bps)"),
            price_30m=("DOUBLE", "price 30 minutes after the exit"),
            after_30m_bps=("DOUBLE", "move 30 minutes after (bps)"),
            price_120m=("DOUBLE", "price 120 minutes after the exit"),
            after_120m_bps=("DOUBLE", "move 120 minutes after (bps)"),
            mfe_bps=("DOUBLE", "best excursion after the exit (bps)"),
            exited_too_early=("BOOLEAN", "price kept going the trade's way"),
            exited_too_late=("BOOLEAN", "profit was given back before the exit"),
        ),
        _t(
            "win_loss_analysis",
            DATE_SYMBOL,
            "(scope, section, key, metric)",
            "How winners differ from losers, long format (one figure a row).",
            scope=("VARCHAR", "traded (the ledger) or opportunities (every labelled bar)"),
            section=("VARCHAR", "features, regimes or failure_reasons"),
            key=("VARCHAR", "the feature, regime or exit reason"),
            metric=("VARCHAR", "the figure's name"),
            value=("DOUBLE", "the figure"),
        ),
        _t(
            "regime_analysis",
            DATE_SYMBOL,
            "(scope, regime)",
            "Outcomes by regime at entry.",
            scope=("VARCHAR", "traded or opportunities"),
            regime=("VARCHAR", "regime at entry"),
            trades=("UINTEGER", "count"),
            win_rate=("DOUBLE", "share with net > 0"),
            mean_net_bps=("DOUBLE", "mean after costs (bps)"),
            total_net_bps=("DOUBLE", "sum after costs (bps)"),
            mean_gross_bps=("DOUBLE", "mean before costs (bps)"),
            net_pnl=("DOUBLE", "profit after costs (USDT) on the trades' notional"),
        ),
        _t(
            "pattern_library",
            DATE_SYMBOL,
            "(scope, pattern)",
            "Entry patterns of the partition (seeded k-means on entry features).",
            scope=("VARCHAR", "traded or opportunities"),
            pattern=("BIGINT", "cluster id within this partition"),
            trades=("UINTEGER", "count"),
            win_rate=("DOUBLE", "share with net > 0"),
            mean_net_bps=("DOUBLE", "mean after costs (bps)"),
            net_pnl=("DOUBLE", "profit after costs (USDT) on the trades' notional"),
        ),
        _t(
            "pattern_performance",
            DATE_SYMBOL,
            "(scope, pattern_key)",
            "Outcomes by a pattern key that is stable across days (regime, side, agreement).",
            scope=("VARCHAR", "traded or opportunities"),
            regime=("VARCHAR", "regime at entry"),
            side=("VARCHAR", "long or short"),
            engines_agreeing=("INTEGER", "how many engines agreed at entry"),
            trades=("UINTEGER", "count"),
            wins=("UINTEGER", "count with net > 0"),
            mean_net_bps=("DOUBLE", "mean after costs (bps)"),
            total_net_bps=("DOUBLE", "sum after costs (bps)"),
            pattern_key=("VARCHAR", "`<regime>|<long/short>|<engines_agreeing>`, e.g. `TREND|long|3`"),
        ),
        _t(
            "model_performance",
            DATE_SYMBOL,
            "(model, policy, fold)",
            "Each coin model's out-of-sample figures: per fold and aggregate, for the model (and each of its two trading rules), its rules and flat baselines and the no-embedding ablation, with its gates and the signal of its predictions.",
            model_version=("VARCHAR", "the model folder"),
            cutoff=("TIMESTAMPTZ", "where its training data ends"),
            passed=("BOOLEAN", "passed its gates"),
            gate_profile=("VARCHAR", "gate profile judged by"),
            gate_summary=("VARCHAR", "gates and shortfalls, for people"),
            break_even_fee_bps=("DOUBLE", "highest fee a side at which it would pass (NULL: none)"),
            mlflow_model=("VARCHAR", "registered MLflow model"),
            mlflow_version=("VARCHAR", "its version"),
            gates_json=("VARCHAR", "every gate with value and threshold"),
            decision_policy=("VARCHAR", "the rule the model trades with and is judged by: absolute or calibrated"),
            policy=(
                "VARCHAR",
                "model (its decision_policy's trades), absolute, calibrated, rules, flat or no_embedding",
            ),
            fold=("INTEGER", "walk-forward fold (NULL: aggregate over the folds)"),
            trade_count=("DOUBLE", "trades"),
            net_pnl=("DOUBLE", "profit after costs (USDT)"),
            sharpe=("DOUBLE", "annualised Sharpe"),
            hit_rate=("DOUBLE", "share of winners"),
            max_drawdown=("DOUBLE", "max drawdown (fraction)"),
            profit_factor=("DOUBLE", "gross wins / gross losses (NULL when undefined)"),
            expectancy_bps=("DOUBLE", "mean net bps per trade"),
            ic=(
                "DOUBLE",
                "Spearman rank IC of predicted edge vs realized net bps, each side an observation: the fold's, or "
                "the mean over the folds (NULL: undefined, or a baseline's row)",
            ),
            ic_std=("DOUBLE", "standard deviation of the folds' ICs (aggregate rows)"),
            icir=("DOUBLE", "ic / ic_std (aggregate rows; NULL when undefined)"),
            pooled_ic=("DOUBLE", "IC over every fold's observations at once (aggregate rows)"),
            q1_net_bps=("DOUBLE", "mean realized net bps of the lowest predicted quintile (each fold's own quintiles)"),
            q2_net_bps=("DOUBLE", "the same, second quintile"),
            q3_net_bps=("DOUBLE", "the same, third quintile"),
            q4_net_bps=("DOUBLE", "the same, fourth quintile"),
            q5_net_bps=("DOUBLE", "the same, highest predicted quintile"),
            q5_minus_q1_bps=("DOUBLE", "q5_net_bps − q1_net_bps: the spread the ranking earns"),
            long_threshold_bps=(
                "DOUBLE",
                "predicted edge a long must beat under the row's rule (calibrated: chosen on the fold's slice, "
                "the kept model's on the aggregate; NULL: side disabled, or a baseline)",
            ),
            short_threshold_bps=("DOUBLE", "the same for a short"),
        ),
        _t(
            "champions",
            DATE_SYMBOL,
            "(day, symbol)",
            "Each coin's champion at the start of each day, and the decision that left it.",
            champion_folder=("VARCHAR", "model in force (NULL: no champion, the rules trade)"),
            mlflow_model=("VARCHAR", "registered model"),
            mlflow_version=("VARCHAR", "version carrying @champion"),
            trade_ok=("BOOLEAN", "the coin has a champion"),
            promoted=("BOOLEAN", "the decision of this day promoted a challenger"),
            reason=("VARCHAR", "why, with the figures"),
            test=("VARCHAR", "none, first-champion, stationary-bootstrap or spa"),
            p_value=("DOUBLE", "the test's p-value"),
            search=(
                "VARCHAR",
                "a champion from a research search: the search's figures as JSON (search id, candidate, trials, DSR, "
                "SPA p, PBO, stability, against holding); NULL otherwise",
            ),
            decision_key=("VARCHAR", "the history line's key"),
            effective_from=("TIMESTAMPTZ", "when the decision takes effect"),
        ),
        _t(
            "promotions",
            DATE,
            "decision",
            "Every champion decision (promoted or not) that took effect that day (champions/promotions.jsonl).",
            decision_key=("VARCHAR", "unique per decision"),
            source=("VARCHAR", "engine (daily) or mechanic (hourly)"),
            decided_at=("TIMESTAMPTZ", "wall-clock time decided"),
            effective_from=("TIMESTAMPTZ", "when it takes effect"),
            promoted=("BOOLEAN", "a challenger became champion"),
            champion_before=("VARCHAR", "folder before"),
            champion_after=("VARCHAR", "folder after"),
            reason=("VARCHAR", "why, with the figures"),
            test=("VARCHAR", "the statistical test"),
            p_value=("DOUBLE", "its p-value"),
            window_start=("TIMESTAMPTZ", "start of the out-of-sample window compared"),
            window_end=("TIMESTAMPTZ", "its end"),
            run_id=("VARCHAR", "the Dagster run"),
        ),
        _t(
            "daily_summary",
            DATE,
            "(day, symbol), and symbol 'ALL'",
            "The day per coin and in total (symbol 'ALL'), after costs.",
            models_trained=("BIGINT", "coin models trained for the day"),
            models_passed=("BIGINT", "of which passed their gates"),
            models_failed=("BIGINT", "of which failed"),
            promotions=("BIGINT", "promotions effective that day"),
            trades=("BIGINT", "shadow trades"),
            hit_rate_pct=("DOUBLE", "winners in % (NULL without trades)"),
            mean_net_bps=("DOUBLE", "mean net bps per trade (NULL without trades)"),
            net_pnl=("DOUBLE", "profit after costs (USDT)"),
            costs_paid=("DOUBLE", "fees + spread + slippage (USDT)"),
            champion=("VARCHAR", "champion in force"),
            trade_ok=("BOOLEAN", "the coin has a champion"),
            reason=("VARCHAR", "why (no champion, failed gates …)"),
        ),
        _t(
            "research_candidates",
            SEARCH,
            "(search_id, symbol, candidate)",
            "Every candidate of a research search (`huracan research`), judged out of sample after costs; each coin's "
            "best by Sharpe is selected, and admitted only if it survives the search's corrections (DSR, SPA, PBO, "
            "stability in time, buy-and-hold). The search's figures are on the selected row only; one row per "
            "(search_id, symbol, candidate), symbol 'UNIVERSE' for a market-neutral candidate.",
            search_id=(
                "VARCHAR",
                "the search (one file per search: `exports/research_candidates/<search_id>.parquet`)",
            ),
            window_start=("DATE", "first day of the searched window"),
            window_end=("DATE", "last day of the searched window"),
            candidate=("VARCHAR", "candidate id: timeframe·exit·family·encoder, e.g. 4h·hold6·coin·enc"),
            exit=("VARCHAR", "its label and exit: a fixed hold of N bars, or a TP/SL/trail profile of the trader"),
            family=("VARCHAR", "coin_lgbm, pooled_lgbm or market_neutral"),
            encoder=("BOOLEAN", "the shared encoder's embedding is among its inputs"),
            trials=("BIGINT", "candidates tried for this symbol (the number of trials the DSR deflates by)"),
            trades=("BIGINT", "out-of-sample trades"),
            net_bps=("DOUBLE", "mean net bps per trade, after costs"),
            net_pnl=("DOUBLE", "profit after costs (USDT)"),
            sharpe=("DOUBLE", "annualised out-of-sample Sharpe after costs, from daily returns"),
            ic_mean=(
                "DOUBLE",
                "mean over the folds of the Spearman rank IC of predicted edge vs realized net bps (NULL: undefined)",
            ),
            top_quintile_net_bps=("DOUBLE", "mean realized net bps of the highest predicted quintile"),
            dsr=("DOUBLE", "Deflated Sharpe Ratio probability (Bailey & López de Prado, 2014); selected row only"),
            spa_p=("DOUBLE", "p-value of Hansen's SPA test of the candidates against staying flat; selected row only"),
            pbo=("DOUBLE", "Probability of Backtest Overfitting (CSCV) over the candidates; selected row only"),
            quarters_positive=(
                "DOUBLE",
                "share of the calendar quarters it traded that were positive after costs (0..1); selected row only",
            ),
            max_year_share=("DOUBLE", "largest share of its PnL carried by one calendar year; selected row only"),
            sharpe_vs_hold=(
                "DOUBLE",
                "annualised Sharpe of its daily returns less holding's (an information ratio against holding)",
            ),
            hold_sharpe=(
                "DOUBLE",
                "Sharpe of holding the coin with a trade's notional over the same days, after its round trip (the "
                "equal-weight universe on a 'UNIVERSE' row)",
            ),
            gates_passed=("BOOLEAN", "passed its gates"),
            gates_failed=("VARCHAR", "the gates it failed, for people ('' when none)"),
            selected=("BOOLEAN", "the coin's best candidate by out-of-sample Sharpe"),
            admitted=("BOOLEAN", "selected and survived the search's corrections: it may become a challenger"),
            verdict=("VARCHAR", "one sentence; on the selected row, why it was or was not admitted"),
        ),
    )
}


def table_names(grain: str) -> frozenset[str]:
    """The tables of one grain (``DATE_SYMBOL``: the ``exports`` asset's; ``DATE``: ``exports_daily``'s)."""
    return frozenset(name for name, table in TABLES.items() if table.grain == grain)


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
        return table.columns[column].comment
    for pattern, comment in PATTERNS.items():
        if column.startswith(pattern) or column.endswith(pattern):
            return comment
    if table.name == "features":
        return f"feature {column} (see the recipe, recipe_hash)"
    return None
