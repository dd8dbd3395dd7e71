"""Anomaly checks of ``shadow_trades``: each day against its champion's out-of-sample record (``health.anomalies``).

Evaluated inside the asset, one verdict per judged partition (``verdicts``). WARN, not ERROR: each is a
statistical alarm that fires at the configured rate ``alpha`` on a healthy champion, so it asks a person to look;
it never blocks the day's ledger, which is the evidence the person looks at.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import dagster as dg

from huracan_core.desk.shadow_day import TradingDay
from huracan_core.health.anomalies import (
    CHECKS,
    COSTS_PAID,
    NET_PER_TRADE,
    TRADE_COUNT,
    WIN_RATE,
    AnomalyConfig,
    Baseline,
    judge_day,
)
from huracan_dagster.defs.partitions import DEFAULT_SPACE, PartitionSpace, partition_key
from huracan_dagster.defs.verdicts import Verdict, evaluations, partitioned_check

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


def anomaly_checks(asset: dg.AssetKey, space: PartitionSpace = DEFAULT_SPACE) -> list[dg.AssetCheckSpec]:
    return [partitioned_check(name, asset, DESCRIPTIONS[name], space=space) for name in CHECKS]


def anomaly_evaluations(
    context: dg.AssetExecutionContext,
    asset: dg.AssetKey,
    days: Sequence[TradingDay],
    baselines: dict[str, Baseline | None],
    config: AnomalyConfig,
) -> Iterator:
    verdicts = anomaly_verdicts(days, baselines, config)
    for name in CHECKS:
        yield from evaluations(context, asset, name, verdicts[name], severity=dg.AssetCheckSeverity.WARN)


def anomaly_verdicts(
    days: Sequence[TradingDay], baselines: dict[str, Baseline | None], config: AnomalyConfig
) -> dict[str, dict[str, Verdict]]:
    """Every check's verdict on every traded partition; a rules-only day, or a champion with too thin a baseline,
    passes saying why it was not judged."""
    verdicts: dict[str, dict[str, Verdict]] = {name: {} for name in CHECKS}
    for day in days:
        key = partition_key(day.day, day.symbol)
        base = baselines.get(day.model_version) if day.model_version else None
        if base is None:
            why = (
                f"not judged: champion {day.model_version} has fewer than 2 out-of-sample trades"
                if day.model_version
                else "not judged: rules-only day, no champion baseline"
            )
            for name in CHECKS:
                verdicts[name][key] = Verdict(True, why)
            continue
        for judged in judge_day(day.ledger, base, config):
            verdicts[judged.check][key] = Verdict(
                judged.passed, judged.summary, {**judged.figures, "alpha": config.alpha}
            )
    return verdicts
