"""``features`` and ``regimes``: the feature recipe and market regime per bar, with the causality proof as checks.

Both are built for the recipe of the configured timeframe, because how many earlier candle days a partition
needs (the partition mapping) depends on it.
"""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from huracan_core.features.causality import CausalityReport, check_causality
from huracan_core.features.partitions import (
    FeaturePartition,
    compute_feature_partitions,
    history_days,
    prove_causality,
    sample_timestamps,
)
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.regimes import RegimeDetector, regime_shares
from huracan_dagster.assets.metadata import output_with_partition_metadata, preview
from huracan_dagster.partitions import by_day, date_symbol_partitions, day_window, partition_key, split_key

CAUSAL_SAMPLES = 3


def feature_assets(recipe: FeatureRecipe) -> list[dg.AssetsDefinition]:
    # trailing days so recursive indicators converge; every symbol of those days for cross-asset features
    candles_with_history = dg.AssetIn("candles", partition_mapping=day_window(-history_days(recipe), all_symbols=True))

    @dg.asset(
        partitions_def=date_symbol_partitions,
        ins={"candles": candles_with_history},
        io_manager_key="frames_io",
        check_specs=[dg.AssetCheckSpec("features_causal", asset="features", blocking=True,
                                       description="Values at sampled t equal those computed from history truncated at t.")],
        kinds={"polars"},
        group_name="features",
        description=f"{len(recipe.output_columns)} named features (recipe {recipe.version_hash}) of one day and symbol.",
    )
    def features(context: dg.AssetExecutionContext, candles: dict[str, pl.DataFrame]) -> Iterator:
        batch = compute_feature_partitions(recipe, by_day(candles), [split_key(k) for k in context.partition_keys])
        yield output_with_partition_metadata(context, {_key(p): (p.frame, _feature_metadata(p, recipe)) for p in batch.parts})
        proofs = prove_causality(recipe, batch, CAUSAL_SAMPLES)
        yield _causality_check("features_causal", {partition_key(day, symbol): r for (day, symbol), r in proofs.items()})

    detector = RegimeDetector()

    @dg.asset(
        partitions_def=date_symbol_partitions,
        io_manager_key="frames_io",
        check_specs=[dg.AssetCheckSpec("regimes_causal", asset="regimes", blocking=True,
                                       description="Regime at sampled t equals the regime computed from features truncated at t.")],
        kinds={"polars"},
        group_name="features",
        description="TREND / RANGE / PANIC / UNKNOWN per bar with a confidence, from the documented scores.",
    )
    def regimes(context: dg.AssetExecutionContext, features: dict[str, pl.DataFrame]) -> Iterator:
        results = {key: detector.detect(frame) for key, frame in sorted(features.items())}
        yield output_with_partition_metadata(context, {key: (frame, _regime_metadata(frame)) for key, frame in results.items()})
        yield _causality_check("regimes_causal", {
            key: check_causality(detector.detect, features[key], sample_timestamps(features[key], CAUSAL_SAMPLES)) for key in results
        })

    return [features, regimes]


def _key(part: FeaturePartition) -> str:
    return partition_key(part.day, part.symbol)


def _causality_check(name: str, reports: dict[str, CausalityReport]) -> dg.AssetCheckResult:
    bad = {key: report.summary() for key, report in reports.items() if not report.ok}
    return dg.AssetCheckResult(
        check_name=name,
        passed=not bad,
        metadata={
            "partitions_checked": len(reports),
            "checked": sorted(reports),
            "affected": sorted(bad),
            "details": dg.MetadataValue.md("\n".join(f"- {k}: {v}" for k, v in bad.items()) or "all causal"),
        },
    )


def _feature_metadata(part: FeaturePartition, recipe: FeatureRecipe) -> dict:
    frame = part.frame
    return {
        "rows": frame.height,
        "first_timestamp": frame["timestamp"].min().isoformat() if frame.height else "none",
        "last_timestamp": frame["timestamp"].max().isoformat() if frame.height else "none",
        "recipe_hash": recipe.version_hash,
        "features": len(recipe.output_columns),
        "history_bars": part.history_bars,
        "null_reasons": dg.MetadataValue.md("\n".join(f"- `{k}`: {v}" for k, v in sorted(part.null_reasons.items())) or "no nulls"),
        "preview": preview(frame.select("timestamp", "ret_1", "rsi_14", "atr_pct", "trend_strength", "adx", "spread_bps", "corr_btc", "rs_rank")),
    }


def _regime_metadata(frame: pl.DataFrame) -> dict:
    shares = regime_shares(frame)
    return {
        "rows": frame.height,
        **{f"share_{name.lower()}": round(share, 4) for name, share in shares.items()},
        "preview": preview(frame),
    }
