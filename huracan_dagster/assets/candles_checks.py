"""Checks of the candles asset: one blocking rule set, three warnings about real anomalies.

They are evaluated inside the asset (``check_specs``) because one ranged run covers many partitions: each
result lists the partitions it ``checked`` and those ``affected``, so the verdict per partition can be
rebuilt from the history (``huracan status``), and the blocking one fails *before* anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from huracan_core.candles import CandlePartition
from huracan_core.validation import CandleValidationError
from huracan_dagster.assets.metadata import timestamps
from huracan_dagster.partitions import partition_key

VALID = "candles_valid"
GAPS = "no_gaps"
ZERO_VOLUME = "no_zero_volume_candles"
EXTREME = "no_extreme_prints"

CANDLE_CHECKS = [
    dg.AssetCheckSpec(VALID, asset="candles", blocking=True, description="Schema, dtypes, unique aligned increasing timestamps, finite positive prices, low ≤ open,close ≤ high, volume ≥ 0."),
    dg.AssetCheckSpec(GAPS, asset="candles", description="Missing candles inside the day (exchange outages); listed, never filled."),
    dg.AssetCheckSpec(ZERO_VOLUME, asset="candles", description="Flat zero-volume candles (trading halts); listed, never dropped."),
    dg.AssetCheckSpec(EXTREME, asset="candles", description="Bars whose range exceeds 10× the trailing ATR (flash-crash prints)."),
]


def failed_validation(error: CandleValidationError) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=VALID,
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "partitions_affected": len({p.partition for p in error.problems}),
            "checked": sorted({p.partition for p in error.problems}),
            "affected": sorted({p.partition for p in error.problems}),
            "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in error.problems)),
        },
    )


def check_results(parts: list[CandlePartition]) -> Iterator[dg.AssetCheckResult]:
    checked = sorted(partition_key(p.day, p.symbol) for p in parts)
    yield dg.AssetCheckResult(
        check_name=VALID, passed=True, metadata={"partitions_checked": len(checked), "checked": checked, "affected": []}
    )
    yield _warning(GAPS, parts, lambda p: p.anomalies.missing, "missing candles")
    yield _warning(ZERO_VOLUME, parts, lambda p: p.anomalies.zero_volume, "zero-volume candles")
    yield _warning(EXTREME, parts, lambda p: [e.timestamp for e in p.anomalies.extreme], "extreme prints")


def _warning(name: str, parts: list[CandlePartition], found, label: str) -> dg.AssetCheckResult:
    hits = {partition_key(p.day, p.symbol): found(p) for p in parts if found(p)}
    lines = [f"- {key}: {timestamps(values)}" for key, values in sorted(hits.items())]
    return dg.AssetCheckResult(
        check_name=name,
        passed=not hits,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "partitions_checked": len(parts),
            "partitions_affected": len(hits),
            "checked": sorted(partition_key(p.day, p.symbol) for p in parts),
            "affected": sorted(hits),
            label.replace(" ", "_"): sum(len(v) for v in hits.values()),
            "details": dg.MetadataValue.md("\n".join(lines) or "none"),
        },
    )
