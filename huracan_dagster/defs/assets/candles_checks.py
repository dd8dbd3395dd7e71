"""Checks of the candles asset: one blocking rule set, three warnings about real anomalies.

They are evaluated inside the asset (``check_specs``) because one ranged run covers many partitions, and each
verdict is recorded on the partition it judged (``verdicts``): the blocking one fails *before* anything is
written, and a later run over other partitions never hides an earlier flag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime

import dagster as dg

from huracan_core.candles import CandlePartition
from huracan_core.validation import CandleValidationError
from huracan_dagster.dagster_internals import AssetCheckEvaluationTargetMaterializationData
from huracan_dagster.defs.metadata import timestamps
from huracan_dagster.defs.partitions import DEFAULT_SPACE, PartitionSpace, partition_key
from huracan_dagster.defs.verdicts import Verdict, check_targets, evaluations, partitioned_check

VALID = "candles_valid"
GAPS = "no_gaps"
ZERO_VOLUME = "no_zero_volume_candles"
EXTREME = "no_extreme_prints"


def candle_checks(asset: dg.AssetKey, space: PartitionSpace = DEFAULT_SPACE) -> list[dg.AssetCheckSpec]:
    return [
        partitioned_check(
            VALID,
            asset,
            "Schema, dtypes, unique aligned increasing timestamps, finite positive prices, low ≤ open,close ≤ high, volume ≥ 0.",
            blocking=True,
            space=space,
        ),
        partitioned_check(
            GAPS, asset, "Missing candles inside the day (exchange outages); listed, never filled.", space=space
        ),
        partitioned_check(
            ZERO_VOLUME, asset, "Flat zero-volume candles (trading halts); listed, never dropped.", space=space
        ),
        partitioned_check(
            EXTREME, asset, "Bars whose range exceeds 10× the trailing ATR (flash-crash prints).", space=space
        ),
    ]


def failed_validation(context: dg.AssetExecutionContext, asset: dg.AssetKey, error: CandleValidationError) -> Iterator:
    """The failed blocking verdict on each bad partition, listing its problems."""
    problems: dict[str, list[str]] = {}
    for problem in error.problems:
        problems.setdefault(problem.partition, []).append(str(problem))
    verdicts = {
        key: Verdict(False, "; ".join(lines), {"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in lines))})
        for key, lines in problems.items()
    }
    yield from evaluations(context, asset, VALID, verdicts, severity=dg.AssetCheckSeverity.ERROR, blocking=True)


def check_results(context: dg.AssetExecutionContext, asset: dg.AssetKey, parts: Sequence[CandlePartition]) -> Iterator:
    keys = {partition_key(p.day, p.symbol): p for p in parts}
    targets = check_targets(context, asset, keys)  # the four checks judge the same partitions
    yield from evaluations(
        context,
        asset,
        VALID,
        {k: Verdict(True, "all blocking rules hold") for k in keys},
        severity=dg.AssetCheckSeverity.ERROR,
        blocking=True,
        targets=targets,
    )
    for name, found, label in (
        (GAPS, lambda p: p.anomalies.missing, "missing candles"),
        (ZERO_VOLUME, lambda p: p.anomalies.zero_volume, "zero-volume candles"),
        (EXTREME, lambda p: [e.timestamp for e in p.anomalies.extreme], "extreme prints"),
    ):
        yield from _warning(context, asset, name, keys, found, label, targets)


def _warning(
    context: dg.AssetExecutionContext,
    asset: dg.AssetKey,
    name: str,
    parts: dict[str, CandlePartition],
    found: Callable[[CandlePartition], list[datetime]],
    label: str,
    targets: Mapping[str, AssetCheckEvaluationTargetMaterializationData],
) -> Iterator:
    verdicts = {}
    for key, part in parts.items():
        bars = found(part)
        summary = f"{len(bars)} {label}: {timestamps(bars)}" if bars else f"no {label}"
        verdicts[key] = Verdict(not bars, summary, {label.replace(" ", "_"): len(bars)})
    yield from evaluations(context, asset, name, verdicts, severity=dg.AssetCheckSeverity.WARN, targets=targets)
