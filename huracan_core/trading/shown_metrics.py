"""The backtest summary (``metrics.summary``) as a person reads it beside the number.

``summary`` keeps floats for the gates and ``metrics.json`` (a drawdown of 0.0 on a curve that never moved is a fact
the gates compare against). A reader asks something else: on a day without trades there is no P&L and no drawdown
to speak of, and a "0.0" reads as a measured flat result, a "0.0 trades" as a figure from a fit. So here the counts
are whole numbers and every figure that only trades define is ``None`` (shown "n/a") when nothing traded — the same
rule the daily and window reports follow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

#: figures that count things: whole numbers
COUNTS = frozenset({"trade_count", "missed_entries"})
#: figures that are finite without a trade (a sum of nothing, the drawdown of a flat curve) but say nothing then
DEFINED_BY_TRADES = frozenset({"net_pnl", "gross_pnl", "max_drawdown"})
NO_TRADES = "no trades"


def shown_summary(figures: Mapping[str, float]) -> dict[str, int | float | None]:
    """Counts as ``int``; ``None`` for a figure the data cannot define (NaN) and, without a trade, for every
    figure that only trades define."""
    traded = figures["trade_count"] > 0
    shown: dict[str, int | float | None] = {}
    for name, value in figures.items():
        if name in COUNTS:
            shown[name] = int(value)
        elif not math.isfinite(value) or (not traded and name in DEFINED_BY_TRADES):
            shown[name] = None
        else:
            shown[name] = float(value)
    return shown


def shown_value(name: str, value: int | float | None) -> str:
    """One figure of ``shown_summary`` as text: "n/a" for ``None``, "0 (no trades)" for an empty trade count."""
    if value is None:
        return "n/a"
    if name == "trade_count" and value == 0:
        return f"0 ({NO_TRADES})"
    if isinstance(value, int):
        return str(value)
    return str(round(value, 6))
