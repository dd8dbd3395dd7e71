"""The promotion rule: may a challenger model replace a coin's champion?

Both models are judged on the *same* recent out-of-sample window, as per-period net returns (bps after costs,
summed over the trades entering in each period, 0 when flat). Pairing the two series period by period removes
the market's common moves from the comparison: what is tested is the per-period difference, whose noise is far
smaller than either model's own. The difference is autocorrelated (trades span periods, regimes persist), so its
mean is tested with a stationary block bootstrap rather than a t-test.

With several challengers the best of them looks better than it is — picking a maximum of noisy means is a
multiple comparison — so the family is tested at once with Hansen's test of Superior Predictive Ability (SPA),
whose p-value is for "no challenger beats the champion" and stays valid however many were tried. (In
``arch`` 8.0.0 the ``studentize`` flag of ``SPA`` is recorded but not applied: the statistic is the largest
raw mean difference, with Hansen's consistent re-centring. The size is still controlled; only power is lost
when challengers' volatilities differ.)

Doubt keeps the champion: a challenger must pass its gates, trade enough, beat the champion by a margin per
day after costs, and do so at the configured confidence. A coin's first gate-passing model that makes money on
the window becomes its champion without a test, since there is nothing to pair it with. Every call returns a
``Decision`` carrying the reason and the figures, whether or not anything changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Literal, cast

import numpy as np
import polars as pl

Test = Literal["none", "first-champion", "stationary-bootstrap", "spa"]
Figure = float | int | str | None


def period_returns(
    ledger: pl.DataFrame, start: datetime, end: datetime, period: timedelta = timedelta(hours=1)
) -> np.ndarray:
    """Per-period net bps over [start, end): each trade's ``net_bps`` summed into the period of its
    ``entry_time``; periods without trades are 0; trades entering outside the window are ignored. The length is
    the number of periods in the window, the last one possibly partial, so two ledgers on one window pair up."""
    missing = [c for c in ("entry_time", "net_bps") if c not in ledger.columns]
    if missing:
        raise ValueError(
            f"trade ledger lacks column(s) {', '.join(missing)}; period returns need entry_time and net_bps"
        )
    dtype = ledger.schema["entry_time"]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise ValueError(f"trade ledger entry_time must be a time-zone-aware Datetime (UTC), got {dtype}")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError(f"window bounds must be time-zone-aware (UTC), got start={start}, end={end}")
    if end <= start:
        raise ValueError(f"window end {end} is not after its start {start}")
    if period <= timedelta(0):
        raise ValueError(f"period must be positive, got {period}")
    n_periods = period_count(start, end, period)

    no_entry = ledger["entry_time"].null_count()
    if no_entry:
        raise ValueError(f"trade ledger has {no_entry} trade(s) without entry_time")
    inside = ledger.filter((pl.col("entry_time") >= start) & (pl.col("entry_time") < end))
    net = inside["net_bps"].cast(pl.Float64)
    if net.null_count() or not np.isfinite(net.to_numpy()).all():
        raise ValueError(f"trade ledger has missing or non-finite net_bps for trades entering in [{start}, {end})")
    period_us = period // timedelta(microseconds=1)
    index = inside.select(((pl.col("entry_time") - start).dt.total_microseconds() // period_us).alias("i"))["i"]
    return np.bincount(index.to_numpy().astype(np.int64), weights=net.to_numpy(), minlength=n_periods)


def period_count(start: datetime, end: datetime, period: timedelta) -> int:
    """Periods in [start, end), the last one possibly partial: the length every paired return series has."""
    whole, rest = divmod(end - start, period)
    return whole + (rest > timedelta(0))


@dataclass(frozen=True)
class PromotionRule:
    """``margin_bps_per_day``: the challenger's mean advantage after costs must exceed it. ``block_periods``:
    expected block length of the stationary bootstrap, in periods. ``period_hours``: the length of one period of
    the return series, to convert per-day figures."""

    confidence: float = 0.95
    margin_bps_per_day: float = 2.0
    min_trades: int = 20
    block_periods: int = 12
    reps: int = 2000
    seed: int = 7
    period_hours: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"promotion confidence must be in (0, 1), got {self.confidence}")
        if not (math.isfinite(self.margin_bps_per_day) and self.margin_bps_per_day >= 0.0):
            raise ValueError(f"promotion margin_bps_per_day must be finite and >= 0, got {self.margin_bps_per_day}")
        if self.min_trades < 0:
            raise ValueError(f"promotion min_trades must be >= 0, got {self.min_trades}")
        if self.block_periods < 1:
            raise ValueError(f"promotion block_periods must be >= 1, got {self.block_periods}")
        if self.reps < 1:
            raise ValueError(f"promotion reps must be >= 1, got {self.reps}")
        if not (math.isfinite(self.period_hours) and self.period_hours > 0.0):
            raise ValueError(f"promotion period_hours must be positive, got {self.period_hours}")

    @property
    def alpha(self) -> float:
        return 1.0 - self.confidence

    @property
    def periods_per_day(self) -> float:
        return 24.0 / self.period_hours

    @property
    def margin_per_period(self) -> float:
        return self.margin_bps_per_day / self.periods_per_day

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class Contender:
    """A model offered on the comparison window. ``name`` is its model folder; ``returns`` its per-period net
    bps on the window (see ``period_returns``); ``trades`` the trades it entered in the window."""

    name: str
    passed_gates: bool
    gate_summary: str
    returns: np.ndarray
    trades: int


@dataclass(frozen=True)
class Decision:
    """What the rule decided and why. ``figures`` has one entry per contender: ``status`` (champion, eligible,
    or why it is out), ``trades``, ``mean_bps_per_day`` and, when there is a champion,
    ``mean_diff_bps_per_day`` (challenger minus champion, after costs, before the margin); ``p_value`` when the
    contender was tested on its own. The SPA p-value, for the family, is ``p_value`` of the decision."""

    promoted: bool
    winner: str | None
    champion_after: str | None
    reason: str
    test: Test
    p_value: float | None
    figures: dict[str, dict[str, Figure]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe: a non-finite number becomes None."""
        return {
            "promoted": self.promoted,
            "winner": self.winner,
            "champion_after": self.champion_after,
            "reason": self.reason,
            "test": self.test,
            "p_value": _finite_or_none(self.p_value),
            "figures": {
                name: {k: _finite_or_none(v) if isinstance(v, float) else v for k, v in figs.items()}
                for name, figs in self.figures.items()
            },
        }


def decide(
    champion: Contender | None, challengers: Sequence[Contender], rule: PromotionRule = PromotionRule()
) -> Decision:
    """Apply the promotion rule to one coin. Ties and doubt keep the champion; see the module docstring."""
    _check_contenders(champion, challengers)
    figures: dict[str, dict[str, Figure]] = {}
    if champion is not None:
        figures[champion.name] = {"status": "champion", **_base_figures(champion, rule)}

    eligible: list[Contender] = []
    excluded: list[str] = []
    for c in challengers:
        if champion is not None and c.name == champion.name:
            figures[c.name]["status"] = "champion (also offered as challenger: already champion, ignored)"
            excluded.append(f"{c.name} already champion")
            continue
        status = _exclusion(c, rule)
        figures[c.name] = {"status": status or "eligible", **_base_figures(c, rule)}
        if champion is not None:
            figures[c.name]["mean_diff_bps_per_day"] = _per_day(np.mean(c.returns - champion.returns), rule)
        if status:
            excluded.append(f"{c.name} {status}")
        else:
            eligible.append(c)

    if champion is None:
        return _first_champion(eligible, excluded, figures, rule)
    if not eligible:
        why = "; ".join(excluded) if excluded else "none offered"
        return Decision(
            False,
            None,
            champion.name,
            f"kept champion {champion.name}: no eligible challenger ({why})",
            "none",
            None,
            figures,
        )
    if len(eligible) == 1:
        return _paired_bootstrap(champion, eligible[0], figures, rule)
    return _spa(champion, eligible, figures, rule)


def _first_champion(
    eligible: list[Contender], excluded: list[str], figures: dict[str, dict[str, Figure]], rule: PromotionRule
) -> Decision:
    if not eligible:
        why = "; ".join(excluded) if excluded else "none offered"
        return Decision(False, None, None, f"no champion yet and no eligible challenger ({why})", "none", None, figures)
    best = max(eligible, key=lambda c: float(np.mean(c.returns)))
    per_day = _per_day(np.mean(best.returns), rule)
    if np.mean(best.returns) > 0.0:
        return Decision(
            True,
            best.name,
            best.name,
            f"first champion {best.name}: passed its gates and made {per_day:+.2f} bps/day after costs "
            f"over {best.returns.size} periods ({best.trades} trades), "
            f"the best of {len(eligible)} eligible",
            "first-champion",
            None,
            figures,
        )
    return Decision(
        False,
        None,
        None,
        f"no champion yet: the best eligible challenger {best.name} does not make money after costs "
        f"({per_day:+.2f} bps/day over {best.returns.size} periods)",
        "first-champion",
        None,
        figures,
    )


def _paired_bootstrap(
    champion: Contender, challenger: Contender, figures: dict[str, dict[str, Figure]], rule: PromotionRule
) -> Decision:
    """One-sided H0: mean(d) <= 0, d = challenger − champion − margin per period. The bootstrap means of d are
    re-centred under H0; p is the share of them at or above the observed mean."""
    d = challenger.returns - champion.returns - rule.margin_per_period
    observed = float(d.mean())
    from arch.bootstrap import StationaryBootstrap  # pandas and scipy: 1–2 s, paid only when deciding

    bootstrap = StationaryBootstrap(rule.block_periods, d, seed=rule.seed)
    means = bootstrap.apply(np.mean, reps=rule.reps)[:, 0]
    p_value = float(np.mean(means - observed >= observed))
    figures[challenger.name]["p_value"] = p_value
    test = f"stationary bootstrap p={p_value:.3f}, {d.size} periods, {challenger.trades} trades"
    return _verdict(champion, challenger, observed, p_value, test, "stationary-bootstrap", figures, rule)


def _spa(
    champion: Contender, eligible: list[Contender], figures: dict[str, dict[str, Figure]], rule: PromotionRule
) -> Decision:
    """Hansen's SPA on losses = −returns, the margin added to each challenger's loss, so that the loss
    differential benchmark − model is each challenger's d."""
    models = np.column_stack([-c.returns + rule.margin_per_period for c in eligible])
    from arch.bootstrap import SPA

    spa = SPA(
        -champion.returns,
        models,
        block_size=rule.block_periods,
        reps=rule.reps,
        bootstrap="stationary",
        studentize=True,
        seed=rule.seed,
    )
    spa.compute()
    p_value = float(cast(float, spa.pvalues["consistent"]))  # one label: a scalar, not the Series pandas may return
    mean_d = (-champion.returns[:, None] - models).mean(axis=0)
    best = int(np.argmax(mean_d))
    test = f"SPA p={p_value:.3f} over {len(eligible)} challengers, {models.shape[0]} periods"
    return _verdict(champion, eligible[best], float(mean_d[best]), p_value, test, "spa", figures, rule)


def _verdict(
    champion: Contender,
    challenger: Contender,
    mean_d: float,
    p_value: float,
    test_text: str,
    test: Test,
    figures: dict[str, dict[str, Figure]],
    rule: PromotionRule,
) -> Decision:
    advantage = _per_day(mean_d, rule) + rule.margin_bps_per_day
    margin = f"{rule.margin_bps_per_day:.2f} bps/day margin"
    if p_value < rule.alpha and mean_d > 0.0:
        return Decision(
            True,
            challenger.name,
            challenger.name,
            f"promoted {challenger.name} over champion {champion.name}: advantage {advantage:+.2f} "
            f"bps/day after costs beats the {margin} ({test_text} < {rule.alpha:.3f})",
            test,
            p_value,
            figures,
        )
    if np.array_equal(challenger.returns, champion.returns):
        why = f"{challenger.name} returns equal the champion's on every period (tie; {test_text})"
    elif mean_d <= 0.0:
        why = (
            f"{challenger.name} advantage {advantage:+.2f} bps/day after costs does not exceed the {margin} "
            f"({test_text})"
        )
    else:
        why = (
            f"{challenger.name} advantage {advantage:+.2f} bps/day after costs beats the {margin} but is not "
            f"significant ({test_text} >= {rule.alpha:.3f})"
        )
    return Decision(False, None, champion.name, f"kept champion {champion.name}: {why}", test, p_value, figures)


def _check_contenders(champion: Contender | None, challengers: Sequence[Contender]) -> None:
    for c in ([champion] if champion is not None else []) + list(challengers):
        r = np.asarray(c.returns)
        if r.ndim != 1 or r.size == 0:
            raise ValueError(f"contender {c.name!r}: returns must be a non-empty 1-D array, got shape {r.shape}")
        if not np.isfinite(r).all():
            raise ValueError(f"contender {c.name!r}: returns contain NaN or infinite values")
    names = [c.name for c in challengers]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"challenger names must be unique; offered more than once: {', '.join(twice)}")
    reference = champion if champion is not None else (challengers[0] if challengers else None)
    for c in challengers:
        if reference is not None and c.returns.size != reference.returns.size:
            role = "champion" if reference is champion else "first challenger"
            raise ValueError(
                f"challenger {c.name!r} has {c.returns.size} periods but {role} {reference.name!r} has "
                f"{reference.returns.size}: promotion compares paired returns on the same window"
            )


def _exclusion(c: Contender, rule: PromotionRule) -> str:
    if not c.passed_gates:
        return f"failed gates: {c.gate_summary}"
    if c.trades < rule.min_trades:
        return f"too few trades: {c.trades} < {rule.min_trades}"
    return ""


def _base_figures(c: Contender, rule: PromotionRule) -> dict[str, Figure]:
    return {"trades": int(c.trades), "mean_bps_per_day": _per_day(np.mean(c.returns), rule)}


def _per_day(per_period: float | np.floating, rule: PromotionRule) -> float:
    return float(per_period) * rule.periods_per_day


def _finite_or_none(x: float | None) -> float | None:
    return x if x is None or math.isfinite(x) else None
