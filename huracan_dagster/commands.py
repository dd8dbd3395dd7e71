"""What ``huracan run`` and ``huracan status`` do, against the Dagster instance of ``HURACAN_HOME``."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import dagster as dg

from huracan_core.features.partitions import history_days
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.sources import open_source
from huracan_core.symbols import to_ccxt, to_key
from huracan_core.universe import UniverseConfig, resolve_universe
from huracan_dagster.definitions import DAILY_JOB, build_definitions
from huracan_dagster.partitions import SYMBOL_DIMENSION, split_key
from huracan_dagster.settings import Settings

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
#: the terminal gets the summary; every event is still in the instance and the UI
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


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
    universe = symbols or settings.symbols
    source = open_source(settings.source)
    chosen = resolve_universe(
        source, settings.timeframe,
        UniverseConfig(symbols=tuple(universe), top_n=settings.top_n), as_of=end + timedelta(days=1),
    )
    keys = [to_key(s) for s in chosen]
    registered = instance.get_dynamic_partitions(SYMBOL_DIMENSION)
    new = [k for k in keys if k not in registered]
    if new:
        instance.add_dynamic_partitions(SYMBOL_DIMENSION, new)
        registered = [*registered, *new]
    defs = build_definitions(settings)
    job = defs.resolve_job_def(DAILY_JOB)
    selection = _selection(defs, select)
    print(f"huracan run: {start}..{end} × {', '.join(to_ccxt(k) for k in keys)} from {settings.source} ({settings.timeframe})")
    ok = True
    history = _history_days(settings, source, chosen, start, selection)
    if history:
        print(f"  history: candles {history[0]}..{history[1]} (the feature recipe's trailing window)")
        ok &= _ranged_runs(job, instance, keys, registered, *history, selection=[dg.AssetKey("candles")])
    ok &= _ranged_runs(job, instance, keys, registered, start, end, selection=selection)
    _print_where(settings)
    return 0 if ok else 1


def _ranged_runs(job, instance, keys, registered, start: date, end: date, *, selection) -> bool:
    ok = True
    for block in symbol_blocks(keys, registered):
        tags = {RANGE_START_TAG: f"{start}|{block[0]}", RANGE_END_TAG: f"{end}|{block[-1]}", "huracan/window": f"{start}..{end}"}
        result = job.execute_in_process(
            instance=instance, tags=tags, asset_selection=selection, raise_on_error=False, run_config=QUIET
        )
        ok &= result.success
        _print_run(result, block)
    return ok


def _history_days(settings: Settings, source, symbols: list[str], start: date, selection) -> tuple[date, date] | None:
    """Candle days before the window that the features of its first day read, clipped to the source's data.

    Without them the first days' features would be computed on a short history (null, with the reason).
    """
    if selection is not None and not {dg.AssetKey("candles"), dg.AssetKey("features")} <= set(selection):
        return None
    first = start - timedelta(days=history_days(FeatureRecipe.default(settings.timeframe)))
    listed = [source.first_timestamp(s, settings.timeframe) for s in symbols]
    if any(t is None for t in listed):
        return None
    first = max([first, *(t.date() + timedelta(days=1) for t in listed)])
    return (first, start - timedelta(days=1)) if first < start else None


def _selection(defs: dg.Definitions, select: str | None) -> list[dg.AssetKey] | None:
    if not select:
        return None
    keys = dg.AssetSelection.from_string(select).resolve(defs.resolve_asset_graph())
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
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            affected = _listed(evaluation.metadata, "affected")
            print(f"    check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} did not pass ({len(affected)} partitions)")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data.error:
                print("    " + event.step_failure_data.error.message.strip().replace("\n", "\n    "))


def _print_where(settings: Settings) -> None:
    print("Where to look:")
    print("  UI:       make ui  →  http://127.0.0.1:3000 (Assets → candles: partitions and checks)")
    print(f"  archive:  {settings.archive_root}")
    print(f"  instance: {settings.dagster_home}")
    print("  status:   huracan status")


def show_status(settings: Settings) -> int:
    instance = dg.DagsterInstance.get()
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    for key in sorted(graph.get_all_asset_keys()):
        done = instance.get_materialized_partitions(key)
        print(f"{key.to_user_string()}: {len(done)} partitions materialized")
        days: dict[str, list[date]] = defaultdict(list)
        for partition in done:
            day, symbol = split_key(partition)
            days[symbol].append(day)
        for symbol, dates in sorted(days.items()):
            print(f"  {to_ccxt(symbol):<12} {format_ranges(sorted(dates))}")
    failed = failed_checks(instance, list(graph.asset_check_keys))
    print(f"failed checks (latest verdict per partition): {len(failed)}")
    for line in failed:
        print(f"  {line}")
    return 0


def failed_checks(instance: dg.DagsterInstance, check_keys: list[dg.AssetCheckKey], history: int = 200) -> list[str]:
    """Checks whose latest verdict on some partition is a failure, from the ``checked``/``affected`` lists."""
    lines = []
    for check_key in sorted(check_keys, key=lambda k: k.to_user_string()):
        records = instance.event_log_storage.get_asset_check_execution_history(check_key, limit=history)
        verdict: dict[str, bool] = {}
        severity = ""
        for record in reversed(records):  # oldest first, so newer verdicts win
            evaluation = record.event.dagster_event.event_specific_data if record.event and record.event.dagster_event else None
            if evaluation is None:
                continue
            affected = set(_listed(evaluation.metadata, "affected"))
            for partition in _listed(evaluation.metadata, "checked"):
                verdict[partition] = partition in affected
            if affected:
                severity = evaluation.severity.value
        failing = sorted(p for p, bad in verdict.items() if bad)
        if failing:
            shown = ", ".join(failing[:6]) + (f" … (+{len(failing) - 6})" if len(failing) > 6 else "")
            lines.append(f"{check_key.to_user_string()} [{severity}] {len(failing)} partitions: {shown}")
    return lines


def _listed(metadata: dict, name: str) -> list[str]:
    value = metadata.get(name)
    return list(getattr(value, "value", value) or [])


def format_ranges(days: list[date]) -> str:
    """``2024-12-01..2024-12-05, 2024-12-09`` — consecutive days collapse into one range."""
    spans: list[list[date]] = []
    for day in days:
        if spans and day - spans[-1][1] == timedelta(days=1):
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return ", ".join(f"{a}..{b}" if a != b else f"{a}" for a, b in spans)
