"""``huracan status``: what is materialized, which checks fail, and which runs failed or were interrupted.

Status must work after anything a run can leave behind — a failed run, a killed one — because that is when
people run it. A run that ``huracan run`` started in a process that no longer exists can never finish: it is
reported as interrupted and marked failed in the instance, so the UI stops showing it as in progress.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from huracan_core.health.status import age_text
from huracan_core.symbols import to_ccxt
from huracan_dagster.cli.moved_home import analytics_paths, analytics_state
from huracan_dagster.defs.definitions import build_definitions
from huracan_dagster.defs.partitions import split_key
from huracan_dagster.instance.check_verdicts import failed_checks
from huracan_dagster.instance.failures import (
    FAILURE_EVENTS,
    RANGE_END_TAG,
    RANGE_START_TAG,
    failure_causes,
)
from huracan_dagster.instance.recovery import INTERRUPTED_TAG, leftovers, reap_dead_runs
from huracan_dagster.instance.run_owner import UNFINISHED, run_owner
from huracan_dagster.settings import Settings

__all__ = ["failed_checks", "format_ranges", "run_problems", "show_status"]

WINDOW_TAG = "huracan/window"
#: runs listed, newest first; the count says how many there are in all
SHOWN_RUNS = 10
NOT_SUCCEEDED = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.CANCELING, *UNFINISHED]


def show_status(settings: Settings) -> int:
    instance = dg.DagsterInstance.get()
    graph = build_definitions(settings).resolve_asset_graph()
    runs = run_problems(instance)  # first: marks the runs of dead processes failed and frees what they held
    for key in sorted(graph.get_all_asset_keys()):
        if graph.get(key).partitions_def is None:
            print(f"{key.to_user_string()}: {_materialized_at(instance, key)}")
            continue
        done = instance.get_materialized_partitions(key)
        print(f"{key.to_user_string()}: {len(done)} partitions materialized")
        days: dict[str, list[date]] = defaultdict(list)
        for partition in done:  # date × symbol, or a date alone (the shared encoder, the roster, the summary)
            day, symbol = split_key(partition) if "|" in partition else (date.fromisoformat(partition), "")
            days[symbol].append(day)
        for symbol, dates in sorted(days.items()):
            print(f"  {to_ccxt(symbol) if symbol else 'all symbols':<12} {format_ranges(sorted(dates))}")
    failed = failed_checks(instance, list(graph.asset_check_keys))
    print(f"failed checks (latest verdict per partition): {len(failed)}")
    for line in failed:
        print(f"  {line}")
    print(f"runs not succeeded: {len(runs)}" + (f" (newest {SHOWN_RUNS} shown)" if len(runs) > SHOWN_RUNS else ""))
    for line in runs[:SHOWN_RUNS]:
        print("  " + line.replace("\n", "\n      "))
    _print_analytics_database(settings)
    _print_leftovers(settings)
    return 0


def _materialized_at(instance: dg.DagsterInstance, key: dg.AssetKey) -> str:
    event = instance.get_latest_materialization_event(key)
    if event is None:
        return "never materialized"
    when = datetime.fromtimestamp(event.timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"materialized at {when} (run {event.run_id[:8]})"


def _print_analytics_database(settings: Settings) -> None:
    path, marts = analytics_paths(settings)
    state = analytics_state(settings)
    if state is None:
        print(f"analytics database: {path} is missing; build it with `huracan run --select analytics` (or a whole run)")
        return
    age = datetime.now(UTC) - datetime.fromtimestamp(state.modified, UTC)
    print(f"analytics database: {path}: {len(state.views)} views, built {age_text(age.total_seconds())} ago")
    elsewhere = state.reads_outside(settings.archive_root, marts)
    if elsewhere:
        print(f"  its views read files outside this home ({elsewhere[0]} …): any huracan command builds it again")


def _print_leftovers(settings: Settings) -> None:
    found = leftovers(settings)
    if not found:
        print("leftovers of killed runs: none")
        return
    size = sum(f.size for f in found)
    print(
        f"leftovers of killed runs: {len(found)} temporary files ({size / 1e6:.1f} MB); the next `huracan run` removes "
        "those older than every live run"
    )
    for leftover in found[:SHOWN_RUNS]:
        when = datetime.fromtimestamp(leftover.modified, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        print(f"  {leftover.path} ({leftover.size} bytes, written {when})")
    if len(found) > SHOWN_RUNS:
        print(f"  … and {len(found) - SHOWN_RUNS} more")


def run_problems(instance: dg.DagsterInstance, limit: int = 200) -> list[str]:
    """``<run id> <window> <status>: <cause>`` for each run that failed, was interrupted or is still running,
    newest first (the newest ``limit``). Runs whose process is gone are marked failed first, and what they held
    (pool slots) is freed."""
    reap_dead_runs(instance)
    succeeded = _succeeded_after(instance)
    lines = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=NOT_SUCCEEDED), limit=limit):
        run = record.dagster_run
        owner = run_owner(run.tags)
        if run.status in UNFINISHED and owner is None:
            continue  # queued or launched from the UI: the daemon owns it, and it is not a failure (yet)
        line = f"{run.run_id[:8]}  {_window(run.tags)}  {_state(run)}"
        if run.status in UNFINISHED:
            lines.append(f"{line} (pid {owner.pid} on {owner.host})" if owner else line)
            continue
        events = [e.dagster_event for e in instance.all_logs(run.run_id, of_type=FAILURE_EVENTS) if e.dagster_event]
        causes = failure_causes(events, run.tags) or ["no failure recorded"]
        later = succeeded.get(_range(run.tags)) if RANGE_START_TAG in run.tags else None
        rerun = (
            f" (re-run {later[1][:8]} succeeded)" if later and later[0] > record.create_timestamp.timestamp() else ""
        )
        lines.append(f"{line}{rerun}: " + "\n".join(causes))
    return lines


def _state(run: dg.DagsterRun) -> str:
    if run.tags.get(INTERRUPTED_TAG):
        return f"interrupted ({run.tags[INTERRUPTED_TAG]})"
    return "running" if run.status in UNFINISHED else run.status.value.lower()


def _window(tags: Mapping[str, str]) -> str:
    start, end = tags.get(RANGE_START_TAG, ""), tags.get(RANGE_END_TAG, "")
    symbols = start.partition("|")[2], end.partition("|")[2]
    block = symbols[0] if symbols[0] == symbols[1] else f"{symbols[0]}..{symbols[1]}"
    return f"{tags.get(WINDOW_TAG, '?')} × {block or '?'}"


def _range(tags: Mapping[str, str]) -> tuple[str | None, str | None]:
    return tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)


def _succeeded_after(
    instance: dg.DagsterInstance, limit: int = 500
) -> dict[tuple[str | None, str | None], tuple[float, str]]:
    """The newest successful run per partition range, so that a failure already repaired says so."""
    newest: dict[tuple[str | None, str | None], tuple[float, str]] = {}
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]), limit=limit):
        newest.setdefault(
            _range(record.dagster_run.tags), (record.create_timestamp.timestamp(), record.dagster_run.run_id)
        )
    return newest


def format_ranges(days: list[date]) -> str:
    """``2024-12-01..2024-12-05, 2024-12-09`` — consecutive days collapse into one range."""
    spans: list[list[date]] = []
    for day in days:
        if spans and day - spans[-1][1] == timedelta(days=1):
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return ", ".join(f"{a}..{b}" if a != b else f"{a}" for a, b in spans)
