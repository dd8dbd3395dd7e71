"""What ``huracan run`` does, against the Dagster instance of ``HURACAN_HOME`` (``huracan status``: status.py)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from datetime import date, timedelta

import dagster as dg

from huracan_core.features.recipe import FeatureRecipe
from huracan_core.models.encoder import encoder_window
from huracan_core.models.training import ModelConfig
from huracan_core.reports import daily_folder
from huracan_core.sources import open_source
from huracan_core.storage.keys import costs_key, daily_summary_key, roster_day_key, roster_key
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore
from huracan_core.symbols import to_ccxt, to_key
from huracan_core.trading.costs import round_trip_text
from huracan_core.trading.exits import ExitConfig
from huracan_core.universe import UniverseConfig, universe_by_day
from huracan_dagster.cli.code_location import CodeLocationRuns
from huracan_dagster.cli.policy_runs import PolicyRun, policy_runs, window_keys
from huracan_dagster.cli.run_outcome import print_outcomes
from huracan_dagster.cli.run_pool import WindowRuns
from huracan_dagster.cli.selection import ANALYTICS_SELECTION, resolve_selection
from huracan_dagster.cli.window_plan import WindowPlan, plan_window
from huracan_dagster.defs.definitions import (
    ANALYTICS_JOB,
    DATE_ASSETS,
    build_definitions,
    daily_job_name,
    encoder_job_name,
    resources,
    summary_job_name,
)
from huracan_dagster.defs.partitions import ANALYTICS_POOL, WINDOW_TAG, asset_key, partition_key
from huracan_dagster.defs.resources import ArchiveResource, ModelSettingsResource
from huracan_dagster.instance.recovery import (
    PoolTimeout,
    reap_dead_runs,
    sweep,
    wait_for_pool,
)
from huracan_dagster.instance.registration import register_symbols
from huracan_dagster.settings import Settings


def run_window(
    settings: Settings, start: date, end: date, *, symbols: tuple[str, ...] | None, select: str | None
) -> int:
    """Materialize ``start..end`` and, first, every declared input its selection reads before ``start``.

    Phases (each a ranged run per block of symbols, here or over ``settings.run_workers`` processes: ``run_pool``):
    the history the partition mappings declare (``plan_window``), furthest back first — candles (of the declared
    universe and the reference too), the features and regimes the signals warm up on, the signals and labels the coin
    models train on — each through the window's last day; the shared encoders of the window's days; the window
    itself; the roster and the daily summary; the analytics.
    Raises ``WindowError`` before anything runs when the source cannot hold what the selection needs.
    """
    instance = dg.DagsterInstance.get()
    _recover(instance, settings)
    defs = build_definitions(settings)
    located = CodeLocationRuns(instance, defs.get_repository_def().name)
    with WindowRuns(located, settings, workers=settings.run_workers) as runs:
        return _run_window(settings, defs, runs, start, end, symbols=symbols, select=select)


def _run_window(
    settings: Settings,
    defs: dg.Definitions,
    runs: WindowRuns,
    start: date,
    end: date,
    *,
    symbols: tuple[str, ...] | None,
    select: str | None,
) -> int:
    instance = runs.instance
    if select == ANALYTICS_SELECTION:
        print("huracan run: the analytics job alone (the dbt marts and the DuckDB file over what is exported)")
        return 0 if _analytics(defs, runs, settings) else 1
    source = open_source(settings.source)
    tf = settings.timeframe
    job = defs.resolve_job_def(daily_job_name(tf))
    if job.executor_def is dg.in_process_executor:
        runs.warm()  # the helpers (--workers) load the code location (seconds) while this process plans the window
    graph = defs.resolve_asset_graph()
    selection = resolve_selection(graph, tf, select)
    # the window's assets (the dbt models, <tf>/dbt/<model>, follow a whole run in the analytics job)
    selected = (
        set(selection)
        if selection is not None
        else {k for k in graph.get_all_asset_keys() if k.path[0] == tf and len(k.path) == 2}
    )
    wants = {name: asset_key(tf, name) in selected for name in ("candles", "features", "shared_encoder")}
    recipe = FeatureRecipe.default(tf)
    needs_inputs = wants["features"] and wants["candles"]
    # the days each selected asset must have before the window: the look-backs its partition mappings declare
    plan = plan_window(graph, selected, start, end)
    lead = min((first for first, _ in plan.spans.values()), default=start)
    # one ranking for every day: the universe each day declares, and (the day after the window) what to run
    after = end + timedelta(days=1)
    universes = universe_by_day(
        source,
        tf,
        UniverseConfig(symbols=settings.symbols, top_n=settings.top_n),
        [lead + timedelta(days=n) for n in range((after - lead).days + 1)],
    )
    ranked_after = universes.pop(after)
    keys = [to_key(s) for s in symbols or ranked_after]
    declared = sorted(
        {to_key(m) for members in universes.values() for m in members} | {to_key(recipe.reference_symbol)}
    )
    extra = [k for k in declared if k not in keys] if needs_inputs else []
    everyone = [*keys, *extra]
    phases = plan.history_phases(start)
    # the first day every symbol has whole at the source: where history can start, and what the window may need
    listed = _first_whole_day(source, tf, everyone) if phases or plan.earliest_need else date.min
    _refuse_unreachable(plan, listed, source.name, tf, start)  # before anything runs: never a half-failed run
    register_symbols(instance, everyone)  # safe when two first runs race
    print(f"huracan run: {start}..{end} × {', '.join(to_ccxt(k) for k in keys)} from {settings.source} ({tf})")
    ok, done = True, set()  # assets already materialized over the whole window by an earlier phase
    for first, assets in phases:
        reader = plan.readers[assets[0]]
        names = " and ".join(a.path[-1] for a in assets)
        if assets == [asset_key(tf, "candles")]:  # every declared member's and the reference's, and the window's own
            first, block = min(start, max(first, listed)), everyone
        else:
            first, block = max(first, listed), keys
        print(f"  history: {names} {first}..{end} ({reader})")
        ok &= _ranged_runs(job, runs, block, first, end, selection=assets)
        done.update(assets)
    if wants["shared_encoder"]:
        models = resources(settings)["models"]
        assert isinstance(models, ModelSettingsResource)
        reads = _encoder_feature_span(models, start, end)
        if needs_inputs and extra and reads:  # the encoder learns from the whole declared universe
            print(
                f"  universe and reference: features of {', '.join(to_ccxt(k) for k in extra)} {reads[0]}..{reads[1]} (the shared encoder reads them)"
            )
            ok &= _ranged_runs(job, runs, extra, *reads, selection=[asset_key(tf, "features")])
        print(f"  shared encoder: {start}..{end}")
        ok &= _date_run(defs.resolve_job_def(encoder_job_name(tf)), runs, start, end, None)
    outside = {asset_key(tf, n) for n in ("shared_encoder", "challengers", *DATE_ASSETS)}
    main = sorted(selected - outside - done)
    if main:
        ok &= _ranged_runs(job, runs, keys, start, end, selection=main)
    dated = sorted(selected & {asset_key(tf, n) for n in DATE_ASSETS})
    if dated:
        print(f"  roster and daily summary: {start}..{end}")
        ok &= _date_run(defs.resolve_job_def(summary_job_name(tf)), runs, start, end, dated)
    if select is None:  # the whole chain: the analysts' file (and the dbt marts) over what was exported
        ok &= _analytics(defs, runs, settings)
    archive = resources(settings)["archive"]
    assert isinstance(archive, ArchiveResource)
    store = archive.store()
    _print_models(instance, store, tf, keys, end)
    _print_champions(store, tf, keys, end)
    _print_where(settings, end)
    return 0 if ok else 1


class WindowError(ValueError):
    """The source cannot hold a declared input of the window (a usage error, raised before anything runs)."""


def _refuse_unreachable(plan: WindowPlan, listed: date, source: str, timeframe: str, start: date) -> None:
    need = plan.earliest_need
    if need is None or need.first >= listed:
        return
    first_possible = start + (listed - need.first)
    raise WindowError(
        f"{need}, but {source} holds whole days of {timeframe} candles only from {listed} on: this selection can run "
        f"from {first_possible} on (choose a later --start, or a --select without {need.asset.path[-1]})"
    )


def _recover(instance: dg.DagsterInstance, settings: Settings) -> None:
    """What killed runs left: their runs marked failed, the pool slots they held freed, their temporary files gone."""
    lines = reap_dead_runs(instance)
    swept = sweep(instance, settings)
    if swept:
        lines.append(
            f"removed {len(swept)} temporary files that killed runs left ({sum(f.size for f in swept) / 1e6:.1f} MB)"
        )
    for line in lines:
        print(f"huracan run: {line}")


def _analytics(defs: dg.Definitions, runs: WindowRuns, settings: Settings) -> bool:
    """The dbt marts and the DuckDB file, once no other run holds their pool (saying who does, meanwhile)."""
    print("  analytics: dbt marts and tests over the exports, and the DuckDB file of views")
    try:
        wait_for_pool(
            runs.instance, ANALYTICS_POOL, settings.pool_timeout_s, lambda line: print(f"    {line}", flush=True)
        )
    except PoolTimeout as error:
        print(f"    analytics: {error}")
        return False
    with contextlib.redirect_stdout(io.StringIO()):  # dagster-dbt echoes dbt's every line; the results are events
        outcome = runs.execute_one(defs.resolve_job_def(ANALYTICS_JOB), None, {})
    print_outcomes([outcome], "every export")
    return outcome.success


def _encoder_feature_span(models: ModelSettingsResource, start: date, end: date) -> tuple[date, date] | None:
    """The first and last day whose features the encoders of ``start..end`` read."""
    config = models.encoder_config(ModelConfig().train_days)
    (first, _), (_, last) = encoder_window(start, config), encoder_window(end, config)
    return (first, last - timedelta(days=1)) if first < last else None


def _date_run(job: dg.JobDefinition, runs: WindowRuns, start: date, end: date, selection) -> bool:
    """The runs of a date-partitioned job over ``start..end`` (every symbol inside each day)."""
    graph = job.asset_layer.asset_graph
    assets = selection or sorted(job.asset_layer.executable_asset_keys, key=str)
    days = [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]
    planned = policy_runs(graph, runs.instance, assets, days)
    return _execute(job, runs, planned, f"{start}..{end}", "all symbols")


def _ranged_runs(job: dg.JobDefinition, runs: WindowRuns, keys, start: date, end: date, *, selection) -> bool:
    """The window's date × symbol partitions in the runs their backfill policies make, neighbouring symbols'
    ranges joined into one run per process (``policy_runs``). A joined run that fails is run again symbol by symbol
    (the assets it did not materialize whole): one symbol's failure must not cost its neighbours their partitions,
    as it would not have in runs of their own. Its symbols run alone for the rest of the window."""
    window = f"{start}..{end}"
    planned = _planned(job, runs, selection, window_keys(start, end, keys))
    outcomes = runs.execute(job, planned, {WINDOW_TAG: window})
    print_outcomes(outcomes, ", ".join(keys))
    ok = True
    for run, outcome in zip(planned, outcomes, strict=True):
        if outcome.success:
            continue
        partitions = run.partitions
        unfinished = [a for a in run.assets if outcome.materialized.get(a.to_user_string(), 0) < len(partitions)]
        if len(run.symbols) < 2 or not unfinished:
            ok = False
            continue
        label = ", ".join(run.symbols)
        print(f"  again, symbol by symbol: {' and '.join(a.path[-1] for a in unfinished)} of {label}")
        ok &= _execute(job, runs, _planned(job, runs, unfinished, partitions), window, label)
    return ok


def _planned(job: dg.JobDefinition, runs: WindowRuns, selection, partitions: list[str]) -> list[PolicyRun]:
    """The runs of ``selection`` × ``partitions`` (``policy_runs``): each symbol that failed so far on its own."""
    graph = job.asset_layer.asset_graph
    return policy_runs(graph, runs.instance, selection, partitions, processes=runs.processes(job), alone=runs.failed)


def _execute(job: dg.JobDefinition, runs: WindowRuns, planned: list[PolicyRun], window: str, label: str) -> bool:
    outcomes = runs.execute(job, planned, {WINDOW_TAG: window})
    print_outcomes(outcomes, label)
    return all(o.success for o in outcomes)


def _first_whole_day(source, timeframe: str, symbols: list[str]) -> date:
    """The first day that every symbol has whole at the source (the day after its first candle)."""
    listed = [source.first_timestamp(s, timeframe) for s in symbols]
    return max((t.date() + timedelta(days=1) for t in listed if t is not None), default=date.min)


def _print_models(instance: dg.DagsterInstance, store: ArtifactStore, tf: str, keys: list[str], end: date) -> None:
    """Per coin: what the window's last day costs to trade, what was trained for it, and whether it passed (or
    which gates, by how much), with whether its predictions rank the outcomes at all."""
    wanted = [partition_key(end, k) for k in keys]
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key(tf, "coin_model"), asset_partitions=wanted), limit=len(wanted) * 4
    ).records
    latest: dict[str, Mapping[str, dg.MetadataValue]] = {}
    for record in records:  # newest first
        materialization = record.asset_materialization
        assert record.partition_key is not None and materialization is not None  # a partition's materialization
        latest.setdefault(record.partition_key, materialization.metadata)
    if not latest:
        return
    print(f"Coin models for {end} (trained on the days before it, judged out of sample after costs):")
    verdicts = {k: _verdict(m) for k, m in latest.items() if "reason" not in m}
    shared = next(iter(verdicts.values())) if len(verdicts) > 1 and len(set(verdicts.values())) == 1 else None
    if shared:  # a quiet sample: every coin failed the same gates by the same figures, said once
        print(f"  every coin: {shared}")
    size = ExitConfig().notional
    for key in wanted:
        symbol, meta = key.split("|")[1], latest.get(key)
        if meta is None:
            print(f"  {symbol}: not trained")
            continue
        if "reason" in meta:  # a day off the retrain cadence
            print(f"  {symbol}: {meta['reason'].value}")
            continue
        fee = meta["break_even_fee_bps"].value
        passing = "fails even without fees" if fee == "n/a" else f"would pass at a fee of {fee} bps a side"
        print(f"  {symbol}:" if shared else f"  {symbol}: {verdicts[key]}")
        try:
            day = store.read_json(costs_key(symbol, tf, end))
            print(f"    costs ({day['order_type']}, {size:,.0f} {symbol.split('-')[1]}) {round_trip_text(day)}")
        except ArtifactNotFound:
            print(f"    costs: no shadow_trades of {end} (costs/{symbol}/{tf}/{end}.json)")
        if "signal_summary" in meta:  # models trained before the signal was measured have none
            print(f"    {meta['signal_summary'].value}; trades by {meta['decision_rule'].value}")
        print(
            f"    {meta['trades_out_of_sample'].value} trades out of sample, best predicted edge "
            f"{meta['best_predicted_edge_bps'].value} bps (margin {meta['safety_margin_bps'].value}); {passing}"
        )


def _verdict(metadata: Mapping[str, dg.MetadataValue]) -> str:
    """The model's one-sentence gate verdict (the summary, for models materialized before it was recorded)."""
    return str((metadata.get("verdict") or metadata["gate_summary"]).value)


def _print_champions(store: ArtifactStore, timeframe: str, keys: list[str], end: date) -> None:
    """Per coin: its champion after the window, or why it has none (the roster's answer)."""
    try:
        roster = {e["symbol"]: e for e in store.read_json(roster_day_key(timeframe, end))["symbols"]}
    except ArtifactNotFound:
        return
    print(f"Champions for {end} ({roster_key(timeframe)}; every decision in champions/promotions.jsonl):")
    for key in keys:
        entry = roster.get(key)
        if entry is None:
            print(f"  {key}: no champion decision")
        elif entry["trade_ok"]:
            print(f"  {key}: rank {entry['rank']}, champion {entry['model_path']}")
        else:  # the gates it failed are printed above
            print(f"  {key}: rank {entry['rank']}, trade_ok false: {entry['reason'].split(' (')[0]}")


def _print_where(settings: Settings, end: date) -> None:
    print("Where to look:")
    print(
        f"  UI:       make ui  →  http://127.0.0.1:3000 (Overview: the runs; Assets → {settings.timeframe}/coin_model: the gate checks)"
    )
    print(f"  archive:  {settings.archive_uri}")
    print(f"  summary:  {settings.archive_uri}/{daily_summary_key(settings.timeframe, end)}")
    print(f"  DuckDB:   duckdb -readonly {settings.home / 'exports' / 'huracan.duckdb'}")
    page = daily_folder(settings.home, end) / "index.html"
    if page.is_file():
        print(f"  report:   {page}  (any window: huracan report --start D1 --end D2)")
    print(f"  instance: {settings.dagster_home}")
    print(f"  MLflow:   make mlflow  →  the link it prints opens the training runs (store under {settings.mlflow_dir})")
    print("  status:   huracan status")
