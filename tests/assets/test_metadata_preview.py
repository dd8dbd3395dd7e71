"""The markdown previews on materializations: the same table as polars' own rounding draws."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from huracan_dagster.defs.metadata import preview


def _drawn_by_polars(frame: pl.DataFrame, rows: int) -> str:
    head = frame.head(rows).with_columns(pl.col(pl.Float64).round(6))
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * head.width]
    for row in head.iter_rows():
        cells = (v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else str(v) for v in row)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_a_preview_rounds_its_floats_as_polars_does_on_any_value():
    """Ties at the seventh decimal, a zero of either sign, values too large to scale, NaN, infinities and nulls:
    rounding each cell in Python draws the table polars' ``round(6)`` draws."""
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [
            rng.normal(size=2000) * rng.choice([1e-7, 1e-3, 1.0, 1e4, 1e9], size=2000),
            np.round(rng.normal(size=2000), 7),  # many exact ties at the seventh decimal
            [-3e-8, 3e-8, -0.0, 0.0, 5e-7, -5e-7, 2.5e-6, 1e303, -1e303, np.nan, np.inf, -np.inf],
        ]
    )
    frame = pl.DataFrame(
        {
            "figure": values,
            "name": [f"row {i}" for i in range(values.size)],
            "at": [datetime(2024, 12, 1, tzinfo=UTC)] * values.size,
            "narrow": pl.Series(values, dtype=pl.Float32),  # only Float64 is rounded, as before
        }
    ).with_columns(pl.when(pl.int_range(pl.len()) % 97 == 0).then(None).otherwise(pl.col("figure")).alias("figure"))
    for start in range(0, frame.height, 500):
        part = frame.slice(start, 500)
        assert preview(part, rows=500).value == _drawn_by_polars(part, rows=500)
