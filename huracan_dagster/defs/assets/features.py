"""``features`` and ``regimes``: the feature recipe and market regime per bar, with the causality proof as checks.

Both are built for the recipe of the configured timeframe, because how many earlier candle days a partition
needs (the partition mapping) depends on it.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import cast

import dagster as dg
import polars as pl

from huracan_core.day_keys import DayKey
from huracan_core.features.causality import CausalityReport
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import (
    FeaturePartition,
    compute_feature_partitions,
    history_days,
    prove_causality,
    universe_hash,
)
from huracan_core.regimes import RegimeDetector, regime_shares
from huracan_core.regimes.proof import prove_regime_causality
from huracan_dagster.defs.metadata import output_with_partition_metadata, preview
from huracan_dagster.defs.partitions import (
    CHAIN_BACKFILL,
    DEFAULT_SPACE,
    PARTIAL_HISTORY,
    PartitionSpace,
    asset_key,
    by_day,
    day_window,
    partition_key,
    split_key,
)
from huracan_dagster.defs.resources import UniverseResource
from huracan_dagster.defs.verdicts import Verdict, evaluations, partitioned_check
from huracan_dagster.defs.versions import features_code_version, regimes_code_version

#: bar times proven per symbol and run: a peeking feature peeks on every bar, so a few catch it, at bounded cost
CAUSAL_SAMPLES = 3


def feature_assets(recipe: FeatureRecipe, space: PartitionSpace = DEFAULT_SPACE) -> list[dg.AssetsDefinition]:
    timeframe = recipe.timeframe
    features_key, regimes_key = asset_key(timeframe, "features"), asset_key(timeframe, "regimes")
    # trailing days so recursive indicators converge; every symbol of those days, of which the declared
    # universe and reference are read (and required), nothing else
    candles_with_history = dg.AssetIn(
        asset_key(timeframe, "candles"), partition_mapping=day_window(-history_days(recipe), all_symbols=True)
    )

    @dg.asset(
        key=features_key,
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
        ins={"candles": candles_with_history},
        io_manager_key="frames_io",
        check_specs=[
            partitioned_check(
                "features_causal",
                features_key,
                blocking=True,
                description="Values at sampled t equal those computed from history truncated at t.",
                space=space,
            )
        ],
        kinds={"polars"},
        group_name=f"features_{timeframe}",
        code_version=features_code_version(recipe),
        # a day with too little history holds nulls, with the reason in its metadata
        metadata={"timeframe": timeframe, "recipe_hash": recipe.version_hash, PARTIAL_HISTORY: True},
        description=(
            f"{len(recipe.output_columns)} named features (recipe {recipe.version_hash}) of one day and symbol, "
            f"from {history_days(recipe)} days of history, the reference {recipe.reference_symbol} and the universe "
            "declared for the day (explicit list or top N by prior quote volume)."
        ),
    )
    def features(
        context: dg.AssetExecutionContext, universe: UniverseResource, candles: dict[str, pl.DataFrame]
    ) -> Iterator:
        wanted = [split_key(k) for k in context.partition_keys]
        members = universe.members_by_day(timeframe, [day for day, _ in wanted])
        batch = compute_feature_partitions(recipe, by_day(candles), wanted, members)
        yield output_with_partition_metadata(
            context, {_key(p): (p.frame, _feature_metadata(p, recipe)) for p in batch.parts}
        )
        proofs = prove_causality(recipe, batch, CAUSAL_SAMPLES)
        yield from causality_verdicts(context, features_key, "features_causal", proofs)

    detector = RegimeDetector()

    @dg.asset(
        key=regimes_key,
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
        ins={"features": dg.AssetIn(features_key)},
        io_manager_key="frames_io",
        check_specs=[
            partitioned_check(
                "regimes_causal",
                regimes_key,
                blocking=True,
                description="Regime at sampled t equals the regime computed from features truncated at t.",
                space=space,
            )
        ],
        kinds={"polars"},
        group_name=f"features_{timeframe}",
        code_version=regimes_code_version(detector),
        metadata={"timeframe": timeframe},
        description="TREND / RANGE / PANIC / UNKNOWN per bar with a confidence, from the documented scores.",
    )
    def regimes(context: dg.AssetExecutionContext, features: dict[str, pl.DataFrame]) -> Iterator:
        results = detector.detect_many(dict(sorted(features.items())))
        yield output_with_partition_metadata(
            context, {key: (frame, _regime_metadata(frame)) for key, frame in results.items()}
        )
        proofs = prove_regime_causality(detector, by_day(features), CAUSAL_SAMPLES)
        yield from causality_verdicts(context, regimes_key, "regimes_causal", proofs)

    return [features, regimes]


def _key(part: FeaturePartition) -> str:
    return partition_key(part.day, part.symbol)


def causality_verdicts(
    context: dg.AssetExecutionContext, asset: dg.AssetKey, name: str, reports: dict[DayKey, CausalityReport]
) -> Iterator:
    verdicts = {partition_key(day, symbol): Verdict(r.ok, r.summary()) for (day, symbol), r in reports.items()}
    yield from evaluations(context, asset, name, verdicts, severity=dg.AssetCheckSeverity.ERROR, blocking=True)


def _feature_metadata(part: FeaturePartition, recipe: FeatureRecipe) -> dict:
    frame = part.frame
    return {
        "rows": frame.height,
        "first_timestamp": cast(datetime, frame["timestamp"].min()).isoformat() if frame.height else "none",
        "last_timestamp": cast(datetime, frame["timestamp"].max()).isoformat() if frame.height else "none",
        "recipe_hash": recipe.version_hash,
        "universe": ", ".join(part.universe) or "empty",
        "universe_hash": universe_hash(part.universe),
        "features": len(recipe.output_columns),
        "history_bars": part.history_bars,
        "null_reasons": dg.MetadataValue.md(
            "\n".join(f"- `{k}`: {v}" for k, v in sorted(part.null_reasons.items())) or "no nulls"
        ),
        "preview": preview(
            frame.select(
                "timestamp", "ret_1", "rsi_14", "atr_pct", "trend_strength", "adx", "spread_bps", "corr_btc", "rs_rank"
            )
        ),
    }


def _regime_metadata(frame: pl.DataFrame) -> dict:
    shares = regime_shares(frame)
    return {
        "rows": frame.height,
        **{f"share_{name.lower()}": round(share, 4) for name, share in shares.items()},
        "preview": preview(frame),
    }
