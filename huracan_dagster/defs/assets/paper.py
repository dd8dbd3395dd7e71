"""``paper_trades``: Hamilton's live paper trading per UTC day and symbol, beside the shadow trader's.

It reads what ``huracan hamilton`` logged (``live_logs/trades|decisions/<tf>/<YYYYMMDD>.parquet``): Hamilton runs
on its own, bar by bar, and the asset shows its days in the UI next to ``shadow_trades``. A day Hamilton did not
run materializes empty and says so, so the daily job stays green on a home where Hamilton never ran; once it has
run, materializing the day again picks the logs up (the exits of positions held over midnight too). Its checks
hold the paper fills against the shadow trader's of the same bars (``shadow_match``), and Hamilton's day against
its champion's out-of-sample record, as ``shadow_trades``' day is (``trading_checks``).
"""

import math
from collections.abc import Iterator, Mapping

import dagster as dg
import polars as pl

from huracan_core.health.champion_baseline import champion_baselines
from huracan_core.paper.paper_day import PaperDay, paper_days
from huracan_core.paper.shadow_match import TOLERANCE_BPS, ShadowMatch, match_shadow
from huracan_core.storage.keys import live_log_key
from huracan_core.symbols import to_ccxt
from huracan_core.timeframes import bars_per_day
from huracan_core.versions import source_hash
from huracan_dagster.defs.assets.trading_checks import (
    AnomalyChecksConfig,
    anomaly_checks,
    anomaly_evaluations,
    paper_anomaly_verdicts,
)
from huracan_dagster.defs.metadata import output_with_partition_metadata, preview
from huracan_dagster.defs.partitions import (
    CHAIN_BACKFILL,
    DEFAULT_SPACE,
    PartitionSpace,
    asset_key,
    partition_key,
    split_key,
)
from huracan_dagster.defs.resources import ArchiveResource
from huracan_dagster.defs.verdicts import Verdict, evaluations, partitioned_check

MATCHES_SHADOW = "paper_matches_shadow"
PREVIEW = ("entry_time", "exit_time", "direction", "notional", "gross_bps", "net_bps", "exit_reason", "risk_rule")


def paper_trades_asset(timeframe: str, space: PartitionSpace = DEFAULT_SPACE) -> dg.AssetsDefinition:
    key = asset_key(timeframe, "paper_trades")

    @dg.asset(
        key=key,
        partitions_def=space.dates_and_symbols,
        backfill_policy=CHAIN_BACKFILL,
        ins={"shadow_trades": dg.AssetIn(asset_key(timeframe, "shadow_trades"))},
        io_manager_key="frames_io",
        check_specs=[
            partitioned_check(
                MATCHES_SHADOW,
                key,
                "Where Hamilton and the shadow trader entered on the same bar in the same direction, the gross moves "
                "agree: the two differ only by costs (size-dependent slippage). A drift beyond costs is a warning.",
                space=space,
            ),
            *anomaly_checks(key, space),
        ],
        kinds={"polars"},
        group_name=f"trading_{timeframe}",
        code_version=source_hash("huracan_core.paper.paper_day", "huracan_core.paper.shadow_match"),
        metadata={"timeframe": timeframe},
        description=(
            "Hamilton's paper round trips ENTERED on this UTC day (`huracan hamilton`'s live_logs: sizes by the risk "
            "manager, fills by the shadow trader's kernel and costs), the exit read from a later day's log when held "
            "over midnight (null while still open); the metadata adds the fills missed or dropped and the day's "
            "decisions by outcome and refusals by rule. Empty, saying so, on a day Hamilton did not run. "
            "Checks (WARN): the paper fills against the shadow trader's, and the day's win rate, after-cost bps per "
            "trade, trade count and costs paid against the out-of-sample trades of the champion in force."
        ),
    )
    def paper_trades(
        context: dg.AssetExecutionContext,
        config: AnomalyChecksConfig,
        archive: ArchiveResource,
        shadow_trades: dict[str, pl.DataFrame],
    ) -> Iterator:
        store = archive.store()
        days = paper_days(store, timeframe, [split_key(k) for k in context.partition_keys])
        results = {
            partition_key(*k): (d.trades, _metadata(d, store.uri(live_log_key("trades", timeframe, k[0]))))
            for k, d in days.items()
        }
        yield output_with_partition_metadata(context, results)
        verdicts = {partition_key(*k): _verdict(d, shadow_trades.get(partition_key(*k))) for k, d in days.items()}
        yield from evaluations(context, key, MATCHES_SHADOW, verdicts, severity=dg.AssetCheckSeverity.WARN)
        baselines = champion_baselines(store, {d.champion for d in days.values() if d.champion})
        anomalies = paper_anomaly_verdicts(days, baselines, config.anomaly_config(), bars_per_day(timeframe))
        yield from anomaly_evaluations(context, key, anomalies)

    return paper_trades


def _metadata(day: PaperDay, log_uri: str) -> dict:
    trades, quote = day.trades, to_ccxt(day.symbol).split("/")[1].lower()
    closed = trades.filter(pl.col("exit_time").is_not_null())
    metadata: dict = {
        "hamilton_ran": day.logged,
        "trades": trades.height,
        "open_trades": day.open_trades,
        f"net_pnl_{quote}": _figure(closed.select(pl.col("net_pnl").sum()) if closed.height else None),
        "mean_net_bps": _figure(closed.select(pl.col("net_bps").mean())),
        "mean_costs_bps": _figure(closed.select(pl.col("costs_bps").mean())),
        "hit_rate_pct": _figure(closed.select(100 * (pl.col("net_pnl") > 0).mean())),
        "missed_entries": day.events.get("missed", 0),
        "dropped_entries": day.events.get("dropped", 0),
        "decisions": _counts(day.outcomes),
        "refusals_by_rule": _counts(day.refusals),
        "live_log": dg.MetadataValue.path(log_uri),
        "preview": preview(trades.select(PREVIEW), rows=10),
    }
    if not day.logged:
        metadata["why_empty"] = f"Hamilton did not run on {day.day} (no {log_uri}): run huracan hamilton"
    elif trades.is_empty():
        metadata["why_empty"] = f"Hamilton ran but entered no {day.symbol} trade on {day.day} (decisions above)"
    return metadata


def _verdict(day: PaperDay, shadow: pl.DataFrame | None) -> Verdict:
    if day.trades.is_empty():
        return Verdict(True, "no paper trade to compare" + ("" if day.logged else ": Hamilton did not run that day"))
    if shadow is None:
        return Verdict(True, "no shadow_trades partition of the day to compare with")
    match = match_shadow(day.trades, shadow)
    counts = {
        "matched": match.matched.height,
        "closed_by_kill_switch": match.killed,
        "paper_only": match.paper_only,
        "shadow_only": match.shadow_only,
        "open_on_one_side": match.open,
    }
    figures = _match_figures(match)
    drifted = match.drifted
    if drifted.height:
        lines = [
            f"{r['entry_time']:%Y-%m-%d %H:%M} {'long' if r['direction'] > 0 else 'short'}: gross "
            f"{r['gross_bps']:+.2f} bps paper vs {r['shadow_gross_bps']:+.2f} shadow (exit {r['exit_reason']} at "
            f"{r['exit_time']:%H:%M} vs {r['shadow_exit_reason']} at {r['shadow_exit_time']:%H:%M})"
            for r in drifted.iter_rows(named=True)
        ]
        summary = (
            f"{drifted.height} of {match.matched.height} trades entered by both drifted beyond costs: "
            + "; ".join(lines)
        )
        return Verdict(
            False, summary, {**counts, **figures, "drifted": dg.MetadataValue.md("\n".join(f"- {x}" for x in lines))}
        )
    if not match.matched.height:
        return Verdict(True, f"no trade entered and closed by both to compare ({_plain(counts)})", counts)
    summary = (
        f"{match.matched.height} trades entered by both: the same moves (within {TOLERANCE_BPS:g} bps); net differs "
        f"by {figures['mean_net_diff_bps']:+.2f} bps on average, all of it costs"
    )
    return Verdict(True, summary, {**counts, **figures})


def _match_figures(match: ShadowMatch) -> dict[str, float]:
    m = match.matched
    if not m.height:
        return {}
    figures = m.select(
        max_gross_drift_bps=pl.col("gross_drift_bps").abs().max(),
        mean_net_diff_bps=pl.col("net_diff_bps").mean(),
        mean_costs_diff_bps=pl.col("costs_diff_bps").mean(),
    )
    return {name: float(value) for name, value in figures.row(0, named=True).items()}


def _counts(counts: Mapping[str, int]) -> str:
    return _plain(dict(sorted(counts.items()))) or "none"


def _plain(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _figure(value: pl.DataFrame | None) -> float | str:
    """A one-cell aggregate as the UI shows it: "n/a" where nothing closed (never a made-up 0)."""
    cell = None if value is None else value.item()
    return round(float(cell), 6) if isinstance(cell, int | float) and math.isfinite(cell) else "n/a"
