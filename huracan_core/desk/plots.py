"""Equity curves after costs: one PNG per run, stored once and linked from every partition of the run (each
partition's own curve travels in its metadata as a sparkline, ``desk.sparkline``)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from huracan_core.desk.shadow_day import TradingDay


def run_equity_png(days: Sequence[TradingDay], timeframe: str) -> tuple[str, bytes] | None:
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
    return name, equity_png({s: pl.concat(curves[s]) for s in symbols}, title)


def equity_png(
    curves: Mapping[str, pl.DataFrame], title: str, size: tuple[float, float] = (8.0, 4.0), dpi: int = 100
) -> bytes:
    """One line per symbol (``timestamp``, ``equity`` rows of its days, in any order), ``size`` inches at ``dpi``.

    Days are traded flat-to-flat, so each day's curve starts from the same capital; the line shows the days
    side by side, which is what a person scanning a run wants to see.
    """
    from matplotlib.figure import Figure  # slow to import: only when a plot is drawn

    figure = Figure(figsize=size, dpi=dpi)
    axes = figure.add_subplot()
    for symbol, curve in sorted(curves.items()):
        curve = curve.sort("timestamp")
        if curve.height:
            axes.plot(_utc_times(curve["timestamp"]), curve["equity"].to_numpy(), linewidth=0.8, label=symbol)
    axes.set_title(title, fontsize=9)
    axes.set_ylabel("equity, net of costs (quote currency)", fontsize=7)
    axes.tick_params(labelsize=6)
    axes.ticklabel_format(axis="y", useOffset=False)  # equity in plain figures, not "+1e4" and offsets from it
    if curves:
        axes.legend(fontsize=6)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _utc_times(times: pl.Series) -> np.ndarray:
    """The times in UTC, as one datetime64 array: matplotlib converts it at once instead of one Python datetime at a
    time (a quarter of the picture's time), and the picture is the same bytes as from the UTC datetimes it had."""
    dtype = times.dtype
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        times = times.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return times.to_numpy()
