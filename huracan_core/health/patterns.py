"""Pattern health: a pattern's after-cost record, and the sequential tests that pause it and lift the pause.

A pattern is the stable key ``REGIME:side:engines`` (the bar's regime, long or short, the engines that agreed),
so the same situation keeps its record across days and models. Its record is the after-cost bps of its trades in
exit order.

The pause test is a one-sided CUSUM on each trade's shortfall against the pattern's own history, in units of the
history's spread: ``S = max(0, S + (mean − x) / sd − drift)``, alarming when ``S ≥ threshold``. The history is
every trade before the current run of ``S > 0``, so the reference is never contaminated by the stretch under
suspicion, and a pattern needs ``min_history`` trades of history before it can be judged at all. ``drift`` is half
the shift (in history sds) the test is tuned to catch; ``threshold`` sets the false-pause rate (measured in
``tests/core/test_health_patterns.py``).

The recovery test is the mirror image on the trades a paused pattern *would* have taken (the shadow trader
simulates them apart, see ``desk.shadow_day``): ``R = max(0, R + (x − mean) / sd + drift)`` alarms when the would-be
record is back to its history — the collapse the pause was tuned to catch (2 × drift) is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

SIDES = {1: "long", -1: "short"}


@dataclass(frozen=True)
class PatternHealthConfig:
    #: half the shift the pause is tuned to catch, in history standard deviations (CUSUM's k)
    drift: float = 0.5
    #: the CUSUM's decision level (h): higher pauses less often at the null and later on a collapse
    threshold: float = 10.0
    #: trades of history a pattern needs before its record is judged
    min_history: int = 50
    #: the recovery CUSUM's decision level on the would-be trades of a paused pattern
    recovery_threshold: float = 5.0


def pattern_key(regime: pl.Expr, direction: pl.Expr, engines: pl.Expr) -> pl.Expr:
    """``REGIME:side:engines`` (engines as the consensus lists them; ``none`` when no engine agreed)."""
    side = direction.replace_strict(SIDES, default="flat", return_dtype=pl.String)
    return pl.concat_str(
        [
            regime.fill_null("UNKNOWN"),
            side,
            pl.when(engines.fill_null("") == "").then(pl.lit("none")).otherwise(engines),
        ],
        separator=":",
    )


def pattern_of(regime: str | None, direction: int, engines: str | None) -> str:
    """One call's pattern key, as ``pattern_key`` builds it for a frame (Hamilton decides one call at a time)."""
    return str(
        pl.select(pattern_key(pl.lit(regime, pl.String), pl.lit(direction, pl.Int8), pl.lit(engines, pl.String))).item()
    )


def ledger_patterns(ledger: pl.DataFrame) -> pl.Series:
    """Each trade's pattern key (the ledger's ``regime``, ``direction`` and ``engines_agreeing``)."""
    return ledger.select(
        pattern_key(pl.col("regime"), pl.col("direction"), pl.col("engines_agreeing")).alias("pattern")
    ).to_series()


def pattern_records(ledger: pl.DataFrame) -> list[dict[str, Any]]:
    """Each pattern's trades in ``ledger`` (``net_pnl``, ``net_bps`` and the pattern columns), their win rate and
    after-cost P&L, the best P&L first: what a day's top and worst patterns are read from. A pattern's ``hit_rate_pct``
    counts a trade that made money after costs, as the daily summary's does."""
    if ledger.is_empty():
        return []
    records = (
        ledger.with_columns(pattern=ledger_patterns(ledger))
        .group_by("pattern")
        .agg(
            trades=pl.len(),
            hit_rate_pct=(100 * (pl.col("net_pnl") > 0).mean()).round(2),
            net_pnl=pl.col("net_pnl").sum().round(6),
            mean_net_bps=pl.col("net_bps").mean().round(4),
        )
        .sort(["net_pnl", "pattern"], descending=[True, False])
    )
    return records.to_dicts()


@dataclass(frozen=True)
class Alarm:
    #: index of the trade at which the test alarmed
    at: int
    statistic: float
    history_trades: int
    history_mean_bps: float
    history_sd_bps: float
    #: the stretch under suspicion: its trades and their mean
    recent_trades: int
    recent_mean_bps: float

    def describe(self) -> str:
        return (
            f"last {self.recent_trades} trades {self.recent_mean_bps:.1f} bps net on average against "
            f"{self.history_mean_bps:.1f} ± {self.history_sd_bps:.1f} over {self.history_trades} before them "
            f"(CUSUM {self.statistic:.2f})"
        )


def pause_alarm(net_bps: np.ndarray, config: PatternHealthConfig, start: int = 0) -> Alarm | None:
    """The first alarm of the pause CUSUM over ``net_bps[start:]`` (earlier trades still count as history), or
    None. ``start``: where monitoring (re)starts, e.g. after the pattern was resumed."""
    s, run = 0.0, start
    for t in range(start, len(net_bps)):
        history = net_bps[:run]
        if len(history) < config.min_history:
            run = t + 1
            continue
        mean, sd = float(history.mean()), float(history.std(ddof=1))
        if sd == 0:
            run = t + 1
            continue
        s = max(0.0, s + (mean - net_bps[t]) / sd - config.drift)
        if s >= config.threshold:
            recent = net_bps[run : t + 1]
            return Alarm(t, s, run, mean, sd, len(recent), float(recent.mean()))
        if s == 0:
            run = t + 1
    return None


def recovery_at(
    would_be_bps: np.ndarray, history_mean: float, history_sd: float, config: PatternHealthConfig
) -> int | None:
    """Index of the would-be trade at which a paused pattern's record is back to its history, or None."""
    r = 0.0
    for t, x in enumerate(would_be_bps):
        r = max(0.0, r + (x - history_mean) / history_sd + config.drift)
        if r >= config.recovery_threshold:
            return t
    return None
