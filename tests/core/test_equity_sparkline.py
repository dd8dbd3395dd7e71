"""The day's equity sparkline: a step path that keeps the curve's extremes on its edges, bounded in size."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import numpy as np
import polars as pl

from huracan_core.desk.sparkline import BOTTOM, POINTS, TOP, WIDTH, equity_sparkline

SVG = "{http://www.w3.org/2000/svg}"


def _curve(values: list[float]) -> pl.DataFrame:
    t0 = datetime(2024, 12, 31, tzinfo=UTC)
    return pl.DataFrame({"timestamp": [t0 + timedelta(minutes=15 * i) for i in range(len(values))], "equity": values})


def _drawn(svg: str) -> tuple[list[int], list[str], str]:
    """The curve's y positions (after each H…V step), the labels, and its colour."""
    root = ElementTree.fromstring(svg)
    baseline, curve = root.findall(f"{SVG}path")
    assert baseline.get("stroke-dasharray")
    ys = [int(y) for y in re.findall(r"(?:M0 |V)(\d+)", curve.get("d") or "")]
    return ys, [t.text or "" for t in root.findall(f"{SVG}text")], curve.get("stroke") or ""


def test_a_losing_day_steps_at_its_exits_between_its_high_and_low() -> None:
    # three exits: +5, -12, +2 on 10,000, the rest of the bars flat
    values = [10_000.0] * 10 + [10_005.0] * 30 + [9_993.0] * 30 + [9_995.0] * 26
    ys, labels, colour = _drawn(equity_sparkline(_curve(values), 10_000.0))
    assert len(ys) == 1 + 3  # the start, then one step per exit, whatever the bars' count
    assert min(ys) == TOP and max(ys) == BOTTOM  # the high (10,005) on top, the low (9,993) at the bottom
    assert ys.index(TOP) == 1 and ys.index(BOTTOM) == 2
    assert labels == ["high 10,005.00", "low 9,993.00"]
    assert colour == "#c62828"  # ended below the capital


def test_size_is_bounded_whatever_the_bars_and_trades() -> None:
    rng = np.random.default_rng(7)
    sizes = []
    for bars in (96, 288, 1440):  # 15m, 5m and 1m days, an exit on every bar
        values = (1_000_000 + np.cumsum(rng.normal(0, 5_000, bars))).tolist()
        svg = equity_sparkline(_curve(values), 1_000_000.0)
        ys, _, colour = _drawn(svg)
        assert len(ys) <= 1 + POINTS and colour in ("#1a7f37", "#c62828")
        assert f'H{WIDTH}"' in svg  # drawn to the end of the day
        sizes.append(len(svg))
    assert max(sizes) < 700  # as base64 in a markdown image, under the 1,000 characters the Dagster UI expands
