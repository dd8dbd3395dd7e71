"""Break-even fee: the fee tier at which a model would clear its gates.

For a model that passes, the headroom between the fee it pays and the fee at which it stops passing says how
much a worse tier, or an underestimated cost, would take to sink it; for one that fails, the fee at which it
would pass says how far it is from being useful. Spread and slippage depend on the market, not on the account,
so only the fee moves (``training`` decides and trades the folds again at each level).
"""

from __future__ import annotations

import math
from collections.abc import Callable


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
