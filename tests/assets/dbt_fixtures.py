"""Small export tables shaped like docs/exports.md, written where the exports write them
(``<archive>/exports/<table>/<timeframe>/[<SYMBOL>/]<YYYY-MM-DD>.parquet``), for the dbt tests.

Three days over two ISO weeks × two coins: trades on four of the six coin-days (one coin-day with a gross loss,
one with costs above the gross profit), no trades on the other two (their ledgers are written empty, as an export
of a day without trades is); a daily summary per day with an 'ALL' row; a champion that arrives on day two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

TIMEFRAME = "15m"
DAYS = (date(2024, 7, 1), date(2024, 7, 2), date(2024, 7, 8))
SYMBOLS = ("BTC-USDT", "ETH-USDT")
CHAMPION = "models/BTC-USDT/20240701_230000Z"

TRADE_SCHEMA = {
    "trade_id": pl.String,
    "signal_time": pl.Datetime("us", "UTC"),
    "entry_time": pl.Datetime("us", "UTC"),
    "exit_time": pl.Datetime("us", "UTC"),
    "entry_price": pl.Float64,
    "exit_price": pl.Float64,
    "size": pl.Float64,
    "direction": pl.Int8,
    "bars_held": pl.Int64,
    "gross_bps": pl.Float64,
    "net_bps": pl.Float64,
    "net_pnl": pl.Float64,
    "fees_paid": pl.Float64,
    "spread_paid": pl.Float64,
    "slippage_paid": pl.Float64,
    "funding_paid": pl.Float64,
    "exit_reason": pl.String,
    "regime": pl.String,
    "engines_agreeing": pl.String,
    "confidence": pl.Float64,
    "policy": pl.String,
    "model_version": pl.String,
    "expected_edge_bps": pl.Float64,
    "recipe_hash": pl.String,
}

# (day, symbol, hour, direction, gross_bps, fees, spread, slippage, exit_reason, regime, engines, policy)
TRADES = (
    (DAYS[0], "BTC-USDT", 3, 1, 50.0, 0.8, 0.2, 0.1, "take_profit", "TREND", "trend,leader", "rules"),
    (DAYS[0], "BTC-USDT", 9, -1, -20.0, 0.8, 0.2, 0.1, "stop_loss", "TREND", "trend,leader", "rules"),
    (DAYS[0], "ETH-USDT", 5, 1, -10.0, 0.8, 0.3, 0.1, "trailing_stop", "RANGE", "meanrev", "rules"),
    (DAYS[1], "ETH-USDT", 7, -1, 80.0, 0.8, 0.3, 0.2, "max_hold", "PANIC", "trend,leader,breakout", "model"),
    (DAYS[2], "BTC-USDT", 11, 1, 5.0, 0.8, 0.2, 0.1, "end_of_data", "TREND", "trend,leader", "model"),
)
SIZE = 1000.0


def trade_history() -> pl.DataFrame:
    """Every fixture trade with its lineage; net figures after the three costs, as the shadow trader computes them."""
    rows = []
    for day, symbol, hour, direction, gross_bps, fees, spread, slip, exit_reason, regime, engines, policy in TRADES:
        signal = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        costs = fees + spread + slip
        net_bps = gross_bps - costs / SIZE * 1e4
        rows.append(
            {
                "trade_id": f"{symbol}-{signal:%Y%m%dT%H%M%SZ}",
                "signal_time": signal,
                "entry_time": signal + timedelta(minutes=15),
                "exit_time": signal + timedelta(hours=2),
                "entry_price": 100.0,
                "exit_price": 100.0 * (1 + direction * gross_bps / 1e4),
                "size": SIZE,
                "direction": direction,
                "bars_held": 7,
                "gross_bps": gross_bps,
                "net_bps": net_bps,
                "net_pnl": net_bps * SIZE / 1e4,
                "fees_paid": fees,
                "spread_paid": spread,
                "slippage_paid": slip,
                "funding_paid": 0.0,  # the crafted trades hold no settlement
                "exit_reason": exit_reason,
                "regime": regime,
                "engines_agreeing": engines,
                "confidence": 0.7,
                "policy": policy,
                "model_version": CHAMPION if policy == "model" else "",
                "expected_edge_bps": 12.0,
                "recipe_hash": "abc123",
                "day": day,
                "symbol": symbol,
            }
        )
    return pl.DataFrame(rows, schema={**TRADE_SCHEMA, "day": pl.Date, "symbol": pl.String})


def write_table(
    archive: Path, table: str, frame: pl.DataFrame, day: date, symbol: str | None = None, run_id: str = "run-fixture"
) -> Path:
    """One export object: the frame with the lineage columns, where the exports put it."""
    key = f"{day.isoformat()}|{symbol}" if symbol else day.isoformat()
    lineage = {
        "day": pl.lit(day, dtype=pl.Date),
        "timeframe": pl.lit(TIMEFRAME),
        "partition_key": pl.lit(key),
        "dagster_run_id": pl.lit(run_id),
    }
    if symbol:  # a date × symbol table; a date table's rows carry their own symbol
        lineage["symbol"] = pl.lit(symbol)
    frame = frame.drop("day", *(["symbol"] if symbol else []), strict=False).with_columns(**lineage)
    folder = archive / "exports" / table / TIMEFRAME
    path = (folder / symbol if symbol else folder) / f"{day.isoformat()}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def daily_summary(trades: pl.DataFrame, day: date) -> pl.DataFrame:
    """Per coin and 'ALL', as huracan_core.daily_summary counts them."""
    rows = []
    for symbol in (*SYMBOLS, "ALL"):
        ledger = trades.filter(pl.col("day") == day)
        if symbol != "ALL":
            ledger = ledger.filter(pl.col("symbol") == symbol)
        n = ledger.height
        champion = CHAMPION if symbol == "BTC-USDT" and day > DAYS[0] else None
        rows.append(
            {
                "symbol": symbol,
                "models_trained": 1 if symbol != "ALL" else 2,
                "models_passed": 1 if symbol != "ALL" else 2,
                "models_failed": 0,
                "promotions": 1 if day == DAYS[1] and symbol in ("BTC-USDT", "ALL") else 0,
                "trades": n,
                "hit_rate_pct": 100.0 * float((ledger["net_pnl"] > 0).mean()) if n else None,
                "mean_net_bps": float(ledger["net_bps"].mean()) if n else None,
                "net_pnl": round(float(ledger["net_pnl"].sum()), 6),
                "costs_paid": round(
                    float(
                        ledger.select(pl.sum_horizontal("fees_paid", "spread_paid", "slippage_paid", "funding_paid"))
                        .to_series()
                        .sum()
                    ),
                    6,
                ),
                "champion": champion,
                "trade_ok": champion is not None if symbol != "ALL" else None,
                "reason": "champion in force" if champion else "no champion: the rules trade",
            }
        )
    return pl.DataFrame(
        rows,
        schema_overrides={
            "champion": pl.String,
            "trade_ok": pl.Boolean,
            "hit_rate_pct": pl.Float64,
            "mean_net_bps": pl.Float64,
        },
    )


def champions(day: date, symbol: str) -> pl.DataFrame:
    has = symbol == "BTC-USDT" and day > DAYS[0]
    return pl.DataFrame(
        [
            {
                "champion_folder": CHAMPION if has else None,
                "mlflow_model": "huracan-BTC-USDT-15m" if has else None,
                "mlflow_version": "1" if has else None,
                "trade_ok": has,
                "promoted": has and day == DAYS[1],
                "reason": "first champion" if has else "no champion",
                "test": "first-champion" if has else "none",
                "p_value": None,
                "decision_key": "BTC-USDT|2024-07-02" if has else None,
                "effective_from": datetime(2024, 7, 2, tzinfo=UTC) if has else None,
            }
        ],
        schema_overrides={
            "champion_folder": pl.String,
            "mlflow_model": pl.String,
            "mlflow_version": pl.String,
            "p_value": pl.Float64,
            "decision_key": pl.String,
            "effective_from": pl.Datetime("us", "UTC"),
        },
    )


def promotions() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "symbol": "BTC-USDT",
                "decision_key": "BTC-USDT|2024-07-02",
                "source": "engine",
                "decided_at": datetime(2024, 7, 2, 2, tzinfo=UTC),
                "effective_from": datetime(2024, 7, 2, tzinfo=UTC),
                "promoted": True,
                "champion_before": None,
                "champion_after": CHAMPION,
                "reason": "first champion",
                "test": "first-champion",
                "p_value": None,
                "window_start": datetime(2024, 6, 1, tzinfo=UTC),
                "window_end": datetime(2024, 7, 1, tzinfo=UTC),
                "run_id": "run-fixture",
            }
        ],
        schema_overrides={"champion_before": pl.String, "p_value": pl.Float64},
    )


def pattern_performance(ledger: pl.DataFrame) -> pl.DataFrame:
    """The traded scope by '<regime>|<side>|<engines agreeing>', as the exports group a partition's ledger."""
    if ledger.is_empty():
        return pl.DataFrame(
            schema={
                "scope": pl.String,
                "pattern_key": pl.String,
                "regime": pl.String,
                "side": pl.String,
                "engines_agreeing": pl.Int32,
                "trades": pl.Int64,
                "wins": pl.Int64,
                "mean_net_bps": pl.Float64,
                "total_net_bps": pl.Float64,
            }
        )
    side = pl.when(pl.col("direction") > 0).then(pl.lit("long")).otherwise(pl.lit("short"))
    agreeing = pl.col("engines_agreeing").str.split(",").list.len().cast(pl.Int32)
    return (
        ledger.with_columns(side=side, engines_agreeing=agreeing)
        .group_by("regime", "side", "engines_agreeing")
        .agg(
            trades=pl.len().cast(pl.Int64),
            wins=(pl.col("net_bps") > 0).sum().cast(pl.Int64),
            mean_net_bps=pl.col("net_bps").mean(),
            total_net_bps=pl.col("net_bps").sum(),
        )
        .with_columns(
            scope=pl.lit("traded"),
            pattern_key=pl.concat_str(
                pl.col("regime"), pl.col("side"), pl.col("engines_agreeing").cast(pl.String), separator="|"
            ),
        )
        .sort("pattern_key")
    )


SIGNAL_COLUMNS = (
    "ic",
    "ic_std",
    "icir",
    "pooled_ic",
    *(f"q{k}_net_bps" for k in range(1, 6)),
    "q5_minus_q1_bps",
    "long_threshold_bps",
    "short_threshold_bps",
)


def _signal(policy: str, fold: int | None) -> dict[str, float | None]:
    """The signal's figures on the model's rows (NULL on the baselines'), the aggregate's only on fold NULL."""
    if policy not in ("model", "absolute", "calibrated"):
        return dict.fromkeys(SIGNAL_COLUMNS)
    aggregate = fold is None
    return {
        "ic": 0.04,
        "ic_std": 0.02 if aggregate else None,
        "icir": 2.0 if aggregate else None,
        "pooled_ic": 0.035 if aggregate else None,
        **{f"q{k}_net_bps": -20.0 + 4 * k for k in range(1, 6)},
        "q5_minus_q1_bps": 16.0,
        "long_threshold_bps": 4.0 if policy != "absolute" else 3.0,
        "short_threshold_bps": None if policy != "absolute" else 3.0,
    }


def model_performance(day: date, symbol: str) -> pl.DataFrame:
    folder = f"models/{symbol}/{day:%Y%m%d}_000000Z"
    return pl.DataFrame(
        [
            {
                "model_version": folder,
                "cutoff": datetime(day.year, day.month, day.day, tzinfo=UTC),
                "passed": True,
                "gate_profile": "default",
                "gate_summary": "all gates passed",
                "policy": policy,
                "fold": fold,
                "trade_count": 12.0,
                "net_pnl": 1.5,
                "sharpe": 0.8,
                "hit_rate": 0.55,
                "max_drawdown": 0.02,
                "profit_factor": 1.2,
                "expectancy_bps": 3.0,
                "break_even_fee_bps": 6.0,
                "mlflow_model": f"huracan-{symbol}",
                "mlflow_version": "1",
                "gates_json": "{}",
                "decision_policy": "calibrated",
                **_signal(policy, fold),
            }
            for policy in ("model", "absolute", "calibrated", "rules", "flat", "no_embedding")
            for fold in (0, 1, None)
        ],
        schema_overrides={"fold": pl.Int32, **dict.fromkeys(SIGNAL_COLUMNS, pl.Float64)},
    )


def regime_analysis(ledger: pl.DataFrame) -> pl.DataFrame:
    schema = {
        "scope": pl.String,
        "regime": pl.String,
        "trades": pl.Int64,
        "win_rate": pl.Float64,
        "mean_net_bps": pl.Float64,
        "total_net_bps": pl.Float64,
        "mean_gross_bps": pl.Float64,
    }
    if ledger.is_empty():
        return pl.DataFrame(schema=schema)
    return (
        ledger.group_by("regime")
        .agg(
            trades=pl.len().cast(pl.Int64),
            win_rate=(pl.col("net_bps") > 0).mean(),
            mean_net_bps=pl.col("net_bps").mean(),
            total_net_bps=pl.col("net_bps").sum(),
            mean_gross_bps=pl.col("gross_bps").mean(),
        )
        .with_columns(scope=pl.lit("traded"))
        .select(list(schema))
        .sort("regime")
    )


def write_exports(archive: Path, *, with_promotions: bool = True) -> pl.DataFrame:
    """The fixture's exports under ``archive``; returns the trade history written (lineage included).
    No ``signals`` are written: a table without files must read as empty."""
    trades = trade_history()
    for day in DAYS:
        for symbol in SYMBOLS:
            ledger = trades.filter((pl.col("day") == day) & (pl.col("symbol") == symbol))
            write_table(archive, "trade_history", ledger.drop("day", "symbol"), day, symbol)
            write_table(archive, "champions", champions(day, symbol), day, symbol)
            write_table(archive, "pattern_performance", pattern_performance(ledger), day, symbol)
            write_table(archive, "regime_analysis", regime_analysis(ledger), day, symbol)
            write_table(archive, "model_performance", model_performance(day, symbol), day, symbol)
        write_table(archive, "daily_summary", daily_summary(trades, day), day)
    if with_promotions:
        write_table(archive, "promotions", promotions(), DAYS[1])
    return trades
