"""What ``huracan run`` does, against the Dagster instance of ``HURACAN_HOME`` (``huracan status``: status.py)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta

import dagster as dg

from huracan_core.features.partitions import history_days
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.sources import open_source
from huracan_core.symbols import to_ccxt, to_key
from huracan_core.universe import UniverseConfig, resolve_universe, universe_by_day
from huracan_dagster.assets.trading import WARMUP_DAYS
from huracan_dagster.definitions import build_definitions, daily_job_name
from huracan_dagster.failures import RANGE_END_TAG, RANGE_START_TAG, failure_causes
from huracan_dagster.partitions import asset_key
from huracan_dagster.registration import register_symbols
from huracan_dagster.run_owner import owner_tags
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
    config = UniverseConfig(symbols=settings.symbols, top_n=settings.top_n)
    if symbols:
        keys = [to_key(s) for s in symbols]
    else:
        keys = [to_key(s) for s in resolve_universe(source, settings.timeframe, config, as_of=end + timedelta(days=1))]
    defs = build_definitions(settings)
    job = defs.resolve_job_def(daily_job_name(settings.timeframe))
    selection = _selection(defs, settings.timeframe, select)
    recipe = FeatureRecipe.default(settings.timeframe)
    tf = settings.timeframe
    needs_inputs = selection is None or {asset_key(tf, n) for n in ("candles", "features")} <= set(selection)
    trades = needs_inputs and (selection is None or asset_key(tf, "shadow_trades") in selection)
    # the trader's warm-up days are declared inputs of the window's first days: their features and regimes too
    lead = start - timedelta(days=WARMUP_DAYS if trades else 0)
    # what the features read besides their own partitions: each day's declared universe and the reference
    days = [lead + timedelta(days=n) for n in range((end - lead).days + 1)]
    declared = sorted({to_key(m) for members in universe_by_day(source, tf, config, days).values() for m in members}
                      | {to_key(recipe.reference_symbol)})
    extra = [k for k in declared if k not in keys] if needs_inputs else []
    registered = register_symbols(instance, [*keys, *extra])  # safe when two first runs race
    print(f"huracan run: {start}..{end} × {', '.join(to_ccxt(k) for k in keys)} from {settings.source} ({tf})")
    ok = True
    candles_only = [asset_key(tf, "candles")]
    if needs_inputs:
        everyone = [*keys, *extra]
        candles_from = _first_day(settings, source, everyone, lead - timedelta(days=history_days(recipe)))
        if candles_from < start:
            print(f"  history: candles {candles_from}..{start - timedelta(days=1)} (the feature recipe's trailing window)")
            ok &= _ranged_runs(job, instance, everyone, registered, candles_from, start - timedelta(days=1), selection=candles_only)
        warm_from = _first_day(settings, source, everyone, lead)
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


def _first_day(settings: Settings, source, symbols: list[str], wanted: date) -> date:
    """``wanted``, or the first whole day that every symbol has at the source if that is later."""
    listed = [source.first_timestamp(s, settings.timeframe) for s in symbols]
    return max([wanted, *(t.date() + timedelta(days=1) for t in listed if t is not None)])


def _selection(defs: dg.Definitions, timeframe: str, select: str | None) -> list[dg.AssetKey] | None:
    """``--select`` names assets without their timeframe prefix (``+features``): they resolve within ``timeframe``."""
    if not select:
        return None
    names = {key.path[-1] for key in defs.resolve_asset_graph().get_all_asset_keys() if key.path[0] == timeframe}
    pattern = re.compile(r"(?<![\w:/\"])(" + "|".join(sorted(names, key=len, reverse=True)) + r")(?![\w/\"])")
    prefixed = pattern.sub(lambda m: f'key:"{timeframe}/{m.group(1)}"', select)
    keys = dg.AssetSelection.from_string(prefixed).resolve(defs.resolve_asset_graph())
    if not keys:
        raise SystemExit(f"--select {select!r} matches no asset")
    return sorted(keys)


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
        shown = ", ".join(sorted(partitions)[:6]) + (f" … (+{len(partitions) - 6})" if len(partitions) > 6 else "")
        print(f"    check {check} did not pass on {len(partitions)} partitions: {shown}")
    if not result.success:
        for cause in failure_causes(result.all_events, result.dagster_run.tags):
            print("    " + cause.replace("\n", "\n      "))


def _print_where(settings: Settings) -> None:
    print("Where to look:")
    print("  UI:       make ui  →  http://127.0.0.1:3000 (Assets → 15m/candles: partitions and checks)")
    print(f"  archive:  {settings.archive_root}")
    print(f"  instance: {settings.dagster_home}")
    print("  status:   huracan status")
