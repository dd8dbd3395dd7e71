"""Entry thresholds chosen inside the training window, on a slice the booster did not fit.

A regressor of noisy after-cost outcomes predicts near their mean, so "trade when the predicted edge beats the
margin" can stay silent although the model ranks the bars well. The calibrated rule asks instead: among the bars
this model ranks highest on a held-out slice of its own training window, which cut would have paid after costs?

For one side: the candidate thresholds are quantiles of the slice's predictions (``ModelConfig.
calibration_quantiles``, a fixed grid, never tuned to any data); for each, the entries predicted above it and
their realized after-cost outcomes on the slice (the lookahead labels: the shadow trader's own exits and costs, so
costs are counted as they are paid). The threshold kept is the one whose entries' mean net bps, less one
standard error times ``calibration_z``, beats the margin by the most: a thin top bucket with a lucky mean does not
win over a broad one that earns as much. The side is enabled only when that lower bound beats the margin with at
least ``calibration_min_trades`` entries; otherwise it is disabled (threshold None) and never trades.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class SideCalibration:
    """The choice for one side. ``threshold_bps`` is None when the side is disabled; the other figures describe
    the best candidate seen (NaN when none had entries)."""

    threshold_bps: float | None
    quantile: float
    entries: int
    mean_net_bps: float
    lower_bound_bps: float
    slice_rows: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def calibrate_side(
    predicted: np.ndarray,
    realized: np.ndarray,
    quantiles: Sequence[float],
    margin_bps: float,
    min_entries: int,
    z: float,
) -> SideCalibration:
    """``predicted`` and ``realized`` (net bps) on the calibration slice; rows whose outcome is unknown are
    left out."""
    p, r = np.asarray(predicted, np.float64), np.asarray(realized, np.float64)
    known = np.isfinite(p) & np.isfinite(r)
    p, r = p[known], r[known]
    candidates = []
    for q in quantiles if p.size else ():
        threshold = float(np.quantile(p, q))
        chosen = r[p > threshold]
        if chosen.size >= 2:
            mean = float(chosen.mean())
            bound = mean - z * float(chosen.std(ddof=1)) / math.sqrt(chosen.size)
            candidates.append((q, threshold, int(chosen.size), mean, bound))
    if not candidates:
        return SideCalibration(None, math.nan, 0, math.nan, math.nan, int(p.size))
    eligible = [c for c in candidates if c[2] >= min_entries]
    # the first of equals wins: the broader cut (quantiles ascend in the grid)
    q, threshold, n, mean, bound = (
        max(eligible, key=lambda c: c[4]) if eligible else max(candidates, key=lambda c: c[2])
    )
    enabled = n >= min_entries and bound > margin_bps
    return SideCalibration(threshold if enabled else None, q, n, mean, bound, int(p.size))
