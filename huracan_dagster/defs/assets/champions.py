"""``champion`` (date × symbol), ``roster`` and ``daily_summary`` (date), and the Mechanic's ``challengers``."""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
import polars as pl

from huracan_core.broadcast import messages
from huracan_core.champions.book import ChampionBook
from huracan_core.champions.day_decisions import decide_partitions, partition_row
from huracan_core.champions.mechanic import mechanic_round
from huracan_core.champions.roster import build_roster, roster_days
from huracan_core.daily_summary import daily_summary, promotions_of_day
from huracan_core.storage.keys import (
    costs_key,
    daily_summary_key,
    roster_day_key,
    roster_key,
)
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore
from huracan_core.symbols import to_key
from huracan_core.versions import modules_used, source_hash
from huracan_dagster.defs.broadcaster import BroadcasterResource
from huracan_dagster.defs.io_manager import read_partitions
from huracan_dagster.defs.metadata import (
    output_with_partition_metadata,
    preview,
    result_with_partition_metadata,
)
from huracan_dagster.defs.partitions import (
    CHAIN_BACKFILL,
    DEFAULT_SPACE,
    PARTIAL_HISTORY,
    SYMBOL_DIMENSION,
    PartitionSpace,
    asset_key,
    by_day,
    day_window,
    partition_key,
    same_date,
    split_key,
)
from huracan_dagster.defs.resources import (
    ArchiveResource,
    CostsResource,
    MLflowResource,
    ModelSettingsResource,
    PromotionResource,
)

#: the metadata key of what the champion step repaired in the book before deciding (each repair a line)
REPAIRED = "champion_book_repaired"
#: the champion of D is weighed against its challengers on the days before D (at most this many)
EVALUATION_DAYS = 7


def champion_assets(
    timeframe: str,
    recipe_hash: str,
    train_days: int,
    evaluation_days: int = EVALUATION_DAYS,
    costs_config: CostsResource = CostsResource(),
    space: PartitionSpace = DEFAULT_SPACE,
) -> list[dg.AssetsDefinition]:
    key = {
        n: asset_key(timeframe, n)
        for n in (
            "candles",
            "features",
            "regimes",
            "market_quotes",
            "signals",
            "coin_model",
            "champion",
            "shadow_trades",
            "roster",
            "daily_summary",
        )
    }
    group = f"champions_{timeframe}"
    window = day_window(-evaluation_days, -1)

    @dg.asset(
        key=key["champion"],
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
        ins={
            "coin_model": dg.AssetIn(key["coin_model"]),
            **{
                n: dg.AssetIn(key[n], partition_mapping=window)
                for n in ("candles", "features", "regimes", "market_quotes", "signals")
            },
        },
        io_manager_key="frames_io",
        kinds={"mlflow"},
        group_name=group,
        code_version=source_hash(
            *modules_used("huracan_core.champions.day_decisions"),
            extra={"evaluation_days": evaluation_days, "costs": costs_config.version()},
        ),
        metadata={"timeframe": timeframe, PARTIAL_HISTORY: True},  # the evaluation window may be short, and says so
        description=(
            "The coin's champion at the START of the day: the coin model trained before the day (the challenger) "
            "against the champion in force, both out of sample and after costs on the same recent window (up to "
            f"{evaluation_days} days, never before the champion's own cutoff), under the promotion rule (gates, "
            "minimum trades, a margin, a stationary block bootstrap — Hansen's SPA for several challengers). The "
            "first gate-passing, profitable model becomes the champion; doubt keeps it. Every decision is appended to "
            f"`champions/promotions.jsonl`; the pointer `champion/<SYMBOL>/{timeframe}/latest.json` and the MLflow @champion alias "
            "follow. No champion: trade_ok false, and the reason."
        ),
    )
    def champion(
        context: dg.AssetExecutionContext,
        archive: ArchiveResource,
        costs: CostsResource,
        promotion: PromotionResource,
        mlflow: MLflowResource,
        broadcaster: BroadcasterResource,
        coin_model: dict[str, pl.DataFrame],
        candles: dict[str, pl.DataFrame],
        features: dict[str, pl.DataFrame],
        regimes: dict[str, pl.DataFrame],
        signals: dict[str, pl.DataFrame],
        market_quotes: dict[str, pl.DataFrame],
    ) -> dg.Output:
        book = ChampionBook(archive.store(), timeframe)
        wanted = [split_key(k) for k in context.partition_keys]
        repaired = book.reconcile(sorted({symbol for _, symbol in wanted}))  # what a killed run or a damaged copy left
        for note in repaired:
            context.log.warning(note)
        inputs = {
            "candles": by_day(candles),
            "features": by_day(features),
            "regimes": by_day(regimes),
            "signals": by_day(signals),
        }
        lines = decide_partitions(
            book,
            by_day(coin_model),
            inputs,
            wanted,
            timeframe,
            evaluation_days=evaluation_days,
            recipe_hash=recipe_hash,
            rule=promotion.rule(),
            exchange=costs.exchange,
            costs=costs.cost_model(by_day(market_quotes)),
            run_id=context.run.run_id,
            now=lambda: datetime.now(UTC),
        )
        results = {}
        for line in lines:
            not_sent = _announce(line, mlflow, broadcaster, context.log)
            day = datetime.fromisoformat(line["effective_from"]).date()
            notes = {REPAIRED: "\n".join(repaired)} if repaired else {}
            results[partition_key(day, line["symbol"])] = (
                partition_row(day, line),
                {**_champion_metadata(line, book), **not_sent, **notes},
            )
        return output_with_partition_metadata(context, results)

    @dg.asset(
        key=key["roster"],
        partitions_def=space.dates,
        backfill_policy=CHAIN_BACKFILL,
        deps=[dg.AssetDep(key[n], partition_mapping=same_date()) for n in ("champion", "shadow_trades")],
        kinds={"json"},
        group_name=group,
        automation_condition=dg.AutomationCondition.eager(),
        code_version=source_hash("huracan_core.champions.roster"),
        metadata={"timeframe": timeframe},
        description=(
            "Every coin with a champion decision of the day, ranked: tradeable first, then by liquidity (quote "
            "volume), round-trip cost (fee, spread, slippage paid) and the champion's net bps of the last 7 days of "
            f"shadow trades. `champions/roster/{timeframe}/<date>.json`, and `champions/roster/{timeframe}/latest.json` for the newest day "
            "(what Hamilton reads). Materializes by itself once the day's champions and shadow trades are in."
        ),
    )
    def roster(context: dg.AssetExecutionContext, archive: ArchiveResource) -> dg.MaterializeResult:
        store, metadata = archive.store(), {}
        for day in (date.fromisoformat(k) for k in context.partition_keys):
            symbols = context.instance.get_dynamic_partitions(SYMBOL_DIMENSION)
            champions = _rows(read_partitions(archive, "champion", timeframe, [(day, s) for s in symbols]))
            keys = [(d, s) for d in roster_days(day) for s in champions]
            document = build_roster(
                day,
                timeframe,
                champions,
                read_partitions(archive, "shadow_trades", timeframe, keys),
                _costs(store, timeframe, keys),
                read_partitions(archive, "candles", timeframe, keys),
            )
            store.write_json(roster_day_key(timeframe, day), document)
            if _newest(store, roster_key(timeframe), day):
                store.write_json(roster_key(timeframe), document)
            metadata[day.isoformat()] = _roster_metadata(document, store.uri(roster_day_key(timeframe, day)))
        return result_with_partition_metadata(context, metadata)

    @dg.asset(
        key=key["daily_summary"],
        partitions_def=space.dates,
        backfill_policy=CHAIN_BACKFILL,
        deps=[dg.AssetDep(key[n], partition_mapping=same_date()) for n in ("coin_model", "champion", "shadow_trades")],
        kinds={"json"},
        group_name=group,
        automation_condition=dg.AutomationCondition.eager(),
        code_version=source_hash("huracan_core.daily_summary", "huracan_core.health.patterns"),
        metadata={"timeframe": timeframe},
        description=(
            "The day in one document, `summaries/daily/{timeframe}/<date>.json`: models trained, passed and failed (with the "
            "gates that failed), promotions, shadow trades, hit rate and net PnL after costs, per coin, per pattern "
            "(regime × side × engines agreeing, best first) and in total. "
            "Sent by the Broadcaster. Materializes by itself once the day's models, champions and trades are in."
        ),
    )
    def daily_summary_asset(
        context: dg.AssetExecutionContext,
        archive: ArchiveResource,
        broadcaster: BroadcasterResource,
    ) -> dg.MaterializeResult:
        store, metadata = archive.store(), {}
        history = ChampionBook(store, timeframe).history()
        for day in (date.fromisoformat(k) for k in context.partition_keys):
            keys = [(day, s) for s in context.instance.get_dynamic_partitions(SYMBOL_DIMENSION)]
            ledgers = read_partitions(archive, "shadow_trades", timeframe, keys)
            summary = daily_summary(
                day,
                timeframe,
                _rows(read_partitions(archive, "coin_model", timeframe, keys)),
                _rows(read_partitions(archive, "champion", timeframe, keys)),
                {s: frame for (_, s), frame in ledgers.items()},
                promotions_of_day(history, day),
            )
            store.write_json(daily_summary_key(timeframe, day), summary)
            not_sent = broadcaster.notify(messages.daily_summary(summary), context.log)
            metadata[day.isoformat()] = {
                **_summary_metadata(summary, store.uri(daily_summary_key(timeframe, day))),
                **not_sent,
            }
        return result_with_partition_metadata(context, metadata)

    return [champion, roster, daily_summary_asset]


def mechanic_asset(
    timeframe: str, recipe_hash: str, train_days: int, evaluation_days: int = EVALUATION_DAYS
) -> dg.AssetsDefinition:
    @dg.asset(
        key=asset_key(timeframe, "challengers"),
        # what the Mechanic learns from: every labelled day (it reads the newest ones; its sensor waits for them)
        deps=[
            dg.AssetDep(asset_key(timeframe, n), partition_mapping=dg.AllPartitionMapping())
            for n in ("labels", "market_quotes")
        ],
        kinds={"lightgbm", "mlflow"},
        group_name=f"champions_{timeframe}",
        metadata={"timeframe": timeframe},
        description=(
            "The Mechanic (run by its hourly sensor when new labels have arrived): per coin, a challenger trained "
            f"with the Engine's recipe on the {train_days} days before the day after the newest labelled day, into "
            f"`challengers/<SYMBOL>/{timeframe}/<cutoff>/`, logged in MLflow, and judged at once against the champion "
            "by the promotion rule (its walk-forward folds' out-of-sample trades against the champion's on the same "
            "recent window). Coins without newer data since their last challenger are skipped."
        ),
    )
    def challengers(
        context: dg.AssetExecutionContext,
        archive: ArchiveResource,
        costs: CostsResource,
        models: ModelSettingsResource,
        promotion: PromotionResource,
        mlflow: MLflowResource,
        broadcaster: BroadcasterResource,
    ) -> dg.MaterializeResult:
        from huracan_core.models.tracking import log_training_run

        store = archive.store()

        def track(part, files) -> dict[str, str]:
            tracked = log_training_run(
                mlflow.config(),
                part.trained,
                params={"source": "mechanic", "train_days": train_days},
                files=files,
                tags={
                    "dagster_run_id": context.run.run_id,
                    "recipe_hash": recipe_hash,
                    "model_folder": part.folder,
                    "source": "mechanic",
                },
            )
            return {"mlflow_model": tracked.model_name, "mlflow_version": tracked.version}

        rows, not_sent = [], {}
        for row in mechanic_round(
            ChampionBook(store, timeframe),
            context.instance.get_dynamic_partitions(SYMBOL_DIMENSION),
            timeframe,
            recipe_hash=recipe_hash,
            config=models.training_config(train_days),
            evaluation_days=evaluation_days,
            track=track,
            use_encoder=models.use_encoder,
            rule=promotion.rule(),
            exchange=costs.exchange,
            costs=costs.cost_model(),
            run_id=context.run.run_id,
        ):
            line = row.pop("line")
            if line is not None:
                not_sent |= _announce(line, mlflow, broadcaster, context.log)
            rows.append(row)
        table = pl.DataFrame(rows, schema={"symbol": pl.String, "outcome": pl.String, "why": pl.String})
        return dg.MaterializeResult(
            metadata={
                "challengers_trained": int((table["outcome"] != "skipped").sum()),
                "promoted": int((table["outcome"] == "promoted").sum()),
                "decisions": preview(table, rows=50),
                **not_sent,
            }
        )

    return challengers


def _announce(line: Mapping[str, Any], mlflow: MLflowResource, broadcaster: BroadcasterResource, log) -> dict[str, str]:
    """Aliases in step with the pointer (``@champion``; ``@challenger`` on the candidate just weighed), and a
    message when the champion changed; returns the metadata of a message that could not be sent."""
    from huracan_core.models.tracking import registered_model_name, set_aliases

    card = line["champion"] or {}
    candidate = next((c for c in reversed(line["candidates"]) if c.get("mlflow_version")), None)
    if card.get("mlflow_version") or candidate:
        name = registered_model_name(line["symbol"], line["timeframe"])
        set_aliases(
            mlflow.config(),
            name,
            {"champion": card.get("mlflow_version"), "challenger": candidate["mlflow_version"] if candidate else None},
        )
    return broadcaster.notify(messages.promotion(line), log) if line["promoted"] else {}


def _rows(frames: Mapping[tuple[date, str], pl.DataFrame]) -> dict[str, dict[str, Any]]:
    """One-row partitions (``coin_model``, ``champion``) by symbol."""
    return {to_key(symbol): frame.row(0, named=True) for (_, symbol), frame in frames.items() if frame.height}


def _costs(store: ArtifactStore, timeframe: str, keys: list[tuple[date, str]]) -> dict[tuple[date, str], dict]:
    out = {}
    for day, symbol in keys:
        try:
            out[(day, symbol)] = store.read_json(costs_key(symbol, timeframe, day))
        except ArtifactNotFound:
            continue
    return out


def _newest(store: ArtifactStore, key: str, day: date) -> bool:
    """A backfill of an older day never replaces the newest roster."""
    try:
        return date.fromisoformat(store.read_json(key)["date"]) <= day
    except ArtifactNotFound:
        return True


def _champion_metadata(line: Mapping[str, Any], book: ChampionBook) -> dict:
    card = line["champion"] or {}
    history = book.history(line["symbol"])[-10:]
    table = pl.DataFrame(
        [
            {
                "effective_from": h["effective_from"][:16],
                "source": h["source"],
                "promoted": "yes" if h["promoted"] else "no",
                "champion_after": (h["champion_after"] or "none").rsplit("/", 1)[-1],
                "test": h.get("test", ""),
                "p_value": "n/a" if h.get("p_value") is None else f"{h['p_value']:.3f}",
                "reason": h["reason"][:160],
            }
            for h in reversed(history)
        ]
    )
    return {
        "trade_ok": bool(card),
        "champion": card.get("model_folder") or "none",
        "mlflow_champion": f"{card['mlflow_model']} v{card['mlflow_version']}" if card.get("mlflow_version") else "n/a",
        "promoted": bool(line["promoted"]),
        "reason": line["reason"],
        "test": line["test"],
        "p_value": "n/a" if line["p_value"] is None else round(float(line["p_value"]), 4),
        "window": " .. ".join(line["window"]),
        "promotions": preview(table, rows=10),
    }


def _roster_metadata(document: Mapping[str, Any], uri: str) -> dict:
    entries = document["symbols"]
    table = pl.DataFrame(
        [
            {k: e[k] for k in ("rank", "symbol", "trade_ok", "round_trip_cost_bps", "last_7d_net_bps", "reason")}
            for e in entries
        ],
        schema_overrides={"round_trip_cost_bps": pl.Float64, "last_7d_net_bps": pl.Float64},
    )
    return {
        "coins": len(entries),
        "tradeable": sum(e["trade_ok"] for e in entries),
        "roster_json": dg.MetadataValue.path(uri),
        "roster": preview(table, rows=len(entries) or 1),
    }


def _summary_metadata(summary: Mapping[str, Any], uri: str) -> dict:
    return {
        "models_trained": summary["models_trained"],
        "models_passed": summary["models_passed"],
        "promotions": summary["promotion_count"],
        "champions": summary["champions"],
        "trades": summary["trades"],
        "hit_rate_pct": "n/a" if summary["hit_rate_pct"] is None else summary["hit_rate_pct"],
        "net_pnl_usdt": summary["net_pnl"],
        "summary_json": dg.MetadataValue.path(uri),
        "per_coin": preview(
            pl.DataFrame(
                [
                    {
                        k: c.get(k)
                        for k in (
                            "symbol",
                            "model_passed",
                            "signal_summary",
                            "trade_ok",
                            "trades",
                            "net_pnl",
                            "champion_reason",
                        )
                    }
                    for c in summary["per_coin"]
                ]
            ),
            rows=50,
        )
        if summary["per_coin"]
        else "no coins",
        "patterns": preview(pl.DataFrame(summary["patterns"]), rows=50) if summary["patterns"] else "no trades",
    }
