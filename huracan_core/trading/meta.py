"""Per-coin meta combiner: trust each engine as much as its recent signals have earned.

Every engine signal is scored as a paper trade — enter at the next bar's open, leave at the close
``horizon_bars`` later, minus the round-trip cost of the signal bar — and the outcome becomes known at the close
of that last bar. Two EMAs per engine follow the outcomes: hit rate (accuracy) and net bps (edge). The weight at
bar t is built only from outcomes known at a bar strictly before t, so the combiner is causal.

weight = clip(2 × accuracy, floor, cap) × clip(1 + edge / edge_scale_bps, floor, cap); a fresh engine
(accuracy 0.5, edge 0) weighs 1. The recursion starts fresh at the frame's first row, or at each segment's first
row when the frame holds several windows (``starts``), so a window's weights do not depend on what came before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True)
class MetaConfig:
    horizon_bars: int = 12
    alpha: float = 0.1
    edge_scale_bps: float = 20.0
    floor: float = 0.2
    cap: float = 2.0


@njit(cache=True)
def _meta_weights(
    directions: np.ndarray,
    open_: np.ndarray,
    close: np.ndarray,
    cost_bps: np.ndarray,
    starts: np.ndarray,
    horizon: int,
    alpha: float,
    edge_scale: float,
    floor: float,
    cap: float,
) -> np.ndarray:
    n, m = directions.shape
    weights = np.empty((n, m), np.float64)
    accuracy = np.full(m, 0.5)
    edge = np.zeros(m)
    first = 0  # the current segment's first row
    for t in range(n):
        if starts[t]:
            first = t
            accuracy[:] = 0.5
            edge[:] = 0.0
        s = t - 1 - horizon  # signal bar whose outcome was known at the close of bar t - 1
        if s >= first:
            for e in range(m):
                d = directions[s, e]
                if d != 0:
                    net = d * (close[t - 1] / open_[s + 1] - 1.0) * 1e4 - cost_bps[s]
                    accuracy[e] = (1.0 - alpha) * accuracy[e] + alpha * (1.0 if net > 0 else 0.0)
                    edge[e] = (1.0 - alpha) * edge[e] + alpha * net
        for e in range(m):
            a = min(max(2.0 * accuracy[e], floor), cap)
            b = min(max(1.0 + edge[e] / edge_scale, floor), cap)
            weights[t, e] = a * b
    return weights


def meta_weights(
    directions: np.ndarray,
    open_: np.ndarray,
    close: np.ndarray,
    cost_bps: np.ndarray,
    config: MetaConfig = MetaConfig(),
    starts: np.ndarray | None = None,
) -> np.ndarray:
    """Weights (bars × engines) for the engines' direction matrix of one coin; ``starts`` (bool per bar) marks the
    first bar of each window that starts afresh (default: the first bar only)."""
    horizon = max(int(config.horizon_bars), 1)
    if starts is None:
        starts = np.zeros(len(directions), np.bool_)
        starts[:1] = True
    return _meta_weights(
        np.ascontiguousarray(directions, dtype=np.int8),
        np.asarray(open_, dtype=np.float64),
        np.asarray(close, dtype=np.float64),
        np.nan_to_num(np.asarray(cost_bps, dtype=np.float64)),
        np.asarray(starts, dtype=np.bool_),
        horizon,
        config.alpha,
        config.edge_scale_bps,
        config.floor,
        config.cap,
    )
