"""Check verdicts that belong to the partitions they judged (docs/architecture.md#verdicts).

A ranged run judges many partitions at once; one ``AssetCheckResult`` per run would let a later, narrower run
hide an earlier failure. So every check is partitioned like its asset, and a run records one evaluation per
partition it judged, with that partition's own figures: the UI shows the verdict on the partition, and
``huracan status`` reads the latest verdict per partition.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from huracan_dagster.dagster_internals import (
    AssetCheckEvaluationTargetMaterializationData,
    in_one_batch,
    materializations_of_run,
)
from huracan_dagster.defs.partitions import DEFAULT_SPACE, PartitionSpace


@dataclass(frozen=True)
class Verdict:
    passed: bool
    #: a short line for people: what was found, or "ok"
    summary: str = "ok"
    #: raw metadata values (numbers, text, ``dg.MetadataValue``), as Dagster takes them
    metadata: Mapping[str, Any] = field(default_factory=dict)


def partitioned_check(
    name: str,
    asset: dg.AssetKey,
    description: str,
    *,
    blocking: bool = False,
    space: PartitionSpace = DEFAULT_SPACE,
    by_date: bool = False,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetCheckSpec:
    """A check partitioned like its asset: date × symbol, by date alone (``by_date``), or ``partitions_def`` (the
    research search's weeks)."""
    partitions = partitions_def or (space.dates if by_date else space.dates_and_symbols)
    with warnings.catch_warnings():  # partitioned checks are a preview in 1.13; they are what §3.12 asks for
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name, asset=asset, description=description, blocking=blocking, partitions_def=partitions
        )


def evaluations(
    context: dg.AssetExecutionContext,
    asset: dg.AssetKey,
    check: str,
    verdicts: Mapping[str, Verdict],
    *,
    severity: dg.AssetCheckSeverity,
    blocking: bool = False,
    targets: Mapping[str, AssetCheckEvaluationTargetMaterializationData] | None = None,
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """One evaluation per judged partition, in key order and stored as one batch (``in_one_batch``), then the check's
    (empty) output that the step owes.

    Each evaluation points at the partition's materialization of this run (when there is one), as Dagster's own
    ``AssetCheckResult`` does for a single partition: the UI counts a verdict only against its materialization.
    ``targets``: those materializations (``check_targets``), when several checks of the step judge the same
    partitions — one query for all of them.
    """
    if targets is None:
        targets = check_targets(context, asset, list(verdicts))
    judged = [
        dg.AssetCheckEvaluation(
            asset_key=asset,
            check_name=check,
            passed=verdict.passed,
            severity=severity,
            blocking=blocking,
            partition=key,
            target_materialization_data=targets.get(key),
            description=verdict.summary,
            metadata={"found": verdict.summary, **_as_text(verdict.metadata)},
        )
        for key, verdict in sorted(verdicts.items())
    ]
    yield from in_one_batch(judged)
    yield dg.Output(
        None, output_name=context.assets_def.get_output_name_for_asset_check_key(dg.AssetCheckKey(asset, check))
    )


def _as_text(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Figures written as text. The UI plots a check's numeric metadata against the time of each evaluation, and a
    ranged run judges all its partitions in the same second: the plot stacks different partitions' figures on one
    instant under identical time labels. Each partition's figure still reads in its own row of the history."""
    return {key: _text(value) for key, value in metadata.items()}


def _text(value: Any) -> Any:
    if isinstance(value, dg.IntMetadataValue | dg.FloatMetadataValue):
        value = value.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, int):
        return dg.MetadataValue.text(str(value))
    return dg.MetadataValue.text("n/a" if value != value else f"{value:.6g}")  # NaN: could not be measured


def check_targets(
    context: dg.AssetExecutionContext, asset: dg.AssetKey, partitions: Iterable[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """The newest materialization of each partition written by this run, read from the event table's indexed
    columns (ids, partitions, times), not from the events themselves."""
    wanted, run_id = set(partitions), context.run.run_id
    out: dict[str, AssetCheckEvaluationTargetMaterializationData] = {}
    for partition, storage_id, timestamp in materializations_of_run(context.instance, asset, run_id):  # newest first
        if partition in wanted and partition not in out:
            out[partition] = AssetCheckEvaluationTargetMaterializationData(
                storage_id=storage_id, run_id=run_id, timestamp=timestamp
            )
    return out
