"""``signals``, ``labels``, ``shared_encoder`` and ``coin_model``: what the coins' models learn from, and the models."""

import math
from collections.abc import Iterator
from datetime import date, timedelta
from typing import cast

import dagster as dg
import polars as pl

from huracan_core.models.artifacts import CHECKSUMS, REQUIRED_FILES
from huracan_core.models.day_models import (
    ENCODER_FILE,
    ModelPartition,
    encoder_keys,
    index_row,
    load_encoders,
    no_model_index,
    retrain_split,
    train_encoders,
    train_model_partitions,
    write_encoder,
    write_model,
)
from huracan_core.models.encoder import encoder_window
from huracan_core.models.gates import GateReport
from huracan_core.models.integrity import verify_folder
from huracan_core.models.lookahead_labels import LabelPartition, label_partitions
from huracan_core.models.training import ModelConfig
from huracan_core.trading.signals import (
    WARMUP_DAYS,
    prove_signal_causality,
    signal_partitions,
)
from huracan_core.versions import modules_used, source_hash
from huracan_dagster.defs.assets.features import causality_verdicts
from huracan_dagster.defs.automation import when_later_data_arrives
from huracan_dagster.defs.io_manager import read_partitions
from huracan_dagster.defs.metadata import (
    output_with_partition_metadata,
    preview,
    result_with_partition_metadata,
)
from huracan_dagster.defs.partitions import (
    CHAIN_BACKFILL,
    DEFAULT_SPACE,
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
    UniverseResource,
)
from huracan_dagster.defs.verdicts import Verdict, evaluations, partitioned_check

CAUSAL_SAMPLES = 3
#: the checks that read each new model and encoder folder back right after it is written
MODEL_INTACT = "model_files_intact"
ENCODER_INTACT = "encoder_files_intact"
#: the gate verdict of each trained model: a research result (WARN, never blocking), shown where checks are shown
GATES = "passes_gates"
#: how many features the model's metadata lists by their share of the total gain
TOP_FEATURES = 10


def learning_assets(
    timeframe: str,
    recipe_hash: str,
    train_days: int = ModelConfig().train_days,
    costs_config: CostsResource = CostsResource(),
    space: PartitionSpace = DEFAULT_SPACE,
) -> list[dg.AssetsDefinition]:
    """``costs_config``: the ``costs`` resource as configured; it prices every label, signal and model, so its
    fee profile, order type and quote book are part of their code versions (a change marks them stale in the UI)."""
    priced = costs_config.version()
    keys = {
        name: asset_key(timeframe, name)
        for name in (
            "candles",
            "features",
            "regimes",
            "market_quotes",
            "signals",
            "labels",
            "shared_encoder",
            "coin_model",
        )
    }
    group = f"learning_{timeframe}"

    @dg.asset(
        key=keys["signals"],
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
        ins={
            n: dg.AssetIn(keys[n], partition_mapping=day_window(-WARMUP_DAYS, 0))
            for n in ("candles", "features", "regimes", "market_quotes")
        },
        io_manager_key="frames_io",
        check_specs=[
            partitioned_check(
                "signals_causal",
                keys["signals"],
                blocking=True,
                description="Votes and decisions at sampled t equal those computed from bars truncated at t.",
                space=space,
            )
        ],
        kinds={"polars"},
        group_name=group,
        code_version=source_hash(
            *modules_used("huracan_core.trading.signals"), extra={"warmup_days": WARMUP_DAYS, "costs": priced}
        ),
        metadata={"timeframe": timeframe},
        description=(
            "Every engine's vote (direction, confidence, reason, regime affinity) and the consensus decision per bar, "
            f"costs in. The {WARMUP_DAYS} previous days warm up the engines' trailing windows and the meta combiner."
        ),
    )
    def signals(
        context: dg.AssetExecutionContext,
        costs: CostsResource,
        candles: dict[str, pl.DataFrame],
        features: dict[str, pl.DataFrame],
        regimes: dict[str, pl.DataFrame],
        market_quotes: dict[str, pl.DataFrame],
    ) -> Iterator:
        wanted = [split_key(k) for k in context.partition_keys]
        inputs = {"candles": by_day(candles), "features": by_day(features), "regimes": by_day(regimes)}
        quoted = costs.cost_model(by_day(market_quotes))
        options = {"warmup_days": WARMUP_DAYS, "exchange": costs.exchange, "costs": quoted}
        frames = signal_partitions(inputs["candles"], inputs["features"], inputs["regimes"], wanted, **options)
        yield output_with_partition_metadata(
            context, {partition_key(*k): (f, _signal_metadata(f)) for k, f in frames.items()}
        )
        proofs = prove_signal_causality(inputs, frames, CAUSAL_SAMPLES, **options)
        yield from causality_verdicts(context, keys["signals"], "signals_causal", proofs)

    @dg.asset(
        key=keys["labels"],
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
        automation_condition=when_later_data_arrives(),
        ins={
            "candles": dg.AssetIn(keys["candles"], partition_mapping=day_window(0, 1)),
            "features": dg.AssetIn(keys["features"], partition_mapping=day_window(0, 1)),
            # the exits of a day's last bars are priced on the next day's quotes
            "market_quotes": dg.AssetIn(keys["market_quotes"], partition_mapping=day_window(0, 1)),
            "regimes": dg.AssetIn(keys["regimes"]),
            "signals": dg.AssetIn(keys["signals"]),
        },
        io_manager_key="frames_io",
        kinds={"polars"},
        group_name=group,
        code_version=source_hash(*modules_used("huracan_core.models.lookahead_labels"), extra={"costs": priced}),
        metadata={"timeframe": timeframe},
        description=(
            "LOOKS FORWARD (targets, never features): each bar's after-cost outcome of a long and a short entered at "
            "the next bar's open under the shadow trader's own exits and costs. The last bars' trades finish on the "
            "NEXT day's candles: until those exist their outcomes are null and the partition says it waits; when they "
            "arrive it materializes again by itself (automation condition)."
        ),
    )
    def labels(
        context: dg.AssetExecutionContext,
        costs: CostsResource,
        candles: dict[str, pl.DataFrame],
        features: dict[str, pl.DataFrame],
        regimes: dict[str, pl.DataFrame],
        signals: dict[str, pl.DataFrame],
        market_quotes: dict[str, pl.DataFrame],
    ) -> dg.Output:
        parts = label_partitions(
            by_day(candles),
            by_day(features),
            by_day(regimes),
            by_day(signals),
            [split_key(k) for k in context.partition_keys],
            timeframe,
            exchange=costs.exchange,
            costs=costs.cost_model(by_day(market_quotes)),
        )
        return output_with_partition_metadata(
            context, {partition_key(p.day, p.symbol): (p.frame, _label_metadata(p)) for p in parts}
        )

    @dg.asset(
        key=keys["shared_encoder"],
        partitions_def=space.dates,
        backfill_policy=CHAIN_BACKFILL,
        deps=[dg.AssetDep(keys["features"], partition_mapping=same_date())],
        check_specs=[
            partitioned_check(
                ENCODER_INTACT,
                keys["shared_encoder"],
                by_date=True,
                space=space,
                description=(
                    f"The day's encoder folder, read back right after it was written, matches its `{CHECKSUMS}`."
                ),
            )
        ],
        kinds={"torch"},
        group_name=group,
        code_version=source_hash(
            "huracan_core.models.encoder", "huracan_core.models.day_models", extra={"train_days": train_days}
        ),
        metadata={"timeframe": timeframe},
        description=(
            "One autoencoder per retrain day (the `models` resource's `retrain_every_days`, HURACAN_RETRAIN_EVERY_DAYS; "
            "other days record that they train nothing) over every coin's scale-free features; its embedding joins each coin model's "
            f"inputs. The encoder of D trains on the declared universe's features of the first walk-forward training "
            f"span of D's coin models (from D−{train_days}; Dagster draws the edge to D's features, the days read are "
            "listed in the metadata), so every test window of those models lies after all it saw. CUDA when available. "
            f"Stored at `encoders/{timeframe}/<date>/encoder.pt` with `sha256.txt`."
        ),
    )
    def shared_encoder(
        context: dg.AssetExecutionContext,
        archive: ArchiveResource,
        universe: UniverseResource,
        models: ModelSettingsResource,
    ) -> Iterator:
        cadence = models.cadence()
        days = [date.fromisoformat(k) for k in context.partition_keys]
        retrain = [day for day in days if cadence.is_retrain_day(day)]
        members = universe.members_by_day(timeframe, retrain)
        config = models.encoder_config(train_days)
        wanted = sorted({k for day in retrain for k in encoder_keys(day, members[day], config)})
        features = read_partitions(archive, "features", timeframe, wanted, recipe_hash=recipe_hash)
        encoders = train_encoders(features, members, retrain, timeframe, config, models.encoder_device or None)
        store = archive.store()
        idle = "no coin model of the day reads an encoder"
        metadata = {
            day.isoformat(): {"retrained": False, "reason": f"{cadence.why_not(day)}: {idle}"}
            for day in days
            if day not in encoders
        }
        verdicts = {
            day.isoformat(): Verdict(True, "no encoder trained on this day") for day in days if day not in encoders
        }
        for day, encoder in encoders.items():
            folder = write_encoder(store, timeframe, day, encoder)
            verdicts[day.isoformat()] = _intact(store, folder, (ENCODER_FILE,))
            start, end = encoder_window(day, config)
            metadata[day.isoformat()] = {
                "retrained": True,
                "folder": dg.MetadataValue.path(store.uri(folder)),
                "version": encoder.version_hash,
                "device": encoder.device,
                "trained_on": f"{start}..{end - timedelta(days=1)} × {', '.join(members[day])}",
                "columns": len(encoder.columns),
                "losses": ", ".join(f"{v:.4f}" for v in encoder.losses),
                "epoch_seconds": ", ".join(f"{v:.2f}" for v in encoder.epoch_seconds),
            }
        yield result_with_partition_metadata(context, metadata)
        yield from evaluations(
            context, keys["shared_encoder"], ENCODER_INTACT, verdicts, severity=dg.AssetCheckSeverity.ERROR
        )

    history = day_window(-train_days, -1)

    @dg.asset(
        key=keys["coin_model"],
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
        ins={
            n: dg.AssetIn(keys[n], partition_mapping=history)
            for n in ("candles", "features", "regimes", "market_quotes", "signals", "labels")
        },
        deps=[dg.AssetDep(keys["shared_encoder"], partition_mapping=same_date())],
        check_specs=[
            partitioned_check(
                MODEL_INTACT,
                keys["coin_model"],
                space=space,
                description=(f"The model folder, read back right after it was written, matches its `{CHECKSUMS}`."),
            ),
            partitioned_check(
                GATES,
                keys["coin_model"],
                space=space,
                description=(
                    "The model's out-of-sample figures, after costs, clear the gates of the `models` resource's "
                    "profile (HURACAN_GATE_PROFILE). A model that fails never trades; its failure is a research "
                    "result, not a broken run: a warning that holds nothing back. Days off the retrain cadence "
                    "train no model and are not judged."
                ),
            ),
        ],
        io_manager_key="frames_io",
        kinds={"lightgbm", "mlflow"},
        group_name=group,
        code_version=source_hash(
            *modules_used("huracan_core.models.day_models"), extra={"train_days": train_days, "costs": priced}
        ),
        metadata={"timeframe": timeframe},
        description=(
            f"A LightGBM model per coin trained on the {train_days} days before the day (labels that ended before it), "
            "under purged walk-forward validation: the signal of its predictions (rank IC, realized net by predicted "
            "quintile) and its out-of-sample trades, after costs, under its two rules (the absolute margin, and "
            "thresholds calibrated on the end of each fold's training window; the `models` resource's decision_policy "
            "is the one judged), next to the rules-only and flat baselines and the ablation without the shared "
            "encoder, judged by the gates. The model folder "
            f"(`models/<SYMBOL>/{timeframe}/<cutoff>/`, `sha256.txt` last) and an MLflow run and registered version "
            "(`huracan-<BASE>-<QUOTE>-<tf>`); a model that fails its gates never trades. Models train on retrain days only "
            "(`retrain_every_days` of the `models` resource, HURACAN_RETRAIN_EVERY_DAYS, counted from Mondays): a day "
            "between stores no model, so the champion in force stays."
        ),
    )
    def coin_model(
        context: dg.AssetExecutionContext,
        archive: ArchiveResource,
        costs: CostsResource,
        models: ModelSettingsResource,
        mlflow: MLflowResource,
        candles: dict[str, pl.DataFrame],
        features: dict[str, pl.DataFrame],
        regimes: dict[str, pl.DataFrame],
        signals: dict[str, pl.DataFrame],
        labels: dict[str, pl.DataFrame],
        market_quotes: dict[str, pl.DataFrame],
    ) -> Iterator:
        from huracan_core.models.tracking import log_training_run

        cadence = models.cadence()
        retrain, idle = retrain_split([split_key(k) for k in context.partition_keys], cadence)
        store, config = archive.store(), models.training_config(train_days)
        encoders = load_encoders(store, timeframe, sorted({day for day, _ in retrain})) if models.use_encoder else {}
        inputs = {"candles": candles, "features": features, "regimes": regimes, "signals": signals, "labels": labels}
        parts = train_model_partitions(
            {name: by_day(frames) for name, frames in inputs.items()},
            encoders,
            retrain,
            timeframe,
            config=config,
            costs=costs.cost_model(by_day(market_quotes)),
            exchange=costs.exchange,
            use_encoder=models.use_encoder,
        )
        kept = "no challenger, the champion in force stays"
        results = {
            partition_key(day, symbol): (
                no_model_index(),
                {"retrained": False, "reason": f"{cadence.why_not(day)}: {kept}"},
            )
            for day, symbol in idle
        }
        verdicts = {key: Verdict(True, "no model trained on this day") for key in results}
        judged = {}
        for part in parts:
            key = partition_key(part.day, part.symbol)
            written = write_model(store, part)
            verdicts[key] = _intact(store, part.folder, REQUIRED_FILES)
            gates = part.trained.gates
            judged[key] = Verdict(gates.passed, gates.headline(), {"gates": dg.MetadataValue.md(_gates_table(gates))})
            tags = {
                "dagster_run_id": context.run.run_id,
                "partition_key": key,
                "recipe_hash": recipe_hash,
                "model_folder": part.folder,
            }
            tracked = log_training_run(
                mlflow.config(), part.trained, params=_params(config, costs, part), files=written, tags=tags
            )
            link = {
                "mlflow_run_id": tracked.run_id,
                "mlflow_model": tracked.model_name,
                "mlflow_version": tracked.version,
            }
            results[key] = (
                index_row(part, link),
                _model_metadata(part, store, mlflow, tracked, config.safety_margin_bps),
            )
        yield output_with_partition_metadata(context, results)
        yield from evaluations(
            context, keys["coin_model"], MODEL_INTACT, verdicts, severity=dg.AssetCheckSeverity.ERROR
        )
        yield from evaluations(context, keys["coin_model"], GATES, judged, severity=dg.AssetCheckSeverity.WARN)

    return [signals, labels, shared_encoder, coin_model]


def _intact(store, folder: str, required) -> Verdict:
    """The folder read back from the Archive: every file against its hash."""
    problem = verify_folder(store, folder, required)
    return Verdict(problem is None, problem or f"{CHECKSUMS} matches every file of {folder}")


def _params(config: ModelConfig, costs: CostsResource, part: ModelPartition) -> dict[str, object]:
    return {
        "train_days": config.train_days,
        "rounds": config.rounds,
        "num_leaves": config.num_leaves,
        "learning_rate": config.learning_rate,
        "min_data_in_leaf": config.min_data_in_leaf,
        "seed": config.seed,
        "gate_profile": config.gate_profile,
        "safety_margin_bps": config.safety_margin_bps,
        "decision_policy": config.decision_policy,
        "calibration": {
            "fraction": config.calibration_fraction,
            "quantiles": config.calibration_quantiles,
            "min_trades": config.calibration_min_trades,
            "z": config.calibration_z,
        },
        "walk_forward": config.walk_forward,
        "fee_profile": costs.fee_profile,
        "order_type": costs.order_type,
        "columns": len(part.trained.columns),
        "encoder_version": part.encoder_version or "none",
    }


def _mean(column: pl.Series) -> float:
    """The mean of a numeric (or boolean) column; 0 when it holds no values."""
    return float(cast("float | None", column.mean()) or 0.0)


def _signal_metadata(frame: pl.DataFrame) -> dict:
    taken = frame.filter(pl.col("recommendation") != "SKIP")
    return {
        "rows": frame.height,
        "take_signals": taken.height,
        "mean_expected_edge_bps": round(_mean(frame["expected_edge_bps"]), 3),
        "mean_cost_bps": round(_mean(frame["cost_bps"]), 3),
        "preview": preview(
            frame.select(
                "timestamp",
                "regime",
                "direction",
                "confidence",
                "agreement",
                "recommendation",
                "expected_edge_bps",
                "cost_bps",
            )
        ),
    }


def _label_metadata(part: LabelPartition) -> dict:
    frame = part.frame
    next_day = part.day.fromordinal(part.day.toordinal() + 1).isoformat()
    if not part.pending:
        status = "complete"
    elif not part.next_day_available:
        status = (
            f"waiting for {next_day} candles: {part.pending} of {frame.height} bars' outcomes are null until they exist"
        )
    else:
        status = f"{part.pending} of {frame.height} bars run past the candles available"
    done = frame.filter(pl.col("complete"))

    def share_positive(side: str) -> float:
        return round(_mean(done[f"{side}_net_bps"] > 0), 4) if done.height else 0.0

    return {
        "rows": frame.height,
        "complete": done.height,
        "pending": part.pending,
        "status": status,
        "long_mean_net_bps": round(_mean(done["long_net_bps"]), 3),
        "short_mean_net_bps": round(_mean(done["short_net_bps"]), 3),
        "long_share_positive_after_costs": share_positive("long"),
        "short_share_positive_after_costs": share_positive("short"),
        "mean_round_trip_cost_bps": round(_mean(done["long_cost_bps"]), 3),
        "preview": preview(
            frame.select(
                "timestamp", "long_net_bps", "long_exit_reason", "short_net_bps", "short_exit_reason", "complete"
            )
        ),
    }


def _model_metadata(part: ModelPartition, store, mlflow: MLflowResource, tracked, margin_bps: float) -> dict:
    t = part.trained
    agg, rules, flat = t.model.aggregate, t.baselines["rules"].aggregate, t.baselines["flat"].aggregate
    shown = {k: _FIGURES[k] or part.symbol.split("-")[1] for k in _FIGURES}  # net P&L in the quote currency
    table = "| metric | model | rules | flat |\n|---|---|---|---|\n" + "\n".join(
        f"| {_labelled(k, unit)} | {_figure(agg[k], unit)} | {_figure(rules[k], unit)} | {_figure(flat[k], unit)} |"
        for k, unit in shown.items()
    )
    policies = "| metric | " + " | ".join(t.policies) + " |\n|---|" + "---|" * len(t.policies) + "\n"
    policies += "\n".join(
        f"| {_labelled(k, unit)} | " + " | ".join(_figure(r.aggregate[k], unit) for r in t.policies.values()) + " |"
        for k, unit in shown.items()
    )
    metadata = {
        "verdict": t.gates.headline(),
        "retrained": True,
        "passed": t.passed,
        "gate_summary": t.gates.summary(),
        "signal_summary": t.signal.summary() if t.signal else "n/a",
        "signal": dg.MetadataValue.md(_signal_table(t)),
        "decision_rule": t.rule.describe(),
        "policies": dg.MetadataValue.md(policies),
        "gates": dg.MetadataValue.md(_gates_table(t.gates)),
        "out_of_sample": dg.MetadataValue.md(table),
        "trades_out_of_sample": int(agg["trade_count"]),
        "best_predicted_edge_bps": _fmt(agg["best_predicted_edge_bps"]),
        "safety_margin_bps": _fmt(margin_bps),
        "folds": len(t.folds),
        "training_rows": t.training_rows,
        "fee_bps_per_side": t.fee_bps,
        "break_even_fee_bps": _fmt(t.break_even_fee_bps),
        "model_folder": dg.MetadataValue.path(store.uri(part.folder)),
        # a link named briefly: the full URL cannot wrap, and would widen the table past the screen (clipping
        # the verdict on its first row)
        "mlflow_run": dg.MetadataValue.md(f"[MLflow run {tracked.run_id[:8]}]({mlflow.ui_url()}/{tracked.run_path})"),
        "mlflow_model": f"{tracked.model_name} v{tracked.version}",
        "top_features": dg.MetadataValue.md(_top_features(t.importance)),
    }
    if t.ablation:
        diff = t.ablation["difference"]
        assert isinstance(diff, dict)  # metric: with − without (training.py)
        metadata["ablation_without_encoder"] = dg.MetadataValue.md(
            "| metric | with − without embedding |\n|---|---|\n"
            + "\n".join(f"| {k} | {_fmt(v)} |" for k, v in diff.items())
        )
    return metadata


#: the out-of-sample figures of a model's tables, each with its unit ("%": a fraction shown as a percentage; ""
#: after a name that says it or for a ratio; None: the quote currency of the coin)
_FIGURES: dict[str, str | None] = {
    "trade_count": "",
    "net_pnl": None,
    "sharpe": "",
    "hit_rate": "%",
    "max_drawdown": "%",
    "profit_factor": "",
    "expectancy_bps": "",
}


def _labelled(metric: str, unit: str) -> str:
    return f"{metric} ({unit})" if unit else metric


def _figure(value, unit: str) -> str:
    return _fmt(value * 100 if unit == "%" and value is not None else value)


def _gates_table(gates: GateReport) -> str:
    """Each gate's figure, what it needs and how far it is from passing, in the gate's own unit (as the verdict
    sentence and the summary write them), "n/a" where the figure could not be measured."""
    head = "| gate | value | needs | short by | passed |\n|---|---|---|---|---|\n"
    return head + "\n".join(
        f"| {r.label} | {r.value_text()} | {r.needs} | {r.short_by_text() or '—'} | {'yes' if r.passed else 'NO'} |"
        for r in gates.results
    )


def _top_features(importance: dict[str, float]) -> str:
    """The features that carry most of the booster's split gain, each as a share of the total gain of all its
    features: raw gain (a sum of loss reductions) has no unit a person can read."""
    total = sum(importance.values())
    if total <= 0:
        return f"no split gained anything: all {len(importance)} features at 0% of total gain"
    shown = list(importance.items())[:TOP_FEATURES]
    lines = [f"- `{name}`: {gain / total:.1%}" for name, gain in shown]
    return f"share of total gain, top {len(shown)} of {len(importance)} features:\n\n" + "\n".join(lines)


def _signal_table(trained) -> str:
    """Per fold and over all: IC, realized net by predicted quintile, top − bottom, and the calibrated thresholds
    the fold chose on its slice (``off``: the side was disabled)."""
    signal = trained.signal
    if signal is None:
        return "no signal measured"
    head = "| fold | IC | Q1 bps | Q5 bps | Q5 − Q1 | long > | short > |\n|---|---|---|---|---|---|---|\n"

    def threshold(value) -> str:
        return "off" if value is None else _fmt(value)

    rows = [
        f"| {f.fold} | {_fmt(f.ic)} | {_fmt(f.quintiles.mean_net_bps[0])} | {_fmt(f.quintiles.mean_net_bps[-1])} | "
        f"{_fmt(f.quintiles.top_minus_bottom)} | {threshold(row['calibrated_long_threshold_bps'])} | "
        f"{threshold(row['calibrated_short_threshold_bps'])} |"
        for f, row in zip(signal.folds, trained.folds, strict=True)
    ]
    q = signal.quintiles.mean_net_bps
    rows.append(
        f"| all (kept rule) | {_fmt(signal.ic_mean)} ± {_fmt(signal.ic_std)} (ICIR {_fmt(signal.icir)}, pooled "
        f"{_fmt(signal.pooled_ic)}) | {_fmt(q[0])} | {_fmt(q[-1])} | {_fmt(signal.q5_minus_q1_bps)} | "
        f"{threshold(trained.rule.long_threshold_bps)} | {threshold(trained.rule.short_threshold_bps)} |"
    )
    return head + "\n".join(rows)


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    value = float(value)
    if not math.isfinite(value):
        return "n/a" if math.isnan(value) else str(value)
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"
