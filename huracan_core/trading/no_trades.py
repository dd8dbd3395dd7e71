"""Why a traded day has no trades, in one sentence a person can check against the bars.

A day without trades is the usual finding, not a fault: the costs of a round trip are a high bar. What a person
needs is the best edge the deciding policy saw that day and what it had to beat there, split into fees, spread and
slippage, with the funding a position pays at each settlement it spans, so that "no trades" can be told apart from "no signals" or "a broken pipeline".
"""

from __future__ import annotations

from datetime import datetime

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
        quoted.select("timestamp", "fee_bps", "spread_bps", "slip_bps", "cost_bps", "funding_bps"), on="timestamp"
    )
    policy = str(bars["policy"][0])
    wanted = bars.filter(pl.col("recommendation").is_in(TRADED))
    if wanted.height:  # every signal but the last bar's enters at the next bar's open
        return (
            f"{policy}: the only signal to trade came on the day's last bar ({_time(wanted['timestamp'][-1])}), "
            "with no bar left to enter at"
        )
    if policy == "rules" and not (bars["direction"] != 0).any():
        return (
            f"rules: none of the {bars.height} bars had a consensus direction (the engines' weighted votes were flat)"
        )
    seen = bars.filter(pl.col("direction") != 0) if policy == "rules" else bars
    seen = seen.filter(pl.col("expected_edge_bps").is_not_null() & pl.col("expected_edge_bps").is_not_nan())
    if seen.is_empty():
        return f"{policy}: no bar of {bars.height} had an expected edge"
    best = seen.sort("expected_edge_bps", descending=True, maintain_order=True).row(0, named=True)
    cost = (
        f"round-trip cost {best['cost_bps']:.1f} bps (fees {2 * best['fee_bps']:.1f} + spread {best['spread_bps']:.1f} "
        f"+ slippage {2 * best['slip_bps']:.1f}) + funding {best['funding_bps']:.1f} bps per settlement held "
        "(longs pay, shorts receive)"
    )
    at = _time(best["timestamp"])
    if policy == "rules":
        beat = int((seen["expected_edge_bps"] > seen["cost_bps"] + margin_bps).sum())
        if not beat:
            return (
                f"rules: best expected edge {best['expected_edge_bps']:.1f} bps ({at}) < {cost} "
                f"+ safety margin {margin_bps:.1f} bps; {seen.height} of {bars.height} bars had a consensus direction"
            )
        return (
            f"rules: {beat} of the {seen.height} bars with a consensus direction expected more than their round-trip "
            f"cost + safety margin {margin_bps:.1f} bps (best {best['expected_edge_bps']:.1f} bps at {at}, {cost}), "
            "yet the consensus skipped them: divided agreement, confidence under the regime's threshold, or "
            "disagreement in PANIC"
        )
    return (
        f"{policy}: best predicted edge after costs {best['expected_edge_bps']:.1f} bps ({at}) ≤ margin "
        f"{margin_bps:.1f} bps; the {cost} is already deducted from it"
    )


def _time(moment: datetime) -> str:
    return f"{moment:%H:%M} UTC"
