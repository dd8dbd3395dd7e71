"""Equity curves after costs as one PNG per run: a picture for people, stored once, never in the event log."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import polars as pl

from huracan_core.trading.daily import TradingDay


def run_equity_png(days: Sequence[TradingDay], timeframe: str) -> tuple[str, bytes]:
    """The picture of a run's traded days, one line per symbol, and a name for it that says what it covers."""
    first, last = min(d.day for d in days), max(d.day for d in days)
    curves: dict[str, list[pl.DataFrame]] = {}
    for traded in days:
        curves.setdefault(traded.symbol, []).append(traded.equity)
    symbols = sorted(curves)
    name = f"{first}_{last}_{symbols[0]}_{symbols[-1]}_{len(symbols)}"
    title = f"{timeframe} shadow trades {first}..{last}: equity per day, net of costs"
    return name, equity_png({s: pl.concat(c) for s, c in curves.items()}, title)


def equity_png(curves: Mapping[str, pl.DataFrame], title: str) -> bytes:
    """One line per symbol (``timestamp``, ``equity`` rows of its days, in any order), 800×400 px.

    Days are traded flat-to-flat, so each day's curve starts from the same capital; the line shows the days
    side by side, which is what a person scanning a run wants to see.
    """
    from matplotlib.figure import Figure  # slow to import: only when a plot is drawn

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.add_subplot()
    for symbol, curve in sorted(curves.items()):
        curve = curve.sort("timestamp")
        if curve.height:
            axes.plot(curve["timestamp"].to_list(), curve["equity"].to_list(), linewidth=0.8, label=symbol)
    axes.set_title(title, fontsize=9)
    axes.set_ylabel("equity, net of costs (quote currency)", fontsize=7)
    axes.tick_params(labelsize=6)
    if curves:
        axes.legend(fontsize=6)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
