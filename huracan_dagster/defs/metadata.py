"""Materialization metadata for people: small previews and lists that read well in the UI."""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from datetime import datetime

import dagster as dg
import polars as pl

from huracan_dagster.dagster_internals import add_partition_metadata

#: the longest markdown entry the Dagster UI (1.13) draws in place in its metadata tables
INLINE_MARKDOWN = 1000


def preview(frame: pl.DataFrame, rows: int = 5) -> dg.MarkdownMetadataValue:
    """A markdown table of the first rows; floats rounded so the table fits on screen. Rounded cell by cell: a
    ranged step draws thousands of these small tables, and a polars expression costs ten times the table."""
    head = frame.head(rows)
    floats = {i for i, dtype in enumerate(head.dtypes) if dtype == pl.Float64}
    header = "| " + " | ".join(head.columns) + " |"
    rule = "|" + "---|" * len(head.columns)
    body = [
        "| " + " | ".join(_cell(_rounded(v) if i in floats else v) for i, v in enumerate(row)) + " |"
        for row in head.iter_rows()
    ]
    return dg.MetadataValue.md("\n".join([header, rule, *body]))


def inline_svg(svg: str, caption: str) -> dg.MarkdownMetadataValue:
    """An SVG picture the UI draws in place: it renders a markdown entry inline only under ``INLINE_MARKDOWN``
    characters (above, it hides it behind "[Show Markdown]"), and a path or a ``file://`` link cannot open from the
    UI's page (the browser refuses local files), so a picture has to travel in the entry, small enough (the callers'
    tests hold their pictures under the limit)."""
    return dg.MetadataValue.md(f"![{caption}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})")


def output_with_partition_metadata(
    context: dg.AssetExecutionContext, results: dict[str, tuple[pl.DataFrame, dict]]
) -> dg.Output:
    """The ``{partition: frame}`` output, each partition's materialization carrying its own metadata.

    A one-partition output carries it directly (this also works when an asset is invoked in a test); a ranged
    run attaches it per partition.
    """
    if len(results) == 1:
        [(key, (frame, metadata))] = results.items()
        return dg.Output({key: frame}, metadata=metadata)
    attach_partition_metadata(context, {key: metadata for key, (_, metadata) in results.items()})
    return dg.Output({key: frame for key, (frame, _) in results.items()})


def result_with_partition_metadata(
    context: dg.AssetExecutionContext, metadata: dict[str, dict]
) -> dg.MaterializeResult:
    """``output_with_partition_metadata`` for an asset that writes its own objects: each partition's metadata on its
    own materialization (a one-partition run carries it directly)."""
    if len(metadata) == 1:
        return dg.MaterializeResult(metadata=next(iter(metadata.values())))
    attach_partition_metadata(context, metadata)
    return dg.MaterializeResult()


def attach_partition_metadata(context: dg.AssetExecutionContext, by_partition: dict[str, dict]) -> None:
    """Per-partition metadata of a ranged run, its keys checked against the run's once (``add_partition_metadata``
    says why Dagster's own method is not used)."""
    in_run = set(context.partition_keys)
    unknown = sorted(set(by_partition) - in_run)
    if unknown:
        raise ValueError(
            f"{context.asset_key.to_user_string()}: metadata for partitions outside the run: {unknown[:5]}"
        )
    add_partition_metadata(context, by_partition)


def timestamps(values: Sequence[datetime], limit: int = 50) -> str:
    shown = [v.strftime("%Y-%m-%dT%H:%MZ") for v in values[:limit]]
    return ", ".join(shown) + (f" … (+{len(values) - limit} more)" if len(values) > limit else "")


def _rounded(value: float | None) -> float | None:
    """Six decimals exactly as polars' ``round(6)`` gives them (the product rounded half to even, then divided,
    its sign kept on a zero, a value too large to scale left as it is): the same table as polars draws."""
    if value is None:
        return None
    scaled = value * 1e6
    return math.copysign(round(scaled) / 1e6, value) if math.isfinite(scaled) else value


def _cell(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)
