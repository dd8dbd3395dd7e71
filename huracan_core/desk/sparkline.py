"""A day's equity as a small SVG: the curve a person wants at a glance beside the day's figures.

A picture in a materialization's metadata must be small — the event log stores it on every partition, and the
Dagster UI draws a markdown entry in place only while it stays under 1,000 characters (longer ones hide behind
"[Show Markdown]"). A PNG never fits; a few hundred bytes of SVG do: the curve is a step path (equity moves only
when a trade exits) over at most ``POINTS`` positions, with the capital as a dashed line and the day's high and low
written on it so the shape has a scale.
"""

from __future__ import annotations

import polars as pl

#: most positions drawn: keeps the SVG's size bounded whatever the number of bars or trades
POINTS = 40
WIDTH, HEIGHT, TOP, BOTTOM = 240, 60, 11, 56


def equity_sparkline(equity: pl.DataFrame, capital: float) -> str:
    """``equity``: ``timestamp, equity`` over the day's bars (``TradingDay.equity``), starting from ``capital``.

    With more than ``POINTS`` bars the curve is read at ``POINTS`` evenly spaced bars (the equity after each of
    them), so a dip between two of them can be missed: the drawdown figure beside the picture is the exact one.
    """
    values = [capital, *equity.sort("timestamp")["equity"].to_list()]
    if len(values) > POINTS + 1:
        step = (len(values) - 1) / POINTS
        values = [values[0], *(values[round(step * i)] for i in range(1, POINTS + 1))]
    high, low = max(values), min(values)
    span = (high - low) or 1.0

    def y(value: float) -> int:
        return round(BOTTOM - (value - low) / span * (BOTTOM - TOP)) if high > low else (TOP + BOTTOM) // 2

    def x(i: int) -> int:
        return round(i * WIDTH / (len(values) - 1))

    path = f"M0 {y(values[0])}"
    for i in range(1, len(values)):
        if values[i] != values[i - 1]:
            path += f"H{x(i)}V{y(values[i])}"
    path += f"H{WIDTH}"
    colour = "#1a7f37" if values[-1] > capital else "#c62828" if values[-1] < capital else "#5b6475"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-size="9" '
        f'font-family="sans-serif"><path d="M0 {y(capital)}H{WIDTH}" stroke="#aaa" stroke-dasharray="3"/>'
        f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
        f'<text x="2" y="9">high {high:,.2f}</text><text x="{WIDTH - 2}" y="9" text-anchor="end">'
        f"low {low:,.2f}</text></svg>"
    )
