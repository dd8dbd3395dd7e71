"""``shadow_trades`` and ``trade_analysis``: paper trading per UTC day and symbol, and what the trades teach."""

import math
from datetime import date, timedelta

import dagster as dg
import polars as pl

from huracan_core.storage.keys import costs_key, plot_key
from huracan_core.trading.costs import CostModel, FeeSchedule
from huracan_core.trading.daily import TradeAnalysis, TradingDay, analyse_partitions, trade_partitions
from huracan_core.trading.plots import run_equity_png
from huracan_dagster.assets.metadata import output_with_partition_metadata, preview
from huracan_dagster.assets.versions import trading_code_version
from huracan_dagster.partitions import asset_key, by_day, date_symbol_partitions, day_window, partition_key, split_key
from huracan_dagster.resources import ArchiveResource

#: earlier days the engines' trailing windows (200 bars) and the meta combiner read before a day is traded
WARMUP_DAYS = 3
LEDGER_PREVIEW = ("entry_time", "exit_time", "direction", "regime", "gross_bps", "net_bps", "exit_reason")


class TradingConfig(dg.Config):
    """Cost assumptions of the shadow trader (bps per side); venues and account tiers differ."""

    exchange: str = "binance"
    taker_fee_bps: float = 10.0
    maker_fee_bps: float = 10.0
    use_taker: bool = True
    capital: float = 10_000.0

    def cost_model(self) -> CostModel:
        return CostModel(default_fees=FeeSchedule(maker_bps=self.maker_fee_bps, taker_bps=self.taker_fee_bps), use_taker=self.use_taker)


def trading_assets(timeframe: str = "15m") -> list[dg.AssetsDefinition]:
    with_warmup = day_window(-WARMUP_DAYS, 0)
    version = trading_code_version(extra={"timeframe": timeframe, "warmup_days": WARMUP_DAYS})

    @dg.asset(
        key=asset_key(timeframe, "shadow_trades"),
        partitions_def=date_symbol_partitions,
        ins={name: dg.AssetIn(asset_key(timeframe, name), partition_mapping=with_warmup) for name in ("candles", "features", "regimes")},
        io_manager_key="frames_io",
        kinds={"polars"},
        group_name=f"trading_{timeframe}",
        code_version=version,
        metadata={"timeframe": timeframe},
        description=(
            "The paper-trade ledger of the trades ENTERED on this UTC day (net of fees, spread and slippage). "
            f"The {WARMUP_DAYS} previous days warm up the engines and the meta combiner, but each day is traded "
            "flat-to-flat: flat at 00:00, and a position still open on the day's last bar exits at its close as "
            "end_of_data, so the ledger is flat at day end. Also writes costs/<SYMBOL>/<timeframe>/<date>.json and one "
            "equity-curve picture per run under plots/shadow_trades/<timeframe>/."
        ),
    )
    def shadow_trades(
        context: dg.AssetExecutionContext, config: TradingConfig, archive: ArchiveResource,
        candles: dict[str, pl.DataFrame], features: dict[str, pl.DataFrame], regimes: dict[str, pl.DataFrame],
    ) -> dg.Output:
        days = trade_partitions(
            by_day(candles), by_day(features), by_day(regimes), [split_key(k) for k in context.partition_keys],
            timeframe, warmup_days=WARMUP_DAYS, exchange=config.exchange, costs=config.cost_model(), capital=config.capital,
        )
        store, results = archive.store(), {}
        name, png = run_equity_png(days, timeframe)  # one picture per run, linked from every partition
        plot = plot_key("shadow_trades", timeframe, name)
        store.write_bytes(plot, png)
        for traded in days:
            key = costs_key(traded.symbol, timeframe, traded.day)
            store.write_json(key, {"symbol": traded.symbol, "date": traded.day.isoformat(), "exchange": config.exchange, **traded.costs})
            results[partition_key(traded.day, traded.symbol)] = (traded.ledger, _trading_metadata(traded, store.uri(key), store.uri(plot)))
        return output_with_partition_metadata(context, results)

    @dg.asset(
        key=asset_key(timeframe, "trade_analysis"),
        partitions_def=date_symbol_partitions,
        ins={
            "shadow_trades": dg.AssetIn(asset_key(timeframe, "shadow_trades")),
            "candles": dg.AssetIn(asset_key(timeframe, "candles"), partition_mapping=day_window(0, 1)),
        },
        io_manager_key="frames_io",
        kinds={"polars"},
        group_name=f"trading_{timeframe}",
        code_version=version,
        metadata={"timeframe": timeframe},
        description=(
            "The day's ledger with post-exit outcomes (price 5/30/120 minutes after each exit, read from this day's "
            "and the NEXT day's candles; null while the next day's candles do not exist yet), plus win/loss, regime "
            "and pattern summaries in the metadata. Looks forward on purpose: never an input feature."
        ),
    )
    def trade_analysis(
        context: dg.AssetExecutionContext, shadow_trades: dict[str, pl.DataFrame], candles: dict[str, pl.DataFrame]
    ) -> dg.Output:
        analyses = analyse_partitions(by_day(shadow_trades), by_day(candles), [split_key(k) for k in context.partition_keys])
        results = {partition_key(*key): (a.trades, _analysis_metadata(a, key[0] + timedelta(days=1))) for key, a in analyses.items()}
        return output_with_partition_metadata(context, results)

    return [shadow_trades, trade_analysis]


def _number(value: float) -> float | str:
    return round(float(value), 6) if math.isfinite(value) else str(value)


def _trading_metadata(traded: TradingDay, costs_uri: str, plot_uri: str) -> dict:
    m, ledger = traded.metrics, traded.ledger
    table = "| metric | value |\n|---|---|\n" + "\n".join(f"| {k} | {_number(v)} |" for k, v in sorted(m.items()))
    return {
        "trades": ledger.height,
        "hit_rate": _number(m["hit_rate"]),
        "mean_net_bps": _number(m["expectancy_bps"]),
        "mean_gross_bps": _number(m["gross_expectancy_bps"]),
        "net_pnl": _number(m["net_pnl"]),
        "cost_share_of_gross": _number(m["cost_share_of_gross"]),
        **{f"paid_{k}": _number(v) for k, v in traded.costs.items() if k != "trades"},
        "bars": traded.bars,
        "warmup_bars": traded.warmup_bars,
        "recipe_hash": traded.recipe_hash,
        "costs_json": dg.MetadataValue.path(costs_uri),
        "metrics": dg.MetadataValue.md(table),
        "equity_curves": dg.MetadataValue.path(plot_uri),
        "preview": preview(ledger.select(LEDGER_PREVIEW), rows=10),
    }


def _analysis_metadata(analysis: TradeAnalysis, next_day: date) -> dict:
    trades, pending = analysis.trades.height, len(analysis.pending)
    if not pending:
        status = "complete"
    elif not analysis.next_day_available:
        status = f"waiting for {next_day.isoformat()} candles: post-exit outcomes of {pending} of {trades} trades are null"
    else:
        status = f"{pending} of {trades} trades run past the candles available"
    patterns = analysis.patterns.select(pl.exclude("^centroid_.*$"))
    return {
        "trades": trades,
        "post_exit": status,
        "post_exit_pending": pending,
        "winners_vs_losers": preview(analysis.win_loss["features"], rows=10),
        "regime_mix_by_outcome": preview(analysis.win_loss["regimes"], rows=10),
        "failure_reasons": preview(analysis.win_loss["failure_reasons"], rows=10),
        "regimes": preview(analysis.regimes, rows=10),
        "patterns": preview(patterns, rows=10),
    }
