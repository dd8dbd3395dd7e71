"""Break-even fee: how much fee a model's trades could pay and still clear the gates.

A model that passes only at today's fee tier is fragile; the headroom between the fee it pays and the fee at
which it stops passing says how much a worse tier, or an underestimated cost, would take to sink it. The
trades stay fixed and only the fee is re-priced, so spread and slippage (which depend on the market, not on
the account) are kept as simulated.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import polars as pl

from huracan_core.trading.costs import BPS


def reprice_ledger(ledger: pl.DataFrame, fee_bps: float) -> pl.DataFrame:
    """The shadow-trader ledger as if every side had paid ``fee_bps``: ``fees_paid``, ``net_bps`` and
    ``net_pnl`` change by the fee difference, everything else is kept."""
    if not math.isfinite(fee_bps):
        raise ValueError(f"fee_bps must be finite, got {fee_bps}")
    per_quote = pl.col("size") / BPS
    new_fees = 2 * fee_bps * per_quote
    fee_saving_bps = (pl.col("fees_paid") - new_fees) / per_quote
    return ledger.with_columns(
        fees_paid=new_fees,
        net_bps=pl.col("net_bps") + fee_saving_bps,
        net_pnl=pl.col("net_pnl") + pl.col("fees_paid") - new_fees,
    )


def break_even_fee(
    passes: Callable[[float], bool], current_fee_bps: float, *, tolerance_bps: float = 0.05
) -> float | None:
    """Highest per-side fee in ``[0, current_fee_bps]`` at which ``passes`` holds, to within ``tolerance_bps``.

    A lower fee never hurts a fixed set of trades, so ``passes`` is taken as monotone and bisected. The answer
    is always a fee at which ``passes`` was seen to hold; None when it fails even without fees.
    """
    if not (math.isfinite(current_fee_bps) and current_fee_bps >= 0):
        raise ValueError(f"current_fee_bps must be a finite fee >= 0, got {current_fee_bps}")
    if not tolerance_bps > 0:
        raise ValueError(f"tolerance_bps must be positive, got {tolerance_bps}")
    if passes(current_fee_bps):
        return current_fee_bps
    if not passes(0.0):
        return None
    good, bad = 0.0, current_fee_bps
    while bad - good > tolerance_bps:
        mid = (good + bad) / 2
        good, bad = (mid, bad) if passes(mid) else (good, mid)
    return good
