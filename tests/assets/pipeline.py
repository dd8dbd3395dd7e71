"""Materializing one timeframe's chain into a real (ephemeral) instance, as the asset tests do it.

Keys carry the timeframe (``15m/candles``); resources are built the way the code location builds them, with the
cross-asset universe declared explicitly so that a test knows which candles the features read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from huracan_core.symbols import to_ccxt
from huracan_dagster.defs.broadcaster import BroadcasterResource
from huracan_dagster.defs.definitions import timeframe_assets
from huracan_dagster.defs.io_manager import PartitionedFrameIOManager
from huracan_dagster.defs.partitions import SYMBOL_DIMENSION, asset_key
from huracan_dagster.defs.resources import (
    ArchiveResource,
    CandleSourceResource,
    CostsResource,
    ExportsResource,
    MLflowResource,
    ModelSettingsResource,
    PromotionResource,
    UniverseResource,
)

TF = "15m"
CANDLES, FEATURES, REGIMES, SIGNALS, LABELS, CHAMPION, SHADOW_TRADES, TRADE_ANALYSIS = (
    asset_key(TF, name)
    for name in ("candles", "features", "regimes", "signals", "labels", "champion", "shadow_trades", "trade_analysis")
)
#: BTC is the feature recipe's reference; declared with ETH as the whole universe, these two read nothing else
SYMBOLS = ["BTC-USDT", "ETH-USDT"]


def resources(archive: Path, source: str = "bundled", universe: Sequence[str] | None = SYMBOLS, top_n: int = 5) -> dict:
    """``universe``: the explicit members (``None``: the top ``top_n`` by prior quote volume)."""
    store = ArchiveResource(root=str(archive))
    candle_source = CandleSourceResource(spec=source)
    members = [to_ccxt(s) for s in universe] if universe is not None else []
    return {
        "source": candle_source,
        "archive": store,
        "universe": UniverseResource(source=candle_source, symbols=members, top_n=top_n),
        "frames_io": PartitionedFrameIOManager(archive=store),
        "costs": CostsResource(),
        "models": ModelSettingsResource(),
        "mlflow": MLflowResource.for_home(Path(archive).parent),
        "promotion": PromotionResource(),
        "broadcaster": BroadcasterResource(),  # off: no token
        "analytics": ExportsResource.for_home(Path(archive).parent),
    }


def register(instance: dg.DagsterInstance, symbols: Sequence[str]) -> None:
    known = instance.get_dynamic_partitions(SYMBOL_DIMENSION)
    instance.add_dynamic_partitions(SYMBOL_DIMENSION, [s for s in symbols if s not in known])


def materialize(
    instance: dg.DagsterInstance,
    archive: Path,
    start: str,
    end: str,
    symbols: Sequence[str] = SYMBOLS,
    *,
    assets: Sequence[dg.AssetsDefinition] | None = None,
    selection: Sequence[dg.AssetKey] | None = None,
    run_config: dg.RunConfig | None = None,
    extra_resources: dict | None = None,
    **resource_args,
) -> dg.ExecuteInProcessResult:
    """One ranged run: every date of ``start..end`` × the block of ``symbols`` (neighbours in registration order)."""
    register(instance, symbols)
    return dg.materialize(
        list(assets if assets is not None else timeframe_assets(TF)),
        instance=instance,
        selection=selection,
        resources={**resources(archive, **resource_args), **(extra_resources or {})},
        run_config=run_config,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": f"{start}|{symbols[0]}",
            "dagster/asset_partition_range_end": f"{end}|{symbols[-1]}",
        },
    )


def latest_metadata(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str) -> dict:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
    ).records
    assert records, f"{key.to_user_string()} {partition}: never materialized"
    return records[0].asset_materialization.metadata


def evaluations(result: dg.ExecuteInProcessResult, check: str) -> list[dg.AssetCheckEvaluation]:
    return [e for e in result.get_asset_check_evaluations() if e.check_name == check]


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures, "the run was expected to fail a step"
    return "\n".join(
        (f.step_failure_data.user_failure_data.description if f.step_failure_data.user_failure_data else "")
        + (f.step_failure_data.error.to_string() if f.step_failure_data.error else "")
        for f in failures
    )
