"""Charts as SVG text: no scripts, no fonts or styles from elsewhere, so a report opens offline. Deliberately small:
a line chart (equity curves) and a horizontal bar chart (mixes, daily P&L), inline in a report's page, or stacked
into a file of their own (``standalone``: a trained model's pictures in MLflow)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 78, 170, 30, 36
MAX_X_TICKS = 7
#: what the reports' page sets for its charts, written into a standalone file (``standalone``)
STYLE = (
    "text{font-family:sans-serif;font-size:11px;fill:#1d2330}.heading{font-size:12px}.grid{stroke:#e3e7ef}"
    ".zero{stroke:#7f7f7f;stroke-dasharray:4 3}"
)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high == low:
        return [low]
    return [low + (high - low) * i / (count - 1) for i in range(count)]


def _num(value: float) -> str:
    return f"{value:,.2f}" if abs(value) < 1e5 else f"{value:,.0f}"


def line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]],
    title: str,
    x_label: Callable[[float], str],
    y_unit: str,
    include_zero: bool = True,
    step: bool = False,
    x_ticks: Sequence[float] | None = None,
) -> str:
    """One polyline per named series of ``(x, y)`` points (x ascending), with a legend, y ticks and x ticks
    labelled by ``x_label``; the y axis spans 0 unless ``include_zero`` is False; ``step`` holds each value
    until the next point (a curve that moves only at exits). ``x_ticks``: where the x labels go (at most
    ``MAX_X_TICKS`` of them are drawn, evenly picked); evenly spaced when not given. Empty when no series has a point."""
    points = [p for values in series.values() for p in values]
    if not points:
        return ""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = (min(min(ys), 0.0), max(max(ys), 0.0)) if include_zero else (min(ys), max(ys))
    if y0 == y1:
        y0, y1 = y0 - 1.0, y1 + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (plot_w * (x - x0) / (x1 - x0) if x1 > x0 else plot_w / 2)

    def sy(y: float) -> float:
        return TOP + plot_h * (y1 - y) / (y1 - y0)

    parts = [_open(title)]
    for tick in _ticks(y0, y1):
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{sy(tick):.1f}" y2="{sy(tick):.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{sy(tick) + 4:.1f}" text-anchor="end">{escape(_num(tick))}</text>')
    for tick in _pick(x_ticks) if x_ticks else _ticks(x0, x1, 4 if x1 > x0 else 1):
        parts.append(f'<text x="{sx(tick):.1f}" y="{HEIGHT - 14}" text-anchor="middle">{escape(x_label(tick))}</text>')
    if y0 < 0 < y1:
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" class="zero"/>')
    parts.append(f'<text x="{LEFT - 6}" y="{TOP - 14}" text-anchor="end">{escape(y_unit)}</text>')
    for i, (name, values) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        drawn = [q for a, b in itertools.pairwise(values) for q in ((b[0], a[1]), b)] if step else list(values[1:])
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in [values[0], *drawn])
        if len(values) == 1:
            x, y = values[0]
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}"/>')
        else:
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>')
        ly = TOP + 14 + 18 * i
        parts.append(
            f'<line x1="{WIDTH - RIGHT + 12}" x2="{WIDTH - RIGHT + 32}" y1="{ly - 4}" y2="{ly - 4}" '
            f'stroke="{color}" stroke-width="3"/>'
        )
        parts.append(f'<text x="{WIDTH - RIGHT + 38}" y="{ly}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _pick(ticks: Sequence[float]) -> list[float]:
    if len(ticks) <= MAX_X_TICKS:
        return list(ticks)
    every = (len(ticks) - 1) / (MAX_X_TICKS - 1)
    return [ticks[round(i * every)] for i in range(MAX_X_TICKS)]


def bar_chart(bars: Sequence[tuple[str, float]], title: str, unit: str, label_edge: int = LEFT + 54) -> str:
    """Horizontal bars, one per ``(label, value)``; negative values extend left of the zero line in red. The labels
    end at ``label_edge`` pixels (wider for long names, such as a model's inputs)."""
    if not bars:
        return ""
    height = TOP + BOTTOM + 22 * len(bars)
    low, high = min(0.0, *(v for _, v in bars)), max(0.0, *(v for _, v in bars))
    if low == high:
        high = 1.0
    plot_w = WIDTH - RIGHT + 20 - (label_edge + 6)

    def sx(x: float) -> float:
        return label_edge + 6 + plot_w * (x - low) / (high - low)

    parts = [_open(title, height)]
    parts.append(f'<line x1="{sx(0):.1f}" x2="{sx(0):.1f}" y1="{TOP}" y2="{height - BOTTOM}" class="zero"/>')
    for i, (label, value) in enumerate(bars):
        y = TOP + 22 * i
        x_from, x_to = sorted((sx(0), sx(value)))
        color = PALETTE[0] if value >= 0 else PALETTE[1]
        parts.append(f'<text x="{label_edge}" y="{y + 14}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect x="{x_from:.1f}" y="{y + 3}" width="{max(x_to - x_from, 1):.1f}" height="15" fill="{color}"/>'
        )
        parts.append(f'<text x="{max(x_to, sx(0)) + 6:.1f}" y="{y + 14}">{escape(_num(value))} {escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def standalone(blocks: Sequence[tuple[Sequence[str], str]]) -> bytes:
    """Blocks of a few lines of text, each followed by its chart, stacked into one SVG file styled as the reports
    style them: what a viewer of image files opens (MLflow's artifact view, a browser). A block's chart may be empty
    (nothing to draw): its lines say so."""
    parts, y = [], 0
    for lines, chart in blocks:
        for line in lines:
            y += 16
            parts.append(f'<text x="12" y="{y + 4}" class="heading">{escape(line)}</text>')
        if chart:
            parts.append(chart.replace("<svg ", f'<svg x="0" y="{y + 4}" ', 1))
            y += 4 + _height(chart)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y + 12}" viewBox="0 0 {WIDTH} {y + 12}">'
        f'<style>{STYLE}</style><rect width="100%" height="100%" fill="white"/>{"".join(parts)}</svg>\n'
    ).encode()


def _height(chart: str) -> int:
    """The height ``_open`` gave the chart (the first height attribute of its text)."""
    found = re.search(r'height="(\d+)"', chart)
    assert found is not None, "a chart opens with its height"
    return int(found.group(1))


def _open(title: str, height: int = HEIGHT) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )
