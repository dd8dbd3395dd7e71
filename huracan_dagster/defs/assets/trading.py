"""``shadow_trades`` and ``trade_analysis``: paper trading per UTC day and symbol, and what the trades teach."""

import math
from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import polars as pl

from huracan_core.desk.day_analysis import TradeAnalysis, analyse_partitions
from huracan_core.desk.plots import run_equity_svg
from huracan_core.desk.shadow_day import TradingDay, trade_partitions
from huracan_core.desk.sparkline import equity_sparkline
from huracan_core.health.champion_baseline import champion_baselines
from huracan_core.health.pauses import load_book
from huracan_core.models.choice import choose_models
from huracan_core.storage.keys import costs_key, plot_key, would_be_key
from huracan_core.storage.store import json_bytes, parquet_bytes
from huracan_core.symbols import to_ccxt
from huracan_core.trading.costs import paid_costs
from huracan_core.trading.metrics import SUMMARY_UNITS
from huracan_core.trading.shown_metrics import NO_TRADES, shown_summary, shown_value
from huracan_dagster.defs.assets.trading_checks import (
    AnomalyChecksConfig,
    anomaly_checks,
    anomaly_evaluations,
    anomaly_verdicts,
)
from huracan_dagster.defs.automation import when_later_data_arrives
from huracan_dagster.defs.metadata import (
    inline_svg,
    output_with_partition_metadata,
    preview,
)
from huracan_dagster.defs.partitions import (
    CHAIN_BACKFILL,
    DEFAULT_SPACE,
    PartitionSpace,
    asset_key,
    by_day,
    day_window,
    partition_key,
    split_key,
)
from huracan_dagster.defs.resources import ArchiveResource, CostsResource
from huracan_dagster.defs.versions import trading_code_version

LEDGER_PREVIEW = (
    "entry_time",
    "exit_time",
    "direction",
    "regime",
    "gross_bps",
    "net_bps",
    "exit_reason",
    "policy",
    "model_version",
)


class TradingConfig(AnomalyChecksConfig):
    """The trader's capital (the fee tier is the ``costs`` resource, shared with labels and models), beside the
    anomaly checks' settings."""

    capital: float = 10_000.0


def trading_assets(
    timeframe: str = "15m", costs_config: CostsResource = CostsResource(), space: PartitionSpace = DEFAULT_SPACE
) -> list[dg.AssetsDefinition]:
    version = trading_code_version(
        costs=costs_config.cost_model(),
        extra={"timeframe": timeframe, "policy": "champion", "costs": costs_config.version()},
    )
    key = {
        n: asset_key(timeframe, n)
        for n in ("candles", "features", "regimes", "market_quotes", "signals", "labels", "champion", "shadow_trades")
    }

    @dg.asset(
        key=key["shadow_trades"],
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
        ins={
            **{
                n: dg.AssetIn(key[n])
                for n in ("candles", "features", "regimes", "market_quotes", "signals", "champion")
            },
        },
        io_manager_key="frames_io",
        check_specs=anomaly_checks(key["shadow_trades"], space),
        kinds={"polars"},
        group_name=f"trading_{timeframe}",
        code_version=version,
        metadata={"timeframe": timeframe},
        description=(
            "The paper-trade ledger of the trades ENTERED on this UTC day (net of fees, spread and slippage), decided "
            "by the coin's champion in force at the start of the day (trained on data that ended before it), else — "
            "no champion — by the rules-only consensus; every trade records its policy and model. Traded flat-to-flat. "
            "Also writes `costs/<SYMBOL>/<timeframe>/<date>.json` and, when anything traded, one equity-curve SVG "
            "per run under `plots/shadow_trades/<timeframe>/`. Each day that traded shows its equity inline "
            "(`equity_curve`) and plots its ending equity, net P&L, drawdown and trades across partitions (Plots). "
            "Checks (WARN): each champion day's win rate, after-cost bps per trade, trade count and costs paid "
            "against the champion's own out-of-sample trades. Patterns paused before the day began "
            "(`huracan health patterns`) are skipped; what they would have traded goes to "
            "`health/would_be/<SYMBOL>/<timeframe>/<date>.parquet`, where their recovery is judged."
        ),
    )
    def shadow_trades(
        context: dg.AssetExecutionContext,
        config: TradingConfig,
        archive: ArchiveResource,
        costs: CostsResource,
        candles: dict[str, pl.DataFrame],
        features: dict[str, pl.DataFrame],
        regimes: dict[str, pl.DataFrame],
        signals: dict[str, pl.DataFrame],
        champion: dict[str, pl.DataFrame],
        market_quotes: dict[str, pl.DataFrame],
    ) -> Iterator:
        wanted = [split_key(k) for k in context.partition_keys]
        store = archive.store()
        model = costs.cost_model(by_day(market_quotes))
        models, no_model = choose_models(store, by_day(champion), wanted)
        pauses = load_book(store, timeframe)  # each day skips the patterns paused before it began
        paused = {day: frozenset(pauses.paused(on=day)) for day, _ in wanted}
        days = trade_partitions(
            by_day(candles),
            by_day(features),
            by_day(regimes),
            by_day(signals),
            wanted,
            timeframe,
            models=models,
            no_model=no_model,
            exchange=costs.exchange,
            costs=model,
            capital=config.capital,
            paused=paused,
        )
        results = {}
        plot = None
        if (picture := run_equity_svg(days, timeframe)) is not None:  # one per run that traded, linked from each day
            name, svg = picture
            plot = plot_key("shadow_trades", timeframe, name)
            store.write_bytes(plot, svg)
        store.write_many(_side_files(days, timeframe, costs))  # together: their fsyncs overlap
        for traded in days:
            costs_at = costs_key(traded.symbol, timeframe, traded.day)
            metadata = _trading_metadata(
                traded,
                model.fee_bps(costs.exchange, traded.symbol),
                store.uri(costs_at),
                store.uri(plot) if plot else None,
                config.capital,
            )
            metadata["paused_patterns"] = ", ".join(sorted(paused[traded.day])) or "none"
            results[partition_key(traded.day, traded.symbol)] = (traded.ledger, metadata)
        yield output_with_partition_metadata(context, results)
        baselines = champion_baselines(store, {m.folder for m in models.values()})
        verdicts = anomaly_verdicts(days, baselines, config.anomaly_config())
        yield from anomaly_evaluations(context, key["shadow_trades"], verdicts)

    @dg.asset(
        key=asset_key(timeframe, "trade_analysis"),
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
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
        context: dg.AssetExecutionContext,
        shadow_trades: dict[str, pl.DataFrame],
        labels: dict[str, pl.DataFrame],
        candles: dict[str, pl.DataFrame],
        features: dict[str, pl.DataFrame],
        regimes: dict[str, pl.DataFrame],
    ) -> dg.Output:
        analyses = analyse_partitions(
            by_day(shadow_trades),
            by_day(labels),
            by_day(candles),
            by_day(features),
            by_day(regimes),
            [split_key(k) for k in context.partition_keys],
        )
        results = {
            partition_key(*key): (a.trades, _analysis_metadata(a, key[0] + timedelta(days=1)))
            for key, a in analyses.items()
        }
        return output_with_partition_metadata(context, results)

    return [shadow_trades, trade_analysis]


def _figure(value: float | None) -> float | str:
    """A figure as the UI shows it: "n/a" where the data cannot define it (core gives NaN, or None: nothing
    traded), never a made-up 0."""
    return round(float(value), 6) if value is not None and math.isfinite(value) else "n/a"


def _side_files(days: list[TradingDay], timeframe: str, costs: CostsResource) -> Iterator[tuple[str, bytes]]:
    """Each day's costs paid, and what its paused patterns would have traded."""
    for traded in days:
        if traded.would_be is not None:
            yield would_be_key(traded.symbol, timeframe, traded.day), parquet_bytes(traded.would_be)
        yield (
            costs_key(traded.symbol, timeframe, traded.day),
            json_bytes(
                {
                    "symbol": traded.symbol,
                    "date": traded.day.isoformat(),
                    "exchange": costs.exchange,
                    "fee_profile": costs.fee_profile,
                    "order_type": costs.order_type,
                    **traded.costs,
                }
            ),
        )


def _trading_metadata(
    traded: TradingDay, fee_tier_bps: float, costs_uri: str, plot_uri: str | None, capital: float
) -> dict:
    """Every figure's name carries its unit (``_pct``, ``_bps``, the quote currency); ``paid_*`` are what the
    trades paid per round trip (both legs) — "n/a" without trades — beside the fee tier they were charged at.

    The figures a person follows across days (ending equity, net P&L, drawdown, trades) are numbers, so the UI plots
    them across partitions; a day without trades gives "n/a" for them (a gap in the plot, not a flat line at the
    capital) and no picture, only why it did not trade."""
    m, ledger, paid = traded.metrics, traded.ledger, paid_costs(traded.ledger)
    shown = shown_summary(m)
    quote = to_ccxt(traded.symbol).split("/")[1]
    table = "| metric | value | unit |\n|---|---|---|\n" + "\n".join(
        f"| {k} | {shown_value(k, v)} | {SUMMARY_UNITS[k].replace('quote currency', quote)} |"
        for k, v in sorted(shown.items())
    )
    net_pnl, drawdown = shown["net_pnl"], shown["max_drawdown"]
    return {
        "policy": traded.policy,
        "decided_by": traded.reason,
        "trades": ledger.height,
        **({"why_no_trades": traded.no_trades_because} if traded.no_trades_because else {}),
        "equity_curve": inline_svg(
            equity_sparkline(traded.equity, capital), f"{traded.symbol} {traded.day} equity, net of costs"
        )
        if ledger.height
        else dg.MetadataValue.text(f"{NO_TRADES}: nothing to draw"),
        f"ending_equity_{quote.lower()}": _figure(None if net_pnl is None else capital + net_pnl),
        f"net_pnl_{quote.lower()}": _figure(net_pnl),
        "max_drawdown_pct": _figure(None if drawdown is None else 100 * drawdown),
        "hit_rate_pct": _figure(100 * m["hit_rate"]),
        "mean_net_bps": _figure(m["expectancy_bps"]),
        "mean_gross_bps": _figure(m["gross_expectancy_bps"]),
        f"costs_paid_{quote.lower()}": _figure(paid["total"]),
        "costs_pct_of_gross": _figure(100 * m["cost_share_of_gross"]),
        "paid_fees_bps_per_round_trip": _figure(paid["fees_bps"]),
        "paid_spread_bps_per_round_trip": _figure(paid["spread_bps"]),
        "paid_slippage_bps_per_round_trip": _figure(paid["slippage_bps"]),
        "paid_funding_bps_per_round_trip": _figure(paid["funding_bps"]),
        "paid_total_bps_per_round_trip": _figure(paid["total_bps"]),
        "fee_tier_bps_per_side": _figure(fee_tier_bps),
        "bars": traded.bars,
        "recipe_hash": traded.recipe_hash,
        "costs_json": dg.MetadataValue.path(costs_uri),
        "metrics": dg.MetadataValue.md(table),
        **({"equity_curves": dg.MetadataValue.path(plot_uri)} if plot_uri else {}),
        "preview": preview(ledger.select(LEDGER_PREVIEW), rows=10),
    }


def _analysis_metadata(analysis: TradeAnalysis, next_day: date) -> dict:
    trades = int((analysis.trades["kind"] == "trade").sum())
    pending = len(analysis.pending)
    if not pending:
        status = "complete"
    elif not analysis.next_day_available:
        status = (
            f"waiting for {next_day.isoformat()} candles: post-exit outcomes of {pending} of {trades} trades are null"
        )
    else:
        status = f"{pending} of {trades} trades run past the candles available"
    metadata: dict = {
        "trades": trades,
        "opportunities": analysis.trades.height - trades,
        "post_exit": status,
        "post_exit_pending": pending,
    }
    for scope, tables in (("traded", analysis.traded), ("opportunities", analysis.opportunities)):
        metadata |= {
            f"{scope}_winners_vs_losers": preview(tables["features"], rows=10),
            f"{scope}_failure_reasons": preview(tables["failure_reasons"], rows=10),
            f"{scope}_by_regime": preview(tables["by_regime"], rows=10),
            f"{scope}_patterns": preview(tables["patterns"].select(pl.exclude("^centroid_.*$")), rows=10),
        }
    return metadata
