"""Equity curves after costs: one SVG per run, stored once and linked from every partition of the run (each
partition's own curve travels in its metadata as a sparkline, ``desk.sparkline``).

The picture is written as text rather than drawn with matplotlib: a PNG cost 0.13 s a run to draw and matplotlib
0.4 s a process to import, 8 % of a month's chain through Dagster (profiled), and a browser shows an SVG as it
shows a PNG, sharp at any size. A day's equity moves only when a trade exits, so each line keeps only the points
where it turns: the file stays small over months of bars.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import numpy as np
import polars as pl

from huracan_core.desk.shadow_day import TradingDay

WIDTH, HEIGHT = 800, 400
#: the plot area's margins: left (the equity's labels), right, top (the title), bottom (the dates)
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 28, 52
#: matplotlib's default colours, one per symbol in name order
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
#: the spacings a time axis may take, in seconds: the shortest that leaves at most ``MOST_TICKS`` ticks
TIME_STEPS = tuple(m * 60 for m in (15, 30, 60, 120, 180, 360, 720)) + tuple(
    d * 86_400 for d in (1, 2, 7, 14, 28, 56, 112, 224, 448)
)
MOST_TICKS = 8

Scale = Callable[[float | np.ndarray], np.ndarray]


def run_equity_svg(days: Sequence[TradingDay], timeframe: str) -> tuple[str, bytes] | None:
    """The picture of a run's traded days, one line per symbol that traded, and a name for it that says what it
    covers; None when nothing traded (a flat line at the capital would read as a result)."""
    curves: dict[str, list[pl.DataFrame]] = {}
    for traded in days:
        curves.setdefault(traded.symbol, []).append(traded.equity)
    symbols = sorted({d.symbol for d in days if d.ledger.height})
    if not symbols:
        return None
    first, last = min(d.day for d in days), max(d.day for d in days)
    name = f"{first}_{last}_{symbols[0]}_{symbols[-1]}_{len(symbols)}"
    title = f"{timeframe} shadow trades {first}..{last}: equity per day, net of costs"
    return name, equity_svg({s: pl.concat(curves[s]) for s in symbols}, title)


def equity_svg(curves: Mapping[str, pl.DataFrame], title: str) -> bytes:
    """One line per symbol (``timestamp``, ``equity`` rows of its days, in any order; naive times are UTC).

    Days are traded flat-to-flat, so each day's curve starts from the same capital; the line shows the days
    side by side, which is what a person scanning a run wants to see.
    """
    drawn = {s: _utc_points(curve) for s, curve in sorted(curves.items())}
    lines = {s: (t, v) for s, (t, v) in drawn.items() if len(t)}
    times = np.concatenate([t for t, _ in lines.values()]) if lines else np.array([0, 3_600])
    values = np.concatenate([v for _, v in lines.values()]) if lines else np.array([0.0, 1.0])
    t0, t1 = _span(float(times.min()), float(times.max()), 1_800.0)
    v0, v1 = _span(float(values.min()), float(values.max()), max(1.0, abs(float(values.max())) * 1e-4))
    x = _scale(t0, t1, LEFT, WIDTH - RIGHT)
    y = _scale(v0, v1, HEIGHT - BOTTOM, TOP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" '
        f'font-size="10"><rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2:g}" y="17" text-anchor="middle" font-size="12">{escape(title)}</text>',
        f'<text transform="translate(14 {(TOP + HEIGHT - BOTTOM) / 2:g}) rotate(-90)" text-anchor="middle">'
        "equity, net of costs (quote currency)</text>",
        *_value_ticks(v0, v1, y),
        *_time_ticks(t0, t1, x),
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" fill="none" '
        'stroke="#333"/>',
    ]
    colours = {symbol: COLOURS[n % len(COLOURS)] for n, symbol in enumerate(lines)}
    parts += [
        f'<polyline fill="none" stroke="{colours[symbol]}" stroke-width="1" points="{_points(x(t), y(v))}">'
        f"<title>{escape(symbol)}</title></polyline>"
        for symbol, (t, v) in lines.items()
    ]
    parts += _legend(colours)
    parts.append("</svg>\n")
    return "".join(parts).encode()


def _legend(colours: Mapping[str, str]) -> list[str]:
    """Each symbol's colour, top left, on a ground the lines pass under."""
    if not colours:
        return []
    wide = 36 + 6 * max(len(symbol) for symbol in colours)
    out = [
        f'<rect x="{LEFT + 4}" y="{TOP + 4}" width="{wide}" height="{14 * len(colours) + 6}" fill="white" '
        'fill-opacity="0.8" stroke="#ccc"/>'
    ]
    for n, (symbol, colour) in enumerate(colours.items()):
        row = TOP + 18 + 14 * n
        out.append(
            f'<line x1="{LEFT + 10}" y1="{row - 3}" x2="{LEFT + 28}" y2="{row - 3}" stroke="{colour}" stroke-width="2"/>'
            f'<text x="{LEFT + 32}" y="{row}">{escape(symbol)}</text>'
        )
    return out


def _utc_points(curve: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The curve's seconds since the epoch (UTC; naive times read as UTC) and equity, in time order; a bar whose
    equity is missing or not finite is left out of the line, not drawn at zero."""
    curve = curve.filter(pl.col("equity").cast(pl.Float64).is_finite()).sort("timestamp")
    times = curve["timestamp"]
    if isinstance(times.dtype, pl.Datetime) and times.dtype.time_zone is not None:
        times = times.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return times.dt.epoch("us").to_numpy() / 1e6, curve["equity"].cast(pl.Float64).to_numpy()


def _span(low: float, high: float, least: float) -> tuple[float, float]:
    """The axis's range: the data's, widened by 5 % a side, and by ``least`` when the data is one value."""
    if high - low < least:
        low, high = low - least, high + least
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _scale(low: float, high: float, start: float, stop: float) -> Scale:
    """Data ``low..high`` onto pixels ``start..stop`` (a y axis runs from the bottom up: ``start`` > ``stop``)."""
    return lambda value: start + (np.asarray(value, dtype=np.float64) - low) * ((stop - start) / (high - low))


def _points(xs: np.ndarray, ys: np.ndarray) -> str:
    """The line's points at a tenth of a pixel, without those inside a flat stretch (they draw nothing)."""
    xs, ys = np.round(xs, 1), np.round(ys, 1)
    flat = np.zeros(len(ys), dtype=bool)
    flat[1:-1] = (ys[1:-1] == ys[:-2]) & (ys[1:-1] == ys[2:])
    return " ".join(f"{a:g},{b:g}" for a, b in zip(xs[~flat].tolist(), ys[~flat].tolist(), strict=True))


def _value_ticks(low: float, high: float, y: Scale) -> list[str]:
    """Gridlines at round equity values (1, 2, 2.5 or 5 times a power of ten), written in full, not as offsets."""
    raw = (high - low) / 6
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    decimals = len(f"{step:.6f}".rstrip("0").partition(".")[2])  # as many as the step has: 2.5 → 1, 500 → 0
    out = []
    for k in range(math.ceil(low / step), math.floor(high / step) + 1):
        at = float(y(k * step))
        out.append(
            f'<line x1="{LEFT}" y1="{at:.1f}" x2="{WIDTH - RIGHT}" y2="{at:.1f}" stroke="#e5e5e5"/>'
            f'<text x="{LEFT - 4}" y="{at + 3:.1f}" text-anchor="end">{k * step:,.{decimals}f}</text>'
        )
    return out


def _time_ticks(low: float, high: float, x: Scale) -> list[str]:
    """Dates (or times of day, when the run is short) at round UTC moments, at most ``MOST_TICKS`` of them."""
    step = next((s for s in TIME_STEPS if (high - low) / s <= MOST_TICKS), TIME_STEPS[-1])
    shape = "%Y-%m-%d" if step >= 86_400 else "%m-%d %H:%M"
    out = []
    for k in range(math.ceil(low / step), math.floor(high / step) + 1):
        at = float(x(k * step))
        label = datetime.fromtimestamp(k * step, UTC).strftime(shape)
        out.append(
            f'<line x1="{at:.1f}" y1="{TOP}" x2="{at:.1f}" y2="{HEIGHT - BOTTOM}" stroke="#e5e5e5"/>'
            f'<text transform="translate({at + 4:.1f} {HEIGHT - BOTTOM + 12}) rotate(-30)" text-anchor="end">{label}</text>'
        )
    return out
