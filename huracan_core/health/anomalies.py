"""Trading anomalies: a day of a champion's trades — the shadow trader's, or Hamilton's on paper — judged against
the champion's own out-of-sample record.

A fixed band ("win rate below 40 %") would alarm on every small day and miss a slow collapse of a model whose
baseline was 70 %. Each test here compares the day with the champion's walk-forward out-of-sample trades as two
samples, so the baseline's own size widens the band when it is thin, and the false-alarm rate is the configured
``alpha`` whatever the model (measured in ``tests/core/test_health_anomalies.py``):

* win rate — two-proportion z (pooled under the null), one-sided: an alarm means worse than the baseline;
* after-cost P&L per trade — two-sample z with the baseline's spread for both samples (a day's handful of trades
  cannot estimate its own spread), one-sided worse;
* trade count — Poisson at the baseline's trades per day, two-sided: a silent model is as wrong as a runaway one;
* costs paid per trade (gross − net) against the costs the champion was priced at out of sample — the same
  two-sample z, one-sided dearer.

Days with fewer than ``min_trades`` trades pass the per-trade tests as "too few to judge" (the z approximation
is meaningless on two trades); the count test still judges them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

WIN_RATE = "win_rate_vs_baseline"
NET_PER_TRADE = "net_bps_vs_baseline"
TRADE_COUNT = "trade_count_vs_expected"
COSTS_PAID = "costs_paid_vs_quoted"
CHECKS = (WIN_RATE, NET_PER_TRADE, TRADE_COUNT, COSTS_PAID)


@dataclass(frozen=True)
class AnomalyConfig:
    #: false-alarm rate of each test at the null
    alpha: float = 0.01
    #: below this many trades the per-trade tests do not judge
    min_trades: int = 5


@dataclass(frozen=True)
class Baseline:
    """What the champion did out of sample: the sample every day is compared with."""

    trades: int
    wins: int
    mean_net_bps: float
    sd_net_bps: float
    mean_cost_bps: float
    sd_cost_bps: float
    trades_per_day: float

    @property
    def win_rate(self) -> float:
        return self.wins / self.trades


def baseline_of(oos_trades: pl.DataFrame) -> Baseline | None:
    """The baseline of a champion's ``oos_trades.parquet``; None with fewer than two trades (no spread to
    compare with). The rate is over the calendar days from the first to the last out-of-sample entry."""
    if oos_trades.height < 2:
        return None
    net, cost = _net_and_cost(oos_trades)
    entries = oos_trades["entry_time"].dt.date()
    days = (entries.max() - entries.min()).days + 1  # type: ignore[operator]  # dates: a timedelta
    return Baseline(
        trades=oos_trades.height,
        wins=int((net > 0).sum()),
        mean_net_bps=float(net.mean()),
        sd_net_bps=float(net.std(ddof=1)),
        mean_cost_bps=float(cost.mean()),
        sd_cost_bps=float(cost.std(ddof=1)),
        trades_per_day=oos_trades.height / days,
    )


def _net_and_cost(trades: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each trade's after-cost result and the costs it paid (gross − net: fees, spread, slippage, funding)."""
    net = trades["net_bps"].cast(pl.Float64).to_numpy()
    return net, trades["gross_bps"].cast(pl.Float64).to_numpy() - net


@dataclass(frozen=True)
class Judgement:
    check: str
    passed: bool
    summary: str
    #: the figures behind the verdict (z or p, both samples' sizes and values)
    figures: dict[str, float]


def win_rate_z(wins: int, n: int, base: Baseline) -> float:
    pooled = (wins + base.wins) / (n + base.trades)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / base.trades))
    return 0.0 if spread == 0 else (wins / n - base.win_rate) / spread


def mean_z(mean: float, n: int, base_mean: float, base_sd: float, base_n: int) -> float:
    spread = base_sd * math.sqrt(1 / n + 1 / base_n)
    return 0.0 if spread == 0 else (mean - base_mean) / spread


def count_p(count: int, expected: float) -> float:
    """Two-sided Poisson p of ``count`` at mean ``expected`` (doubled smaller tail, at most 1)."""
    if expected <= 0:
        return 1.0 if count == 0 else 0.0
    from scipy import stats  # here, not at the top: scipy.stats is half a second of every process's start-up

    return min(1.0, 2 * min(float(stats.poisson.cdf(count, expected)), float(stats.poisson.sf(count - 1, expected))))


def judge_day(
    ledger: pl.DataFrame, base: Baseline, config: AnomalyConfig = AnomalyConfig(), entered: int | None = None
) -> list[Judgement]:
    """The four judgements of one day's ledger (``net_bps``, ``gross_bps``) against ``base``.

    ``entered``: the trades entered on the day, when the ledger holds only those that closed. Hamilton's day may
    end with trips still open, which have no result yet: they count towards the day's trades, and only the closed
    ones are judged per trade. None: every trade of the ledger closed (the shadow trader's day)."""
    n = ledger.height
    count = n if entered is None else entered
    from scipy import stats

    z_alpha = float(stats.norm.ppf(1 - config.alpha))
    expected = base.trades_per_day
    p = count_p(count, expected)
    out = [
        Judgement(
            TRADE_COUNT,
            p >= config.alpha,
            f"{count} trades, {expected:.2f} expected (Poisson p={p:.3g})",
            {"trades": count, "expected_trades": expected, "p_value": p},
        )
    ]
    if n < config.min_trades:
        closed = "" if entered is None else " closed"
        why = f"{n}{closed} trades: too few to judge (fewer than {config.min_trades})"
        return [*out, *(Judgement(c, True, why, {"trades": n}) for c in (WIN_RATE, NET_PER_TRADE, COSTS_PAID))]
    net, cost = _net_and_cost(ledger)
    wins = int((net > 0).sum())
    z_win = win_rate_z(wins, n, base)
    mean_net, mean_cost = float(net.mean()), float(cost.mean())
    z_net = mean_z(mean_net, n, base.mean_net_bps, base.sd_net_bps, base.trades)
    z_cost = mean_z(mean_cost, n, base.mean_cost_bps, base.sd_cost_bps, base.trades)
    sizes = {"trades": n, "baseline_trades": base.trades}
    return [
        *out,
        Judgement(
            WIN_RATE,
            z_win > -z_alpha,
            f"win rate {wins / n:.1%} vs {base.win_rate:.1%} out of sample (z={z_win:.2f})",
            {**sizes, "win_rate": wins / n, "baseline_win_rate": base.win_rate, "z": z_win},
        ),
        Judgement(
            NET_PER_TRADE,
            z_net > -z_alpha,
            f"{mean_net:.1f} bps net per trade vs {base.mean_net_bps:.1f} out of sample (z={z_net:.2f})",
            {**sizes, "mean_net_bps": mean_net, "baseline_mean_net_bps": base.mean_net_bps, "z": z_net},
        ),
        Judgement(
            COSTS_PAID,
            z_cost < z_alpha,
            f"{mean_cost:.1f} bps paid per trade vs {base.mean_cost_bps:.1f} quoted out of sample (z={z_cost:.2f})",
            {**sizes, "mean_cost_bps": mean_cost, "baseline_mean_cost_bps": base.mean_cost_bps, "z": z_cost},
        ),
    ]
