"""Anomaly checks of a champion's trading days: the shadow trader's (``shadow_trades``) and Hamilton's
(``paper_trades``), each day against its champion's out-of-sample record (``health.anomalies``).

Evaluated inside the asset, one verdict per judged partition (``verdicts``). WARN, not ERROR: each is a
statistical alarm that fires at the configured rate ``alpha`` on a healthy champion, so it asks a person to look;
it never blocks the day's ledger, which is the evidence the person looks at.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

import dagster as dg
import polars as pl

from huracan_core.day_keys import DayKey
from huracan_core.desk.shadow_day import TradingDay
from huracan_core.health.anomalies import (
    CHECKS,
    COSTS_PAID,
    NET_PER_TRADE,
    TRADE_COUNT,
    WIN_RATE,
    AnomalyConfig,
    Baseline,
    Judgement,
    judge_day,
)
from huracan_core.paper.paper_day import PaperDay
from huracan_dagster.defs.partitions import DEFAULT_SPACE, PartitionSpace, partition_key
from huracan_dagster.defs.verdicts import Verdict, check_targets, evaluations, partitioned_check

DESCRIPTIONS = {
    WIN_RATE: "The day's win rate against the champion's out-of-sample win rate: two-proportion z, one-sided worse.",
    NET_PER_TRADE: (
        "The day's after-cost bps per trade against the champion's out-of-sample mean: two-sample z with the "
        "baseline's spread and size, one-sided worse."
    ),
    TRADE_COUNT: "The day's trade count against the champion's out-of-sample trades per day: Poisson, two-sided.",
    COSTS_PAID: (
        "Costs paid per trade (gross − net) against the costs the champion was priced at out of sample: two-sample "
        "z, one-sided dearer."
    ),
}

Verdicts = dict[str, dict[str, Verdict]]


class AnomalyChecksConfig(dg.Config):
    """The anomaly checks' false-alarm rate and the fewest trades their per-trade tests judge."""

    anomaly_alpha: float = AnomalyConfig().alpha
    anomaly_min_trades: int = AnomalyConfig().min_trades

    def anomaly_config(self) -> AnomalyConfig:
        return AnomalyConfig(alpha=self.anomaly_alpha, min_trades=self.anomaly_min_trades)


def anomaly_checks(asset: dg.AssetKey, space: PartitionSpace = DEFAULT_SPACE) -> list[dg.AssetCheckSpec]:
    return [partitioned_check(name, asset, DESCRIPTIONS[name], space=space) for name in CHECKS]


def anomaly_evaluations(context: dg.AssetExecutionContext, asset: dg.AssetKey, verdicts: Verdicts) -> Iterator:
    targets = check_targets(context, asset, {key for judged in verdicts.values() for key in judged})
    for name in CHECKS:
        yield from evaluations(
            context, asset, name, verdicts[name], severity=dg.AssetCheckSeverity.WARN, targets=targets
        )


def anomaly_verdicts(
    days: Sequence[TradingDay], baselines: Mapping[str, Baseline | None], config: AnomalyConfig
) -> Verdicts:
    """Every check's verdict on every traded partition of the shadow trader; a rules-only day, or a champion with
    too thin a baseline, passes saying why it was not judged."""
    verdicts: Verdicts = {name: {} for name in CHECKS}
    for day in days:
        key = partition_key(day.day, day.symbol)
        base = baselines.get(day.model_version) if day.model_version else None
        if base is None:
            why = _thin(day.model_version) if day.model_version else "rules-only day, no champion baseline"
            _unjudged(verdicts, key, why)
            continue
        _judged(verdicts, key, judge_day(day.ledger, base, config), config)
    return verdicts


def paper_anomaly_verdicts(
    days: Mapping[DayKey, PaperDay], baselines: Mapping[str, Baseline | None], config: AnomalyConfig, bars: int
) -> Verdicts:
    """Every check's verdict on Hamilton's days, against the champion in force at most of the day's bars: its
    trades of the day (those still open count, only the closed are judged per trade) and its out-of-sample rate
    over the share of the day's ``bars`` Hamilton decided the coin at (a day it started at noon expects half).
    A day Hamilton did not run, or no champion decided a bar of, passes saying why it was not judged."""
    verdicts: Verdicts = {name: {} for name in CHECKS}
    for (day, symbol), paper in days.items():
        key, champion = partition_key(day, symbol), paper.champion
        if not paper.logged:
            _unjudged(verdicts, key, "Hamilton did not run that day")
            continue
        if champion is None:
            _unjudged(verdicts, key, f"no champion decided a bar of {symbol} that day")
            continue
        base = baselines.get(champion)
        if base is None:
            _unjudged(verdicts, key, _thin(champion))
            continue
        share = min(paper.bars / bars, 1.0)
        mine = paper.trades.filter(pl.col("model_folder") == champion)
        closed = mine.filter(pl.col("exit_time").is_not_null())
        judged = judge_day(closed, replace(base, trades_per_day=base.trades_per_day * share), config, mine.height)
        others = paper.trades.height - mine.height
        note = f"; {others} trades of the day's other champions not judged" if others else ""
        figures = {"champion": champion, "bars_decided": paper.bars, "open_trades": mine.height - closed.height}
        _judged(verdicts, key, judged, config, note, figures)
    return verdicts


def _thin(champion: str) -> str:
    return f"champion {champion} has fewer than 2 out-of-sample trades"


def _unjudged(verdicts: Verdicts, key: str, why: str) -> None:
    for name in CHECKS:
        verdicts[name][key] = Verdict(True, f"not judged: {why}")


def _judged(
    verdicts: Verdicts,
    key: str,
    judged: Sequence[Judgement],
    config: AnomalyConfig,
    note: str = "",
    figures: Mapping[str, object] | None = None,
) -> None:
    for j in judged:
        verdicts[j.check][key] = Verdict(
            j.passed, j.summary + note, {**j.figures, **(figures or {}), "alpha": config.alpha}
        )
