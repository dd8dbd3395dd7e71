"""A run's equity picture: an SVG that says what the curves say, the same bytes for the same curves whatever zone
their times are stored in."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from huracan_core.desk.plots import HEIGHT, WIDTH, equity_svg

SVG = "{http://www.w3.org/2000/svg}"


def _curves(zone: str | None, days: int = 3) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(3)
    curves = {}
    for symbol in ("BTC-USDT", "ETH-USDT"):
        times = pl.Series([datetime(2024, 12, 1, tzinfo=UTC) + timedelta(minutes=15 * i) for i in range(96 * days)])
        times = times.dt.convert_time_zone(zone) if zone else times.dt.replace_time_zone(None)
        equity = 10_000 + np.cumsum(rng.normal(0, 3, len(times)) * (rng.random(len(times)) < 0.1))  # steps at exits
        curves[symbol] = pl.DataFrame({"timestamp": times, "equity": equity}).reverse()  # any order: drawn sorted
    return curves


def _lines(svg: bytes) -> dict[str, list[tuple[float, float]]]:
    root = ET.fromstring(svg)
    return {
        line.findtext(f"{SVG}title"): [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        for line in root.iter(f"{SVG}polyline")
    }


def test_the_picture_is_drawn_in_utc_whatever_the_stored_zone() -> None:
    utc = equity_svg(_curves("UTC"), "run")
    assert utc == equity_svg(_curves("UTC"), "run")
    assert equity_svg(_curves("Asia/Tokyo"), "run") == utc  # the same instants, the same picture
    assert equity_svg(_curves(None), "run") == utc  # naive times are read as UTC
    assert equity_svg(_curves("UTC"), "another run") != utc


def test_each_line_follows_its_curve_inside_the_plot_and_keeps_every_turn() -> None:
    curves = _curves("UTC")
    svg = equity_svg(curves, "15m shadow trades 2024-12-01..2024-12-03 & <friends>")
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]  # well-formed: the title's characters escaped
    assert "15m shadow trades 2024-12-01..2024-12-03 & <friends>" in texts
    assert {"BTC-USDT", "ETH-USDT", "12-02 00:00", "12-02 12:00"} <= set(texts)  # the legend; UTC times of day
    lines = _lines(svg)
    assert set(lines) == set(curves)
    for symbol, points in lines.items():
        equity = curves[symbol].sort("timestamp")["equity"].to_numpy()
        assert 1 + int((np.diff(equity) != 0).sum()) <= len(points) < len(equity)  # every turn; no flat insides
        (x0, y0), (x1, y1) = points[0], points[-1]  # the first and last bars are always drawn
        assert x0 < x1 and (y1 < y0) == (equity[-1] > equity[0])  # time runs right, more equity is drawn higher
        for x, y in points:
            assert 0 <= x <= WIDTH and 0 <= y <= HEIGHT
            bar = round((x - x0) / (x1 - x0) * (len(equity) - 1))  # the bars are evenly spaced in time
            on_curve = y0 + (equity[bar] - equity[0]) / (equity[-1] - equity[0]) * (y1 - y0)
            assert abs(y - on_curve) < 0.2, (symbol, bar)  # the point is the bar's equity, to a tenth of a pixel


def test_an_empty_or_flat_run_still_draws_axes() -> None:
    flat = {"BTC-USDT": pl.DataFrame({"timestamp": [datetime(2024, 12, 1)], "equity": [10_000.0]})}
    for curves in ({}, flat):
        texts = [t.text for t in ET.fromstring(equity_svg(curves, "run")).iter(f"{SVG}text")]
        assert len(_lines(equity_svg(curves, "run"))) == len(curves)
        assert any(t and t.replace(",", "").replace(".", "").isdigit() for t in texts)  # equity labels
    flat_texts = [t.text for t in ET.fromstring(equity_svg(flat, "run")).iter(f"{SVG}text")]
    assert "10,000.0" in flat_texts and "12-01 00:00" in flat_texts  # a flat line at its value, on its day


def test_a_missing_equity_is_left_out_of_its_line_and_a_long_run_keeps_few_dates() -> None:
    curves = _curves("UTC", days=400)
    gappy = curves["BTC-USDT"].sort("timestamp").with_row_index()
    equity = pl.when(pl.col("index") == 5).then(None).when(pl.col("index") == 9).then(float("nan"))
    curves["BTC-USDT"] = gappy.with_columns(equity.otherwise(pl.col("equity")).alias("equity")).drop("index")
    svg = equity_svg(curves, "run")
    lines = _lines(svg)
    assert set(lines) == {"BTC-USDT", "ETH-USDT"}  # the gappy curve is still drawn, from its other bars
    assert all(math.isfinite(v) for points in lines.values() for p in points for v in p)
    dates = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text") if t.text and t.text[:2] == "20"]
    assert 3 <= len(dates) <= 8  # a year and more of bars: dates a few months apart, not a crowd of them
