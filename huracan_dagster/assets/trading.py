"""``shadow_trades`` and ``trade_analysis``: paper trading per UTC day and symbol, and what the trades teach."""

import math
from datetime import date, timedelta

import dagster as dg
import polars as pl

from huracan_core.models.choice import choose_models
from huracan_core.storage.keys import costs_key, plot_key
from huracan_core.trading.costs import DEFAULT_FEE_PROFILE
from huracan_core.trading.daily import TradeAnalysis, TradingDay, analyse_partitions, trade_partitions
from huracan_core.trading.plots import run_equity_png
from huracan_dagster.assets.metadata import output_with_partition_metadata, preview
from huracan_dagster.assets.versions import trading_code_version
from huracan_dagster.automation import when_later_data_arrives
from huracan_dagster.partitions import asset_key, by_day, date_symbol_partitions, day_window, partition_key, split_key
from huracan_dagster.resources import ArchiveResource, CostsResource

LEDGER_PREVIEW = ("entry_time", "exit_time", "direction", "regime", "gross_bps", "net_bps", "exit_reason", "policy", "model_version")


class TradingConfig(dg.Config):
    """The trader's capital (the fee tier is the ``costs`` resource, shared with labels and models)."""

    capital: float = 10_000.0


def trading_assets(timeframe: str = "15m", fee_profile: str = DEFAULT_FEE_PROFILE) -> list[dg.AssetsDefinition]:
    version = trading_code_version(extra={"timeframe": timeframe, "policy": "champion", "fees": fee_profile})
    key = {n: asset_key(timeframe, n) for n in ("candles", "features", "regimes", "signals", "labels", "champion", "shadow_trades")}

    @dg.asset(
        key=key["shadow_trades"],
        partitions_def=date_symbol_partitions,
        ins={
            **{n: dg.AssetIn(key[n]) for n in ("candles", "features", "regimes", "signals", "champion")},
        },
        io_manager_key="frames_io",
        kinds={"polars"},
        group_name=f"trading_{timeframe}",
        code_version=version,
        metadata={"timeframe": timeframe},
        description=(
            "The paper-trade ledger of the trades ENTERED on this UTC day (net of fees, spread and slippage), decided "
            "by the coin's champion in force at the start of the day (trained on data that ended before it), else — "
            "no champion — by the rules-only consensus; every trade records its policy and model. Traded flat-to-flat. Also writes costs/<SYMBOL>/<timeframe>/<date>.json and one equity-curve "
            "picture per run under plots/shadow_trades/<timeframe>/."
        ),
    )
    def shadow_trades(
        context: dg.AssetExecutionContext, config: TradingConfig, archive: ArchiveResource, costs: CostsResource,
        candles: dict[str, pl.DataFrame], features: dict[str, pl.DataFrame], regimes: dict[str, pl.DataFrame],
        signals: dict[str, pl.DataFrame], champion: dict[str, pl.DataFrame],
    ) -> dg.Output:
        wanted = [split_key(k) for k in context.partition_keys]
        store = archive.store()
        models, no_model = choose_models(store, by_day(champion), wanted)
        days = trade_partitions(
            by_day(candles), by_day(features), by_day(regimes), by_day(signals), wanted, timeframe, models=models,
            no_model=no_model, exchange=costs.exchange, costs=costs.cost_model(), capital=config.capital,
        )
        results = {}
        name, png = run_equity_png(days, timeframe)  # one picture per run, linked from every partition
        plot = plot_key("shadow_trades", timeframe, name)
        store.write_bytes(plot, png)
        for traded in days:
            costs_at = costs_key(traded.symbol, timeframe, traded.day)
            store.write_json(costs_at, {"symbol": traded.symbol, "date": traded.day.isoformat(), "exchange": costs.exchange,
                                        "fee_profile": costs.fee_profile, **traded.costs})
            results[partition_key(traded.day, traded.symbol)] = (traded.ledger, _trading_metadata(traded, store.uri(costs_at), store.uri(plot)))
        return output_with_partition_metadata(context, results)

    @dg.asset(
        key=asset_key(timeframe, "trade_analysis"),
        partitions_def=date_symbol_partitions,
        automation_condition=when_later_data_arrives(),
        ins={
            "shadow_trades": dg.AssetIn(key["shadow_trades"]),
            "labels": dg.AssetIn(key["labels"]),
            "candles": dg.AssetIn(key["candles"], partition_mapping=day_window(0, 1)),
            "features": dg.AssetIn(key["features"]),
            "regimes": dg.AssetIn(key["regimes"]),
        },
        io_manager_key="frames_io",
        kinds={"polars"},
        group_name=f"trading_{timeframe}",
        code_version=version,
        metadata={"timeframe": timeframe},
        description=(
            "The day's traded ledger (kind=trade) and every labelled opportunity (kind=opportunity: each bar's long "
            "and short under the trader's exits, after costs) with post-exit outcomes (price 5/30/120 minutes after "
            "each exit, read from this day's and the NEXT day's candles; null while those do not exist yet, and filled in by itself when they arrive), plus "
            "win/loss, regime and pattern summaries of both in the metadata. Looks forward on purpose: never an input feature."
        ),
    )
    def trade_analysis(
        context: dg.AssetExecutionContext, shadow_trades: dict[str, pl.DataFrame], labels: dict[str, pl.DataFrame],
        candles: dict[str, pl.DataFrame], features: dict[str, pl.DataFrame], regimes: dict[str, pl.DataFrame],
    ) -> dg.Output:
        analyses = analyse_partitions(
            by_day(shadow_trades), by_day(labels), by_day(candles), by_day(features), by_day(regimes),
            [split_key(k) for k in context.partition_keys],
        )
        results = {partition_key(*key): (a.trades, _analysis_metadata(a, key[0] + timedelta(days=1))) for key, a in analyses.items()}
        return output_with_partition_metadata(context, results)

    return [shadow_trades, trade_analysis]


def _number(value: float) -> float | str:
    return round(float(value), 6) if math.isfinite(value) else str(value)


def _trading_metadata(traded: TradingDay, costs_uri: str, plot_uri: str) -> dict:
    m, ledger = traded.metrics, traded.ledger
    table = "| metric | value |\n|---|---|\n" + "\n".join(f"| {k} | {_number(v)} |" for k, v in sorted(m.items()))
    return {
        "policy": traded.policy,
        "decided_by": traded.reason,
        "trades": ledger.height,
        "hit_rate": _number(m["hit_rate"]),
        "mean_net_bps": _number(m["expectancy_bps"]),
        "mean_gross_bps": _number(m["gross_expectancy_bps"]),
        "net_pnl": _number(m["net_pnl"]),
        "cost_share_of_gross": _number(m["cost_share_of_gross"]),
        **{f"paid_{k}": _number(v) for k, v in traded.costs.items() if k != "trades"},
        "bars": traded.bars,
        "recipe_hash": traded.recipe_hash,
        "costs_json": dg.MetadataValue.path(costs_uri),
        "metrics": dg.MetadataValue.md(table),
        "equity_curves": dg.MetadataValue.path(plot_uri),
        "preview": preview(ledger.select(LEDGER_PREVIEW), rows=10),
    }


def _analysis_metadata(analysis: TradeAnalysis, next_day: date) -> dict:
    trades = int((analysis.trades["kind"] == "trade").sum())
    pending = len(analysis.pending)
    if not pending:
        status = "complete"
    elif not analysis.next_day_available:
        status = f"waiting for {next_day.isoformat()} candles: post-exit outcomes of {pending} of {trades} trades are null"
    else:
        status = f"{pending} of {trades} trades run past the candles available"
    metadata: dict = {"trades": trades, "opportunities": analysis.trades.height - trades, "post_exit": status, "post_exit_pending": pending}
    for scope, tables in (("traded", analysis.traded), ("opportunities", analysis.opportunities)):
        metadata |= {
            f"{scope}_winners_vs_losers": preview(tables["features"], rows=10),
            f"{scope}_failure_reasons": preview(tables["failure_reasons"], rows=10),
            f"{scope}_by_regime": preview(tables["by_regime"], rows=10),
            f"{scope}_patterns": preview(tables["patterns"].select(pl.exclude("^centroid_.*$")), rows=10),
        }
    return metadata
