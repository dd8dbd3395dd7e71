"""Does a coin model carry signal, whatever its trading rule makes of it? Rank IC, quintiles and calibration.

A regressor of noisy after-cost outcomes predicts near their (negative) mean, so an absolute trading rule can stay
silent while the model ranks opportunities well — or the other way round. These figures judge the predictions
themselves, over each walk-forward fold's test bars whose outcome is known before the cutoff, each side (long,
short) being its own observation: its predicted edge against its realized after-cost ``<side>_net_bps``.

* **IC**: Spearman's rank correlation per fold; its mean, standard deviation (ddof 1) and ICIR (mean / std) over
  the folds, and the pooled IC over every fold's observations at once.
* **Quintiles**: each fold's observations split by the quintiles of that fold's own predictions (a fold's level
  never shifts another's buckets); per bucket the mean realized net bps and the hit rate (net > 0), per fold and
  pooled over the folds, and top − bottom.
* **Calibration**: mean predicted against mean realized by decile of the pooled predictions: the level an
  absolute rule compares with its margin.

An undefined figure (constant predictions, too few observations, an empty bucket) is NaN — shown as n/a — never 0,
so "no signal measured" is never read as "zero signal".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

QUINTILES = 5
DECILES = 10
#: fewer observations than this in a fold (or pooled) leave its IC undefined
MIN_OBSERVATIONS = 10


@dataclass(frozen=True)
class Buckets:
    """Observations grouped by predicted bucket (index 0 = lowest predictions)."""

    count: list[int]
    mean_predicted: list[float]
    mean_net_bps: list[float]
    hit_rate: list[float]

    @property
    def top_minus_bottom(self) -> float:
        return self.mean_net_bps[-1] - self.mean_net_bps[0]

    def to_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "mean_predicted_bps": self.mean_predicted,
            "mean_net_bps": self.mean_net_bps,
            "hit_rate": self.hit_rate,
            "top_minus_bottom_bps": self.top_minus_bottom,
        }


@dataclass(frozen=True)
class FoldSignal:
    fold: int
    observations: int
    ic: float
    quintiles: Buckets


@dataclass(frozen=True)
class SignalDiagnostics:
    folds: list[FoldSignal]
    ic_mean: float
    ic_std: float
    icir: float
    pooled_ic: float
    quintiles: Buckets
    calibration: Buckets

    @property
    def q5_minus_q1_bps(self) -> float:
        return self.quintiles.top_minus_bottom

    def headline(self) -> dict[str, float]:
        """The figures logged as metrics and exported (stable names)."""
        out = {
            "ic_mean": self.ic_mean,
            "ic_std": self.ic_std,
            "icir": self.icir,
            "pooled_ic": self.pooled_ic,
            "q5_minus_q1_bps": self.q5_minus_q1_bps,
        }
        out.update({f"q{k + 1}_net_bps": v for k, v in enumerate(self.quintiles.mean_net_bps)})
        out.update({f"q{k + 1}_hit_rate": v for k, v in enumerate(self.quintiles.hit_rate)})
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            **self.headline(),
            "folds_measured": len(self.folds),
            "quintiles": self.quintiles.to_dict(),
            "calibration_deciles": self.calibration.to_dict(),
            "folds": [
                {"fold": f.fold, "observations": f.observations, "ic": f.ic, "quintiles": f.quintiles.to_dict()}
                for f in self.folds
            ],
        }

    def summary(self) -> str:
        """One line for people: ``IC 0.031 ± 0.018 over 6 folds; top quintile −4.1 bps net, bottom −19.0``."""
        q = self.quintiles.mean_net_bps
        return (
            f"IC {fmt(self.ic_mean, '.3f')} ± {fmt(self.ic_std, '.3f')} over {len(self.folds)} folds; "
            f"top quintile {fmt(q[-1], '.1f')} bps net, bottom {fmt(q[0], '.1f')}"
        )


def fmt(value: float | None, spec: str) -> str:
    """A figure for people; an undefined one is ``n/a``."""
    return "n/a" if value is None or not math.isfinite(value) else format(value, spec).replace("-", "−")


def spearman(predicted: np.ndarray, realized: np.ndarray) -> float:
    """Rank correlation (average ranks for ties); NaN with fewer than ``MIN_OBSERVATIONS`` or a constant side."""
    if predicted.size < MIN_OBSERVATIONS:
        return math.nan
    a, b = (pl.Series(x).rank("average").to_numpy() for x in (predicted, realized))
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def bucket_index(predicted: np.ndarray, buckets: int) -> np.ndarray:
    """Bucket 0..buckets−1 of each prediction by the quantiles of these predictions: bucket k holds
    ``(e_k, e_{k+1}]`` with ``e_0 = −inf``, so ties stay together (constant predictions all land in bucket 0)."""
    if predicted.size == 0:
        return np.zeros(0, dtype=np.int64)
    edges = np.quantile(predicted, np.arange(1, buckets) / buckets)
    return np.searchsorted(edges, predicted, side="left").astype(np.int64)


def grouped(predicted: np.ndarray, realized: np.ndarray, index: np.ndarray, buckets: int) -> Buckets:
    count, mean_p, mean_r, hits = [], [], [], []
    for k in range(buckets):
        inside = index == k
        n = int(inside.sum())
        count.append(n)
        mean_p.append(float(predicted[inside].mean()) if n else math.nan)
        mean_r.append(float(realized[inside].mean()) if n else math.nan)
        hits.append(float((realized[inside] > 0).mean()) if n else math.nan)
    return Buckets(count, mean_p, mean_r, hits)


def signal_diagnostics(folds: Sequence[tuple[int, np.ndarray, np.ndarray]]) -> SignalDiagnostics:
    """``folds``: (fold index, predicted edges, realized net bps), both sides stacked; observations whose outcome
    or prediction is not finite are dropped."""
    kept: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    for index, predicted, realized in folds:
        p, r = np.asarray(predicted, np.float64), np.asarray(realized, np.float64)
        known = np.isfinite(p) & np.isfinite(r)
        p, r = p[known], r[known]
        kept.append((index, p, r, bucket_index(p, QUINTILES)))
    per_fold = [FoldSignal(i, int(p.size), spearman(p, r), grouped(p, r, q, QUINTILES)) for i, p, r, q in kept]
    ics = np.array([f.ic for f in per_fold if math.isfinite(f.ic)])
    ic_mean = float(ics.mean()) if ics.size else math.nan
    ic_std = float(ics.std(ddof=1)) if ics.size > 1 else math.nan
    icir = ic_mean / ic_std if math.isfinite(ic_std) and ic_std > 0 else math.nan
    p_all = np.concatenate([p for _, p, _, _ in kept]) if kept else np.zeros(0)
    r_all = np.concatenate([r for _, _, r, _ in kept]) if kept else np.zeros(0)
    q_all = np.concatenate([q for _, _, _, q in kept]) if kept else np.zeros(0, dtype=np.int64)
    return SignalDiagnostics(
        folds=per_fold,
        ic_mean=ic_mean,
        ic_std=ic_std,
        icir=icir,
        pooled_ic=spearman(p_all, r_all),
        quintiles=grouped(p_all, r_all, q_all, QUINTILES),
        calibration=grouped(p_all, r_all, bucket_index(p_all, DECILES), DECILES),
    )
