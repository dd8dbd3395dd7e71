"""What ``huracan run`` does, against the Dagster instance of ``HURACAN_HOME`` (``huracan status``: status.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import dagster as dg

from huracan_core.features.partitions import history_days
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.sources import open_source
from huracan_core.symbols import to_ccxt, to_key
from huracan_core.universe import UniverseConfig, universe_by_day
from huracan_core.validation.problems import abbreviated
from huracan_dagster.assets.trading import WARMUP_DAYS
from huracan_dagster.definitions import build_definitions, daily_job_name
from huracan_dagster.failures import RANGE_END_TAG, RANGE_START_TAG, failure_causes
from huracan_dagster.partitions import asset_key
from huracan_dagster.registration import register_symbols
from huracan_dagster.run_owner import owner_tags
from huracan_dagster.selection import resolve_selection
from huracan_dagster.settings import Settings

#: the terminal gets the summary; every event is still in the instance and the UI
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def symbol_blocks(wanted: list[str], registered: list[str]) -> list[list[str]]:
    """Group ``wanted`` into runs of neighbours in the registered order: one ranged run per block."""
    position = {s: i for i, s in enumerate(registered)}
    ordered = sorted(wanted, key=position.__getitem__)
    blocks: list[list[str]] = []
    for symbol in ordered:
        if blocks and position[symbol] == position[blocks[-1][-1]] + 1:
            blocks[-1].append(symbol)
        else:
            blocks.append([symbol])
    return blocks


def run_window(settings: Settings, start: date, end: date, *, symbols: tuple[str, ...] | None, select: str | None) -> int:
    instance = dg.DagsterInstance.get()
    source = open_source(settings.source)
    tf = settings.timeframe
    defs = build_definitions(settings)
    job = defs.resolve_job_def(daily_job_name(tf))
    selection = resolve_selection(defs.resolve_asset_graph(), tf, select)
    recipe = FeatureRecipe.default(tf)
    needs_inputs = selection is None or {asset_key(tf, n) for n in ("candles", "features")} <= set(selection)
    trades = needs_inputs and (selection is None or asset_key(tf, "shadow_trades") in selection)
    # the trader's warm-up days are declared inputs of the window's first days: their features and regimes too
    lead = start - timedelta(days=WARMUP_DAYS if trades else 0)
    # one ranking for every day: the universe each day declares, and (the day after the window) what to run
    after = end + timedelta(days=1)
    universes = universe_by_day(source, tf, UniverseConfig(symbols=settings.symbols, top_n=settings.top_n),
                                [lead + timedelta(days=n) for n in range((after - lead).days + 1)])
    ranked_after = universes.pop(after)
    keys = [to_key(s) for s in symbols or ranked_after]
    declared = sorted({to_key(m) for members in universes.values() for m in members} | {to_key(recipe.reference_symbol)})
    extra = [k for k in declared if k not in keys] if needs_inputs else []
    registered = register_symbols(instance, [*keys, *extra])  # safe when two first runs race
    print(f"huracan run: {start}..{end} × {', '.join(to_ccxt(k) for k in keys)} from {settings.source} ({tf})")
    ok = True
    candles_only = [asset_key(tf, "candles")]
    if needs_inputs:
        everyone = [*keys, *extra]
        listed = _first_whole_day(source, tf, everyone)
        candles_from = max(lead - timedelta(days=history_days(recipe)), listed)
        if candles_from < start:
            print(f"  history: candles {candles_from}..{start - timedelta(days=1)} (the feature recipe's trailing window)")
            ok &= _ranged_runs(job, instance, everyone, registered, candles_from, start - timedelta(days=1), selection=candles_only)
        warm_from = max(lead, listed)
        if trades and warm_from < start:
            print(f"  warm-up: features and regimes {warm_from}..{start - timedelta(days=1)} (what the trader reads before the window)")
            warm_up = [asset_key(tf, "features"), asset_key(tf, "regimes")]
            ok &= _ranged_runs(job, instance, keys, registered, warm_from, start - timedelta(days=1), selection=warm_up)
    if extra:
        print(f"  universe and reference: candles of {', '.join(to_ccxt(k) for k in extra)} (read by the features)")
        ok &= _ranged_runs(job, instance, extra, registered, start, end, selection=candles_only)
    ok &= _ranged_runs(job, instance, keys, registered, start, end, selection=selection)
    _print_where(settings)
    return 0 if ok else 1


def _ranged_runs(job, instance, keys, registered, start: date, end: date, *, selection) -> bool:
    ok = True
    for block in symbol_blocks(keys, registered):
        tags = {RANGE_START_TAG: f"{start}|{block[0]}", RANGE_END_TAG: f"{end}|{block[-1]}", "huracan/window": f"{start}..{end}", **owner_tags()}
        result = job.execute_in_process(
            instance=instance, tags=tags, asset_selection=selection, raise_on_error=False, run_config=QUIET
        )
        ok &= result.success
        _print_run(result, block)
    return ok


def _first_whole_day(source, timeframe: str, symbols: list[str]) -> date:
    """The first day that every symbol has whole at the source (the day after its first candle)."""
    listed = [source.first_timestamp(s, timeframe) for s in symbols]
    return max((t.date() + timedelta(days=1) for t in listed if t is not None), default=date.min)


def _print_run(result: dg.ExecuteInProcessResult, block: list[str]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for event in result.get_asset_materialization_events():
        counts[event.asset_key.to_user_string()] += 1
    status = "succeeded" if result.success else "FAILED"
    print(f"  run {result.run_id[:8]} ({', '.join(block)}): {status}")
    for asset, count in sorted(counts.items()):
        print(f"    {asset}: {count} partitions materialized")
    failed: dict[str, list[str]] = defaultdict(list)
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            failed[f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"].append(evaluation.partition or "")
    for check, partitions in sorted(failed.items()):
        print(f"    check {check} did not pass on {len(partitions)} partitions: {abbreviated(sorted(partitions))}")
    if not result.success:
        for cause in failure_causes(result.all_events, result.dagster_run.tags):
            print("    " + cause.replace("\n", "\n      "))


def _print_where(settings: Settings) -> None:
    print("Where to look:")
    print(f"  UI:       make ui  →  http://127.0.0.1:3000 (Assets → {settings.timeframe}/candles: partitions and checks)")
    print(f"  archive:  {settings.archive_root}")
    print(f"  instance: {settings.dagster_home}")
    print("  status:   huracan status")
