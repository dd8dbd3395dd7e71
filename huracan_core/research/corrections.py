"""Judging the winner of a search against the search that produced it.

The best of many noisy candidates looks good by luck: its Sharpe is the largest of many estimates. Each figure
here corrects for that, or for luck in time, in its own way, and the winner is admitted only when all agree:

* the Deflated Sharpe Ratio (Bailey & López de Prado, 2014) asks whether its Sharpe beats the best Sharpe that as
  many luckless trials, as dispersed as the ones tried, would be expected to reach;
* Hansen's test of Superior Predictive Ability asks whether any candidate beats staying flat, with a p-value
  valid for the whole family however many were tried;
* the Probability of Backtest Overfitting (Bailey, Borwein, López de Prado & Zhu, 2015) asks how often the
  in-sample best of the same candidates falls to the lower half out of sample, over every way of cutting the
  record in two;
* the stability figures ask whether the record is made across quarters, regimes and years rather than in one
  stretch, each side (long, short) judged alone: a side that loses is disabled, not averaged away;
* the comparison with holding asks whether the record is more than exposure to the market's direction.

A candidate found here with a DSR of 0.97 over four years earned nothing over the following sixteen months: it
had timed two regimes. One long backtest's DSR does not see that; the stability and hold rules do.

Sharpe ratios are per period (mean over the standard deviation with ddof=1, as ``trading.metrics``), unless
named annualised. Skew and kurtosis are the sample's own moments (kurtosis not excess: 3 for a normal), as in the
DSR's derivation. A figure the data cannot define is NaN, never a neutral value (a DSR of 0.5 would read as
measured), and a NaN fails its rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, is_dataclass, replace
from datetime import date
from itertools import combinations
from statistics import NormalDist
from typing import Any, cast

import numpy as np
import polars as pl

_NORMAL = NormalDist()  # the standard library's: scipy would add a quarter of a second to every import


@dataclass(frozen=True)
class DeflatedSharpe:
    """``probability``: that the true Sharpe exceeds ``sr_star``, the largest Sharpe expected from ``trials``
    trials without skill whose Sharpes vary as much as those tried (``trial_sharpe_variance``); with one trial
    ``sr_star`` is 0 and the probability is the Probabilistic Sharpe Ratio. ``sharpe`` and ``sr_star`` are per
    period."""

    probability: float
    sharpe: float
    sr_star: float
    trials: int
    trial_sharpe_variance: float
    skew: float
    kurtosis: float
    periods: int


def deflated_sharpe(returns: np.ndarray, trial_sharpes: np.ndarray) -> DeflatedSharpe:
    """The DSR of the selected candidate's per-period ``returns``, given the per-period Sharpe of every candidate
    tried, the selected one included. NaN probability under 3 periods or with returns that never vary."""
    r = _finite_vector(returns, "returns")
    trials = _finite_vector(trial_sharpes, "trial_sharpes")
    if trials.size == 0:
        raise ValueError("trial_sharpes is empty: the selected candidate is itself a trial, so it needs at least one")
    variance = float(trials.var(ddof=1)) if trials.size > 1 else 0.0
    sr_star = _expected_max_sharpe(variance, trials.size)
    if r.size < 3 or bool((r == r[0]).all()):
        return DeflatedSharpe(math.nan, math.nan, sr_star, trials.size, variance, math.nan, math.nan, r.size)
    centred = r - r.mean()
    m2 = float(np.mean(centred**2))
    skew = float(np.mean(centred**3)) / m2**1.5
    kurtosis = float(np.mean(centred**4)) / m2**2
    sharpe = float(r.mean() / r.std(ddof=1))
    # Never negative for a sample's own moments (kurtosis ≥ skew² + 1); zero only for degenerate samples.
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    probability = (
        _NORMAL.cdf((sharpe - sr_star) * math.sqrt(r.size - 1) / math.sqrt(spread)) if spread > 0 else math.nan
    )
    return DeflatedSharpe(probability, sharpe, sr_star, trials.size, variance, skew, kurtosis, r.size)


def _expected_max_sharpe(variance: float, trials: int) -> float:
    """SR*: the expected largest of ``trials`` Sharpes drawn around zero with this variance (the false strategy
    theorem's approximation); 0 for a single trial, which is compared with no skill at all."""
    if trials == 1:
        return 0.0
    gamma = np.euler_gamma
    return math.sqrt(variance) * (
        (1.0 - gamma) * _NORMAL.inv_cdf(1.0 - 1.0 / trials) + gamma * _NORMAL.inv_cdf(1.0 - 1.0 / (trials * math.e))
    )


def spa_pvalue(returns: np.ndarray, *, block: int, reps: int, seed: int) -> float:
    """Hansen's consistent SPA p-value for "no candidate beats staying flat", from a T×N matrix of the candidates'
    per-period returns (losses: flat 0, each candidate −returns), by the stationary bootstrap with mean block
    length ``block`` periods. NaN under 3 periods.

    Studentized by hand: ``arch`` 8.0.0 records its ``studentize`` flag but never applies it, so each column is
    divided here by its long-run standard deviation — the same stationary-bootstrap kernel estimate ``arch``
    computes for it — before ``arch`` runs. Its statistic is then Hansen's max of t-statistics, so a volatile
    candidate cannot dominate the family by its scale alone; the consistent re-centring is unchanged, being
    scale-free, and were ``arch`` to apply the flag it would divide by 1. A constant column (a candidate that never
    traded) is left as it is: it neither beats nor loses to flat."""
    x = _finite_matrix(returns, "SPA")
    if block < 1:
        raise ValueError(f"SPA block must be >= 1 period, got {block}")
    if reps < 1:
        raise ValueError(f"SPA reps must be >= 1, got {reps}")
    if x.shape[0] < 3:
        return math.nan
    scale = _long_run_sd(x, block)
    constant = (x == x[0]).all(axis=0) | (scale <= 0.0)
    studentized = x / np.where(constant, 1.0, scale)
    from arch.bootstrap import SPA  # pandas and scipy.stats: 1–2 s, paid only when judging a search

    spa = SPA(
        np.zeros(x.shape[0]),
        -studentized,
        block_size=block,
        reps=reps,
        bootstrap="stationary",
        studentize=True,
        seed=seed,
    )
    spa.compute()
    return float(cast(float, spa.pvalues["consistent"]))  # one label: a scalar, not the Series pandas may return


def _long_run_sd(x: np.ndarray, block: int) -> np.ndarray:
    """Per column, the standard deviation of sqrt(T)·mean under the stationary bootstrap (Politis & Romano, 1994):
    autocovariances weighted by its kernel — ``arch``'s non-nested SPA variance, by FFT instead of a loop."""
    t = x.shape[0]
    d = x - x.mean(axis=0)
    spectrum = np.fft.rfft(d, n=2 * t, axis=0)
    autocov = np.fft.irfft(spectrum * spectrum.conj(), n=2 * t, axis=0)[:t] / t
    lag = np.arange(1, t)
    stay = 1.0 - 1.0 / block
    kernel = (1.0 - lag / t) * stay**lag + (lag / t) * stay ** (t - lag)
    variance = autocov[0] + 2.0 * (kernel[:, None] * autocov[1:]).sum(axis=0)
    return np.sqrt(np.maximum(variance, 0.0))


@dataclass(frozen=True)
class PBO:
    """``probability``: the share of the in-sample/out-of-sample cuts whose in-sample best candidate ranks in
    the lower half out of sample (logit ≤ 0); ``logit_median`` above 0 means the in-sample best usually stays
    above the median. ``reason`` says why the probability is NaN, None otherwise."""

    probability: float
    logit_median: float
    combinations: int
    splits: int
    candidates: int
    periods: int
    reason: str | None = None


def pbo_cscv(returns: np.ndarray, splits: int = 16) -> PBO:
    """Combinatorially symmetric cross-validation over a T×N matrix of the candidates' per-period returns: the
    rows cut into ``splits`` contiguous blocks (sizes differing by at most one), every choice of half of them
    in-sample and the rest out-of-sample. A candidate whose returns never vary over a half (flat: it did not
    trade) scores Sharpe 0 there; tied out-of-sample Sharpes share their mean rank."""
    x = _finite_matrix(returns, "PBO")
    if splits < 2 or splits % 2:
        raise ValueError(f"PBO splits must be an even number >= 2, got {splits}")
    periods, candidates = x.shape
    if candidates < 2:
        why = f"PBO needs at least 2 candidates to rank, got {candidates}"
        return PBO(math.nan, math.nan, 0, splits, candidates, periods, why)
    if periods < 2 * splits:
        why = f"PBO over {splits} splits needs at least {2 * splits} periods (2 per block), got {periods}"
        return PBO(math.nan, math.nan, 0, splits, candidates, periods, why)

    blocks = np.array_split(x, splits)
    counts = np.array([b.shape[0] for b in blocks], dtype=np.float64)
    sums = np.stack([b.sum(axis=0) for b in blocks])
    squares = np.stack([(b * b).sum(axis=0) for b in blocks])
    chosen = np.array(list(combinations(range(splits), splits // 2)))
    inside = np.zeros((chosen.shape[0], splits))
    inside[np.arange(chosen.shape[0])[:, None], chosen] = 1.0

    in_sample = _half_sharpes(inside, counts, sums, squares)
    out_of_sample = _half_sharpes(1.0 - inside, counts, sums, squares)
    best = out_of_sample[np.arange(chosen.shape[0]), in_sample.argmax(axis=1)][:, None]
    rank = (out_of_sample < best).sum(axis=1) + ((out_of_sample == best).sum(axis=1) + 1) / 2.0
    omega = rank / (candidates + 1)
    logits = np.log(omega / (1.0 - omega))
    return PBO(float(np.mean(logits <= 0.0)), float(np.median(logits)), chosen.shape[0], splits, candidates, periods)


def _half_sharpes(member: np.ndarray, counts: np.ndarray, sums: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """Sharpe of every candidate over the blocks each row of ``member`` (0/1 per block) selects, from the blocks'
    row counts, sums and sums of squares. Uncentred sums keep a flat half exactly flat (all zeros in, variance 0
    out); returns' means are small beside their spread, so nothing is lost to cancellation."""
    n = (member @ counts)[:, None]
    total = member @ sums
    mean = total / n
    sd = np.sqrt(np.maximum((member @ squares - total * mean) / (n - 1.0), 0.0))
    return np.divide(mean, sd, out=np.zeros_like(mean), where=sd > 0.0)


@dataclass(frozen=True)
class Tally:
    """Trades, their summed net PnL and their mean net bps (NaN without trades)."""

    trades: int
    net_pnl: float
    mean_net_bps: float


@dataclass(frozen=True)
class Stability:
    """How the record is spread in time, across regimes and between sides. Trades count in the quarter and year of
    their exit (UTC), when their PnL is realised, as on the equity curve.

    ``quarter_pnl``: net PnL per calendar quarter traded ("2023Q4"). ``year_pnl``: per calendar year of the record
    (the daily series' span and the trades' exits), 0 for a year without exits. ``year_share``: each year's share
    of ``total_pnl``, only when the total is positive — a share of a loss or of nothing says nothing, so the shares
    and ``largest_year_share`` are NaN then and the year rule fails on the record not being positive.
    ``losing_regimes`` and ``losing_sides``: those traded whose net PnL is ≤ 0."""

    quarter_pnl: dict[str, float]
    quarters_traded: int
    quarters_positive: int
    quarters_positive_share: float
    regimes: dict[str, Tally]
    losing_regimes: tuple[str, ...]
    year_pnl: dict[int, float]
    years_spanned: int
    year_share: dict[int, float]
    largest_year: int | None
    largest_year_share: float
    total_pnl: float
    sides: dict[str, Tally]
    losing_sides: tuple[str, ...]


TRADE_COLUMNS = ("exit_time", "direction", "net_bps", "net_pnl", "regime")


def stability(trades: pl.DataFrame, daily: pl.DataFrame) -> Stability:
    """The stability figures of one candidate's out-of-sample ``trades`` over its record ``daily`` (one row per
    day, column ``day``); see ``Stability``. Every trade must exit within the daily record."""
    t = _checked_trades(trades)
    days = sorted(_checked_days(daily))
    exits = sorted(t["exit_day"].unique())
    if exits and (not days or exits[0] < days[0] or exits[-1] > days[-1]):
        span = f"{days[0]}…{days[-1]}" if days else "an empty record"
        raise ValueError(
            f"trades exit on {exits[0]}…{exits[-1]}, outside the daily record ({span}): the trades and the daily "
            "returns must be the same candidate's on the same window"
        )

    quarters = t.group_by("year", "quarter").agg(pl.col("net_pnl").sum()).sort("year", "quarter")
    quarter_pnl = {f"{y}Q{q}": float(p) for y, q, p in quarters.iter_rows()}
    positive = sum(p > 0.0 for p in quarter_pnl.values())

    regimes = _tallies(t, "regime")
    sides = {side: Tally(0, 0.0, math.nan) for side in ("long", "short")} | _tallies(t, "side")

    total = float(t["net_pnl"].sum())
    traded_years = {int(y): float(p) for y, p in t.group_by("year").agg(pl.col("net_pnl").sum()).iter_rows()}
    bounds = [d.year for d in days[:1] + days[-1:]] + list(traded_years)
    years = range(min(bounds), max(bounds) + 1) if bounds else range(0)
    year_pnl = {y: traded_years.get(y, 0.0) for y in years}
    year_share = {y: p / total if total > 0.0 else math.nan for y, p in year_pnl.items()}
    largest = max(year_share, key=lambda y: year_share[y]) if total > 0.0 else None

    return Stability(
        quarter_pnl=quarter_pnl,
        quarters_traded=len(quarter_pnl),
        quarters_positive=positive,
        quarters_positive_share=positive / len(quarter_pnl) if quarter_pnl else math.nan,
        regimes=regimes,
        losing_regimes=tuple(r for r, tally in regimes.items() if tally.net_pnl <= 0.0),
        year_pnl=year_pnl,
        years_spanned=len(year_pnl),
        year_share=year_share,
        largest_year=largest,
        largest_year_share=year_share[largest] if largest is not None else math.nan,
        total_pnl=total,
        sides=sides,
        losing_sides=tuple(s for s, tally in sides.items() if tally.trades and tally.net_pnl <= 0.0),
    )


def _checked_trades(trades: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in TRADE_COLUMNS if c not in trades.columns]
    if missing:
        raise ValueError(f"trades lack column(s) {', '.join(missing)}; stability needs {', '.join(TRADE_COLUMNS)}")
    dtype = trades.schema["exit_time"]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise ValueError(f"trades exit_time must be a time-zone-aware Datetime (UTC), got {dtype}")
    for column in ("exit_time", "direction", "net_bps", "net_pnl", "regime"):
        if trades[column].null_count():
            raise ValueError(f"trades have {trades[column].null_count()} missing {column} value(s)")
    sides = set(trades["direction"].unique().to_list())
    if not sides <= {1, -1}:
        raise ValueError(f"trades direction must be +1 (long) or -1 (short), got {sorted(sides - {1, -1})}")
    for column in ("net_bps", "net_pnl"):
        if not np.isfinite(trades[column].cast(pl.Float64).to_numpy()).all():
            raise ValueError(f"trades have non-finite {column} values")
    exit_utc = pl.col("exit_time").dt.convert_time_zone("UTC")
    return trades.select(
        exit_day=exit_utc.dt.date(),
        year=exit_utc.dt.year(),
        quarter=exit_utc.dt.quarter(),
        side=pl.when(pl.col("direction") == 1).then(pl.lit("long")).otherwise(pl.lit("short")),
        regime=pl.col("regime").cast(pl.String),
        net_bps=pl.col("net_bps").cast(pl.Float64),
        net_pnl=pl.col("net_pnl").cast(pl.Float64),
    )


def _checked_days(daily: pl.DataFrame) -> list[date]:
    if "day" not in daily.columns:
        raise ValueError("daily lacks column day; stability takes the record's calendar span from it")
    if daily.schema["day"] != pl.Date:
        raise ValueError(f"daily day must be a Date, got {daily.schema['day']}")
    if daily["day"].null_count():
        raise ValueError(f"daily has {daily['day'].null_count()} missing day value(s)")
    return daily["day"].to_list()


def _tallies(t: pl.DataFrame, key: str) -> dict[str, Tally]:
    rows = (
        t.group_by(key)
        .agg(pl.len().alias("trades"), pl.col("net_pnl").sum(), pl.col("net_bps").mean())
        .sort(key)
        .iter_rows()
    )
    return {str(k): Tally(int(n), float(pnl), float(bps)) for k, n, pnl, bps in rows}


@dataclass(frozen=True)
class HoldComparison:
    """The candidate against holding over the same days, both after costs. Sharpes are annualised;
    ``excess_sharpe`` is the information ratio of the daily difference (candidate − hold). Total returns are
    compounded. ``beats``: the difference's Sharpe is positive and the candidate's total exceeds the hold's."""

    sharpe: float
    hold_sharpe: float
    excess_sharpe: float
    total_return: float
    hold_total_return: float
    periods: int
    beats: bool


def versus_hold(daily: np.ndarray, hold: np.ndarray, periods_per_year: float) -> HoldComparison:
    """The candidate's per-period returns (fractions) against the hold's on the same periods. Holding earns the
    market's direction for free: a candidate that does no better has shown exposure, not skill."""
    candidate = _finite_vector(daily, "candidate daily returns")
    held = _finite_vector(hold, "hold returns")
    if candidate.size != held.size:
        raise ValueError(
            f"candidate has {candidate.size} periods but the hold {held.size}: they must cover the same periods"
        )
    if not (math.isfinite(periods_per_year) and periods_per_year > 0.0):
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")
    excess = _annualised_sharpe(candidate - held, periods_per_year)
    total = float(np.prod(1.0 + candidate) - 1.0)
    hold_total = float(np.prod(1.0 + held) - 1.0)
    return HoldComparison(
        sharpe=_annualised_sharpe(candidate, periods_per_year),
        hold_sharpe=_annualised_sharpe(held, periods_per_year),
        excess_sharpe=excess,
        total_return=total,
        hold_total_return=hold_total,
        periods=candidate.size,
        beats=bool(excess > 0.0 and total > hold_total),
    )


def _annualised_sharpe(r: np.ndarray, periods_per_year: float) -> float:
    if r.size < 2 or bool((r == r[0]).all()):
        return math.nan
    return float(r.mean() / r.std(ddof=1) * math.sqrt(periods_per_year))


@dataclass(frozen=True)
class SearchRules:
    """What the winner of a search must show to become a challenger. ``max_year_share`` applies only to a record
    spanning at least two calendar years (one year carries all of a one-year record). ``spa_block`` is in
    periods of the returns given to the SPA."""

    min_dsr: float = 0.95
    spa_alpha: float = 0.05
    max_pbo: float = 0.2
    min_quarters_positive: float = 0.6
    max_year_share: float = 0.5
    every_regime_positive: bool = True
    pbo_splits: int = 16
    spa_reps: int = 1000
    spa_block: int = 5
    seed: int = 7

    def __post_init__(self) -> None:
        _need("min_dsr", 0.0 <= self.min_dsr <= 1.0, "in [0, 1]", self.min_dsr)
        _need("spa_alpha", 0.0 < self.spa_alpha < 1.0, "in (0, 1)", self.spa_alpha)
        _need("max_pbo", 0.0 <= self.max_pbo <= 1.0, "in [0, 1]", self.max_pbo)
        _need(
            "min_quarters_positive", 0.0 <= self.min_quarters_positive <= 1.0, "in [0, 1]", self.min_quarters_positive
        )
        _need("max_year_share", 0.0 < self.max_year_share <= 1.0, "in (0, 1]", self.max_year_share)
        # C(splits, splits/2) cuts, each ranking every candidate: 20 gives 184,756 and 22 would give 705,432
        even = self.pbo_splits % 2 == 0 and 2 <= self.pbo_splits <= 20
        _need("pbo_splits", even, "an even number in [2, 20]", self.pbo_splits)
        _need("spa_reps", self.spa_reps >= 1, ">= 1", self.spa_reps)
        _need("spa_block", self.spa_block >= 1, ">= 1 period", self.spa_block)
        _need("seed", self.seed >= 0, ">= 0", self.seed)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> SearchRules:
        """Rules from configuration: the defaults, overridden by ``mapping``; an unknown key or a value of the
        wrong type or range is refused with a one-line error naming the key."""
        kinds = {f.name: type(getattr(cls(), f.name)) for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in mapping.items():
            if key not in kinds:
                raise ValueError(f"unknown search rule {key!r} (known: {', '.join(kinds)})")
            kind = kinds[key]
            accepted = (int, float) if kind is float else kind  # an integer is a fine float; a bool is no number
            if isinstance(value, bool) != (kind is bool) or not isinstance(value, accepted):
                raise ValueError(f"search rule {key} must be {kind.__name__}, got {value!r}")
            values[key] = float(cast(float, value)) if kind is float else value
        return replace(cls(), **values)


def _need(key: str, ok: bool, need: str, value: object) -> None:
    if not ok:
        raise ValueError(f"search rule {key} must be {need}, got {value!r}")


@dataclass(frozen=True)
class Admission:
    """The verdict on a search's winner: ``reasons`` lists every rule it failed, with its figure and the need;
    ``notes`` what was judged without failing (a rule not applied and why, a side disabled)."""

    admitted: bool
    reasons: list[str]
    notes: list[str]
    gates_passed: bool
    dsr: DeflatedSharpe
    spa_p: float
    pbo: PBO
    stable: Stability
    hold: HoldComparison
    universe_hold: HoldComparison | None
    rules: SearchRules

    def to_dict(self) -> dict[str, Any]:
        """Every figure, JSON-safe: plain floats, NaN and infinities as None, string keys."""
        return cast(dict[str, Any], _plain({f.name: getattr(self, f.name) for f in fields(self)}))


def admit(
    gates_passed: bool,
    dsr: DeflatedSharpe,
    spa_p: float,
    pbo: PBO,
    stable: Stability,
    hold: HoldComparison,
    rules: SearchRules,
    universe_hold: HoldComparison | None = None,
) -> Admission:
    """Apply every rule and list each failure; a figure that is NaN fails its rule. ``universe_hold``, for a
    pooled model, is the equal-weight universe held over the same days, which it must beat too."""
    reasons: list[str] = []
    notes: list[str] = []
    if not gates_passed:
        reasons.append("gates failed")
    if not dsr.probability >= rules.min_dsr:
        figure = (
            f"{dsr.probability:.3f}"
            if math.isfinite(dsr.probability)
            else f"undefined ({dsr.periods} periods; needs at least 3 with varying returns)"
        )
        reasons.append(f"DSR {figure} < {rules.min_dsr:g} over {dsr.trials} trials")
    if not spa_p < rules.spa_alpha:
        figure = f"{spa_p:.3f}" if math.isfinite(spa_p) else "undefined (fewer than 3 periods)"
        reasons.append(f"SPA p {figure} ≥ {rules.spa_alpha:g}: the candidates do not beat staying flat")
    if not pbo.probability <= rules.max_pbo:
        if math.isfinite(pbo.probability):
            reasons.append(
                f"PBO {pbo.probability:.3f} > {rules.max_pbo:g} over {pbo.combinations} combinations of "
                f"{pbo.splits} splits"
            )
        else:
            reasons.append(f"PBO undefined: {pbo.reason}")
    _judge_time(stable, rules, reasons, notes)
    _judge_hold(hold, "holding the coin", reasons)
    if universe_hold is not None:
        _judge_hold(universe_hold, "holding the equal-weight universe", reasons)
    return Admission(not reasons, reasons, notes, gates_passed, dsr, spa_p, pbo, stable, hold, universe_hold, rules)


def _judge_time(stable: Stability, rules: SearchRules, reasons: list[str], notes: list[str]) -> None:
    if not stable.quarter_pnl:
        reasons.append("no quarter traded: no trades to judge")
    elif not stable.quarters_positive_share >= rules.min_quarters_positive:
        reasons.append(
            f"positive in {stable.quarters_positive} of {stable.quarters_traded} quarters traded "
            f"({stable.quarters_positive_share:.3f}) < {rules.min_quarters_positive:g}"
        )
    if rules.every_regime_positive:
        for regime in stable.losing_regimes:
            tally = stable.regimes[regime]
            reasons.append(f"regime {regime} net {tally.net_pnl:+.2f} over {tally.trades} trades, needs > 0")
    if stable.years_spanned < 2:
        notes.append(f"year-share rule not applied: the record spans {stable.years_spanned} calendar year(s), needs 2")
    elif stable.total_pnl <= 0.0:
        reasons.append(
            f"net PnL {stable.total_pnl:+.2f} ≤ 0 over {stable.years_spanned} calendar years: the record is not "
            "positive, so no year share can be judged"
        )
    elif not stable.largest_year_share <= rules.max_year_share:
        reasons.append(
            f"{stable.largest_year} carries {stable.largest_year_share:.3f} of the net PnL > {rules.max_year_share:g}"
        )
    traded = [s for s, tally in stable.sides.items() if tally.trades]
    for side in stable.losing_sides:
        tally = stable.sides[side]
        notes.append(
            f"{side} side disabled: net {tally.net_pnl:+.2f} over {tally.trades} trades "
            f"({tally.mean_net_bps:+.1f} bps each)"
        )
    if traded and set(traded) <= set(stable.losing_sides):
        reasons.append(f"every side traded loses ({', '.join(traded)}): nothing is left to trade")


def _judge_hold(hold: HoldComparison, what: str, reasons: list[str]) -> None:
    if not hold.beats:
        reasons.append(
            f"does not beat {what}: Sharpe of the difference {hold.excess_sharpe:.3f} (needs > 0), total return "
            f"{hold.total_return:+.2%} vs {hold.hold_total_return:+.2%}"
        )


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    raise TypeError(f"no JSON form for {type(value).__name__}: {value!r}")


def _finite_vector(values: np.ndarray, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {v.shape}")
    if not np.isfinite(v).all():
        bad = np.flatnonzero(~np.isfinite(v))
        raise ValueError(f"{name} has {bad.size} NaN or infinite value(s), first at index {bad[0]}")
    return v


def _finite_matrix(values: np.ndarray, test: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"{test} returns must be a T×N matrix (periods × candidates), got shape {x.shape}")
    if not np.isfinite(x).all():
        columns = np.flatnonzero(~np.isfinite(x).all(axis=0))
        raise ValueError(f"{test} returns of candidate column(s) {columns.tolist()} hold NaN or infinite values")
    return x
