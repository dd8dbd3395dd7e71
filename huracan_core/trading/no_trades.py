"""Why a traded day has no trades, in one sentence a person can check against the bars.

A day without trades is the usual finding, not a fault: the costs of a round trip are a high bar. What a person
needs is the best edge the deciding policy saw that day and what it had to beat there, split into fees, spread and
slippage, with the funding a position pays at each settlement it spans, so that "no trades" can be told apart from "no signals" or "a broken pipeline".
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from huracan_core.trading.shadow_trader import TRADED


def why_no_trades(decisions: pl.DataFrame, quoted: pl.DataFrame, margin_bps: float) -> str:
    """``decisions``: the policy's decisions on the day's bars (``rules_decisions`` or ``CoinModel.decisions``:
    ``timestamp``, ``policy``, ``direction``, ``recommendation``, ``expected_edge_bps``); ``quoted``: ``bar_costs``
    on the same bars. ``margin_bps``: what an edge must beat on top of what it pays — the consensus' safety margin
    over the round trip for the rules (their edge is before costs), the model's margin alone (its predicted edge is
    already after costs)."""
    if decisions.is_empty():
        return "no bars this day"
    bars = decisions.join(
        quoted.select("timestamp", "fee_bps", "spread_bps", "slip_bps", "cost_bps", "funding_bps"),
        on="timestamp",
        maintain_order="left",
    )
    # a day's hundred bars as arrays: this runs for most days of a range, and a query per step cost more than the
    # trading itself
    policy = str(bars["policy"][0])
    wanted = np.flatnonzero([r in TRADED for r in bars["recommendation"].to_list()])
    if wanted.size:  # every signal but the last bar's enters at the next bar's open
        return (
            f"{policy}: the only signal to trade came on the day's last bar ({_time(bars['timestamp'][int(wanted[-1])])}), "
            "with no bar left to enter at"
        )
    directed = np.nan_to_num(_floats(bars["direction"])) != 0
    if policy == "rules" and not directed.any():
        return (
            f"rules: none of the {bars.height} bars had a consensus direction (the engines' weighted votes were flat)"
        )
    edge = _floats(bars["expected_edge_bps"])
    seen = np.flatnonzero(~np.isnan(edge) & (directed if policy == "rules" else True))
    if not seen.size:
        return f"{policy}: no bar of {bars.height} had an expected edge"
    best = bars.row(int(seen[np.argmax(edge[seen])]), named=True)  # the first of equal bests, in time order
    cost = (
        f"round-trip cost {best['cost_bps']:.1f} bps (fees {2 * best['fee_bps']:.1f} + spread {best['spread_bps']:.1f} "
        f"+ slippage {2 * best['slip_bps']:.1f}) + funding {best['funding_bps']:.1f} bps per settlement held "
        "(longs pay, shorts receive)"
    )
    at = _time(best["timestamp"])
    if policy == "rules":
        hurdle = _floats(bars["cost_bps"])[seen] + margin_bps
        beat = int((edge[seen] > hurdle).sum())  # a bar without a cost beats nothing
        if not beat:
            return (
                f"rules: best expected edge {best['expected_edge_bps']:.1f} bps ({at}) < {cost} "
                f"+ safety margin {margin_bps:.1f} bps; {seen.size} of {bars.height} bars had a consensus direction"
            )
        return (
            f"rules: {beat} of the {seen.size} bars with a consensus direction expected more than their round-trip "
            f"cost + safety margin {margin_bps:.1f} bps (best {best['expected_edge_bps']:.1f} bps at {at}, {cost}), "
            "yet the consensus skipped them: divided agreement, confidence under the regime's threshold, or "
            "disagreement in PANIC"
        )
    return (
        f"{policy}: best predicted edge after costs {best['expected_edge_bps']:.1f} bps ({at}) ≤ margin "
        f"{margin_bps:.1f} bps; the {cost} is already deducted from it"
    )


def _floats(column: pl.Series) -> np.ndarray:
    """The column as float64, a null as NaN (``to_numpy`` of a numeric series: no query)."""
    return column.to_numpy().astype(np.float64, copy=False)


def _time(moment: datetime) -> str:
    return f"{moment:%H:%M} UTC"
