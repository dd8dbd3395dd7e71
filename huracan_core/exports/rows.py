"""One source partition → its rows of every export table, each row with its lineage.

An export partition is a pure function of its source partitions (and, for model_performance, the model folder's
verified ``metrics.json``): exporting it again gives the same rows, and writing them replaces the old object, so
rows are never duplicated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl

from huracan_core.day_keys import DayKey, keyed, label, require
from huracan_core.symbols import to_key
from huracan_core.trading.analysis import pattern_library, win_loss_analysis

#: the sources of the date × symbol tables, by the export table each one feeds first
SOURCES = (
    "candles",
    "features",
    "regimes",
    "signals",
    "labels",
    "shadow_trades",
    "trade_analysis",
    "coin_model",
    "champion",
)
POST_EXIT = (
    "trade_id",
    "kind",
    "direction",
    "exit_time",
    "exit_reason",
    "net_bps",
    "price_5m",
    "after_5m_bps",
    "price_30m",
    "after_30m_bps",
    "price_120m",
    "after_120m_bps",
    "mfe_bps",
    "exited_too_early",
    "exited_too_late",
)
SCOPES = {"traded": "trade", "opportunities": "opportunity"}
FOLD_FIGURES = ("trade_count", "net_pnl", "sharpe", "hit_rate", "max_drawdown")
AGGREGATE_FIGURES = (*FOLD_FIGURES, "profit_factor", "expectancy_bps")


def lineage(frame: pl.DataFrame, key: DayKey, timeframe: str, run_id: str) -> pl.DataFrame:
    day, symbol = key
    return frame.with_columns(
        day=pl.lit(day, dtype=pl.Date),
        symbol=pl.lit(to_key(symbol)),
        timeframe=pl.lit(timeframe),
        partition_key=pl.lit(label(key)),
        dagster_run_id=pl.lit(run_id),
    )


def export_partitions(
    sources: Mapping[str, Mapping[DayKey, pl.DataFrame]],
    wanted: Sequence[DayKey],
    timeframe: str,
    *,
    runs: Mapping[tuple[str, DayKey], str],
    metrics: Mapping[str, Mapping[str, Any]],
) -> dict[DayKey, dict[str, pl.DataFrame]]:
    """Each wanted (day, symbol): ``{table: rows}``. ``sources``: the partitions named in ``SOURCES``;
    ``runs``: the run that materialized each source partition; ``metrics``: ``metrics.json`` by model folder."""
    sources = {name: keyed(sources[name]) for name in SOURCES}
    wanted = [(d, to_key(s)) for d, s in wanted]
    for name in SOURCES:
        require(f"{name} (exported)", sources[name], wanted)
    out = {}
    for key in sorted(wanted):

        def tag(frame: pl.DataFrame, source: str, key: DayKey = key) -> pl.DataFrame:
            return lineage(frame, key, timeframe, runs.get((source, key), ""))

        get = {name: sources[name][key] for name in SOURCES}
        ledger = (
            get["shadow_trades"].select(pl.exclude("^f_.*$")).with_columns(recipe_hash=pl.lit(_recipe(get["features"])))
        )
        analysis = get["trade_analysis"]
        tables = {
            "candles": tag(get["candles"], "candles"),
            "features": tag(get["features"], "features"),
            "regimes": tag(get["regimes"], "regimes"),
            "signals": tag(get["signals"], "signals"),
            "opportunities": tag(get["labels"], "labels"),
            "trade_history": tag(ledger, "shadow_trades"),
            "post_exit_tracking": tag(
                analysis.select([c for c in POST_EXIT if c in analysis.columns]), "trade_analysis"
            ),
            "win_loss_analysis": tag(_scoped(analysis, _win_loss), "trade_analysis"),
            "regime_analysis": tag(_scoped(analysis, _by_regime), "trade_analysis"),
            "pattern_library": tag(_scoped(analysis, pattern_library), "trade_analysis"),
            "pattern_performance": tag(_scoped(analysis, _pattern_performance), "trade_analysis"),
            "model_performance": tag(model_performance(get["coin_model"], metrics), "coin_model"),
            "champions": tag(
                get["champion"]
                .drop("day", "symbol")
                .with_columns(pl.col("effective_from").str.to_datetime(time_zone="UTC")),
                "champion",
            ),
        }
        out[key] = tables
    return out


#: the signal's figures (``diagnostics.py``), on the rows of the policies that trade the model's predictions
SIGNAL_FIGURES = ("ic", "ic_std", "icir", "pooled_ic", *(f"q{k}_net_bps" for k in range(1, 6)), "q5_minus_q1_bps")
#: the policies that trade the model's own predictions (``model`` is whichever of the two rules it trades with)
MODEL_POLICIES = ("model", "absolute", "calibrated")


def model_performance(index: pl.DataFrame, metrics: Mapping[str, Mapping[str, Any]]) -> pl.DataFrame:
    """Per model in the ``coin_model`` partition: one row per policy (model, absolute, calibrated, rules, flat,
    no_embedding) and fold (NULL: the aggregate), from its verified ``metrics.json``. The signal's figures are on
    the rows of the policies that trade the model's predictions (the same predictions, so the same figures)."""
    rows = []
    for model in index.iter_rows(named=True):
        doc = metrics[model["folder"]]
        rule = doc.get("decision_rule") or {}
        base = {
            "model_version": model["folder"],
            "cutoff": model["cutoff"],
            "passed": model["passed"],
            "gate_profile": model["gate_profile"],
            "gate_summary": model["gate_summary"],
            "break_even_fee_bps": doc.get("break_even_fee_bps"),
            "mlflow_model": model.get("mlflow_model"),
            "mlflow_version": model.get("mlflow_version"),
            "gates_json": json.dumps(doc.get("gates"), sort_keys=True),
            "decision_policy": doc.get("decision_policy", "absolute"),  # before the rules were named: the margin
        }
        signal = doc.get("signal") or {}
        policies = {
            "model": doc["aggregate"],
            **{n: p["aggregate"] for n, p in (doc.get("policies") or {}).items()},
            **{n: b["aggregate"] for n, b in doc["baselines"].items()},
        }
        if doc.get("ablation"):
            policies["no_embedding"] = doc["ablation"]["without_embedding"]
        aggregate_signal = _signal_figures(signal, signal.get("ic_mean"))
        for policy, aggregate in policies.items():
            rows.append(
                {
                    **base,
                    "policy": policy,
                    "fold": None,
                    **{k: _number(aggregate.get(k)) for k in AGGREGATE_FIGURES},
                    **(aggregate_signal if policy in MODEL_POLICIES else {}),
                    **_thresholds(policy, base["decision_policy"], {**_absolute(rule), rule.get("policy", ""): rule}),
                }
            )
        fold_signals = {f["fold"]: f for f in signal.get("folds", [])}
        for fold in doc["folds"]:
            measured = fold_signals.get(fold["fold"], {})
            fold_signal = _signal_figures(measured.get("quintiles", {}), measured.get("ic"))
            fold_rules = {
                **_absolute(rule),
                "calibrated": {
                    "long_threshold_bps": fold.get("calibrated_long_threshold_bps"),
                    "short_threshold_bps": fold.get("calibrated_short_threshold_bps"),
                },
            }
            for policy in (*MODEL_POLICIES, "rules", "flat"):
                if f"{policy}_trade_count" not in fold:  # absolute/calibrated: not in a model of before the rules
                    continue
                figures = {k: _number(fold.get(f"{policy}_{k}")) for k in FOLD_FIGURES}
                rows.append(
                    {
                        **base,
                        "policy": policy,
                        "fold": fold["fold"],
                        **figures,
                        "profit_factor": None,
                        "expectancy_bps": None,
                        **(fold_signal if policy in MODEL_POLICIES else {}),
                        **_thresholds(policy, base["decision_policy"], fold_rules),
                    }
                )
    schema = {
        "model_version": pl.String,
        "cutoff": pl.Datetime("us", "UTC"),
        "passed": pl.Boolean,
        "gate_profile": pl.String,
        "gate_summary": pl.String,
        "break_even_fee_bps": pl.Float64,
        "mlflow_model": pl.String,
        "mlflow_version": pl.String,
        "gates_json": pl.String,
        "decision_policy": pl.String,
        "policy": pl.String,
        "fold": pl.Int32,
        **{k: pl.Float64 for k in AGGREGATE_FIGURES},
        **{k: pl.Float64 for k in SIGNAL_FIGURES},
        "long_threshold_bps": pl.Float64,
        "short_threshold_bps": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def _signal_figures(figures: Mapping[str, Any], ic: object) -> dict[str, float | None]:
    """``figures``: the aggregate signal document (``SignalDiagnostics.to_dict``) or a fold's quintiles; the IC is
    the fold's own or, on the aggregate, the mean over the folds. Undefined figures are NULL."""
    quintiles = figures.get("quintiles", figures)
    means = list(quintiles.get("mean_net_bps") or [None] * 5)
    return {
        "ic": _number(ic),
        "ic_std": _number(figures.get("ic_std")),
        "icir": _number(figures.get("icir")),
        "pooled_ic": _number(figures.get("pooled_ic")),
        **{f"q{k + 1}_net_bps": _number(v) for k, v in enumerate(means)},
        "q5_minus_q1_bps": _number(quintiles.get("top_minus_bottom_bps")),
    }


def _thresholds(policy: str, decision_policy: str, rules: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """The thresholds the row's rule traded with (``model``: its ``decision_policy``'s); none on the baselines'
    rows, and NULL for a side the calibration disabled."""
    rule = rules.get(decision_policy if policy == "model" else policy)
    if rule is None:
        return {}
    return {
        "long_threshold_bps": _number(rule.get("long_threshold_bps")),
        "short_threshold_bps": _number(rule.get("short_threshold_bps")),
    }


def _absolute(rule: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The absolute rule of a model whose ``decision_rule`` is recorded: both thresholds at its margin."""
    if "margin_bps" not in rule:
        return {}
    return {"absolute": {"long_threshold_bps": rule["margin_bps"], "short_threshold_bps": rule["margin_bps"]}}


def daily_rows(day: date, timeframe: str, summary: Mapping[str, Any], run_id: str) -> pl.DataFrame:
    """``summaries/daily/<tf>/<DATE>.json`` as rows: one per coin and one 'ALL'."""

    def row(symbol: str, part: Mapping[str, Any], models: tuple[int, int, int], promotions: int) -> dict[str, Any]:
        return {
            "symbol": symbol,
            "models_trained": models[0],
            "models_passed": models[1],
            "models_failed": models[2],
            "promotions": promotions,
            "trades": part["trades"],
            "hit_rate_pct": part["hit_rate_pct"],
            "mean_net_bps": part["mean_net_bps"],
            "net_pnl": part["net_pnl"],
            "costs_paid": part["costs_paid"],
            "champion": part.get("champion"),
            "trade_ok": part.get("trade_ok"),
            "reason": part.get("champion_reason"),
        }

    promoted = {p["symbol"] for p in summary["promotions"]}
    rows = [
        row(
            c["symbol"],
            c,
            (int(c["model_trained"]), int(bool(c["model_passed"])), int(c["model_trained"] and not c["model_passed"])),
            int(c["symbol"] in promoted),
        )
        for c in summary["per_coin"]
    ]
    total = row(
        "ALL",
        {**summary, "champion": None, "trade_ok": summary["champions"] > 0, "champion_reason": None},
        (summary["models_trained"], summary["models_passed"], summary["models_failed"]),
        summary["promotion_count"],
    )
    frame = pl.DataFrame(
        [*rows, total],
        schema={
            "symbol": pl.String,
            "models_trained": pl.Int64,
            "models_passed": pl.Int64,
            "models_failed": pl.Int64,
            "promotions": pl.Int64,
            "trades": pl.Int64,
            "hit_rate_pct": pl.Float64,
            "mean_net_bps": pl.Float64,
            "net_pnl": pl.Float64,
            "costs_paid": pl.Float64,
            "champion": pl.String,
            "trade_ok": pl.Boolean,
            "reason": pl.String,
        },
    )
    return _date_lineage(frame, day, timeframe, run_id)


def promotion_rows(day: date, timeframe: str, lines: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """The history lines that took effect on ``day`` (``daily_summary.decisions_of_day``); each row's run is the
    run that took the decision."""
    frame = pl.DataFrame(
        [
            {
                "symbol": line["symbol"],
                "decision_key": line["decision_key"],
                "source": line["source"],
                "decided_at": line.get("decided_at"),
                "effective_from": line["effective_from"],
                "promoted": line["promoted"],
                "champion_before": line["champion_before"],
                "champion_after": line["champion_after"],
                "reason": line["reason"],
                "test": line.get("test"),
                "p_value": line.get("p_value"),
                "window_start": (line.get("window") or [None, None])[0],
                "window_end": (line.get("window") or [None, None])[1],
                "run_id": line.get("run_id"),
            }
            for line in lines
        ],
        schema={
            "symbol": pl.String,
            "decision_key": pl.String,
            "source": pl.String,
            "decided_at": pl.String,
            "effective_from": pl.String,
            "promoted": pl.Boolean,
            "champion_before": pl.String,
            "champion_after": pl.String,
            "reason": pl.String,
            "test": pl.String,
            "p_value": pl.Float64,
            "window_start": pl.String,
            "window_end": pl.String,
            "run_id": pl.String,
        },
    )
    times = ("decided_at", "effective_from", "window_start", "window_end")
    frame = frame.with_columns(pl.col(c).str.to_datetime(time_zone="UTC", time_unit="us") for c in times)
    return _date_lineage(frame, day, timeframe, "").with_columns(dagster_run_id=pl.col("run_id").fill_null(""))


def _date_lineage(frame: pl.DataFrame, day: date, timeframe: str, run_id: str) -> pl.DataFrame:
    return frame.with_columns(
        day=pl.lit(day, dtype=pl.Date),
        timeframe=pl.lit(timeframe),
        partition_key=pl.lit(day.isoformat()),
        dagster_run_id=pl.lit(run_id),
    )


def _scoped(analysis: pl.DataFrame, table) -> pl.DataFrame:
    parts = [
        table(analysis.filter(pl.col("kind") == kind)).with_columns(scope=pl.lit(scope))
        for scope, kind in SCOPES.items()
    ]
    return pl.concat(parts, how="diagonal_relaxed").select("scope", pl.exclude("scope"))


def _win_loss(ledger: pl.DataFrame) -> pl.DataFrame:
    if ledger.is_empty():
        return pl.DataFrame(schema={"section": pl.String, "key": pl.String, "metric": pl.String, "value": pl.Float64})
    tables = win_loss_analysis(ledger)
    regimes = (
        tables["regimes"]
        .with_columns(key=pl.col("regime") + pl.when(pl.col("won")).then(pl.lit("|won")).otherwise(pl.lit("|lost")))
        .drop("regime", "won")
    )
    parts = [
        ("features", tables["features"].rename({"feature": "key"})),
        ("regimes", regimes),
        ("failure_reasons", tables["failure_reasons"].rename({"exit_reason": "key"})),
    ]
    return pl.concat(
        [
            frame.with_columns(pl.exclude("key").cast(pl.Float64))
            .unpivot(index="key", variable_name="metric", value_name="value")
            .with_columns(section=pl.lit(section))
            for section, frame in parts
        ]
    ).select("section", "key", "metric", "value")


def _by_regime(ledger: pl.DataFrame) -> pl.DataFrame:
    return (
        ledger.group_by("regime")
        .agg(
            trades=pl.len(),
            win_rate=(pl.col("net_bps") > 0).mean(),
            mean_net_bps=pl.col("net_bps").mean(),
            total_net_bps=pl.col("net_bps").sum(),
            mean_gross_bps=pl.col("gross_bps").mean(),
            net_pnl=pl.col("net_pnl").sum(),
        )
        .sort("regime")
    )


def _pattern_performance(ledger: pl.DataFrame) -> pl.DataFrame:
    side = pl.when(pl.col("direction") > 0).then(pl.lit("long")).otherwise(pl.lit("short"))
    # the engines that agreed, named ("trend,leader"): the pattern counts them
    names = pl.col("engines_agreeing").cast(pl.String).fill_null("")
    agreeing = pl.when(names == "").then(0).otherwise(names.str.split(",").list.len()).cast(pl.Int32)
    return (
        ledger.with_columns(side=side, engines_agreeing=agreeing)
        .group_by("regime", "side", "engines_agreeing")
        .agg(
            trades=pl.len(),
            wins=(pl.col("net_bps") > 0).sum(),
            mean_net_bps=pl.col("net_bps").mean(),
            total_net_bps=pl.col("net_bps").sum(),
        )
        .with_columns(
            pattern_key=pl.concat_str(
                pl.col("regime").fill_null("UNKNOWN"),
                pl.col("side"),
                pl.col("engines_agreeing").cast(pl.String),
                separator="|",
            ),
        )
        .sort("pattern_key")
    )


def _recipe(features: pl.DataFrame) -> str:
    return ",".join(features["recipe_hash"].unique().sort().to_list()) if "recipe_hash" in features.columns else ""


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
