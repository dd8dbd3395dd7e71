"""What a killed run leaves behind, put right by the next command without a hand: its run marked failed, its
pool slots freed, its temporary files swept.

``huracan run`` executes in its own process, so no daemon watches its runs. Killed (``kill -9``, the OOM killer)
it leaves its run STARTED, and when it held a pool slot (``analytics_files``: one writer of the analysts' files at
a time) Dagster keeps the slot assigned to the dead run: every later step of that pool waited behind it forever.
Dagster's own run monitoring frees the slots of finished runs, but only in the daemon (``huracan ui``) and after a
delay; the commands do the same here, at once, for every run that can no longer finish. Runs launched by the
daemon are left to its run monitoring (``run_monitoring`` in the instance config).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

import dagster as dg

from huracan_core.storage.leftovers import Leftover, find_leftovers, sweep_leftovers
from huracan_dagster.instance.run_owner import UNFINISHED, process_gone, run_owner
from huracan_dagster.settings import Settings

#: set on a run marked failed because its process was gone
INTERRUPTED_TAG = "huracan/interrupted"
#: how often a step waiting for a pool looks again, and says it still waits
POLL_S = 2.0
REMIND_S = 30.0


class PoolTimeout(RuntimeError):
    """A pool stayed held by another run for longer than the configured wait; names the pool and its holder."""


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every unfinished run whose process is certainly gone, and free the pool slots of every finished
    run that still holds some. Returns one line per repair, for the caller to print."""
    lines = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=list(UNFINISHED))):
        run = record.dagster_run
        if process_gone(run):
            owner = run_owner(run.tags)
            assert owner is not None  # process_gone: a run huracan run started
            pid, host = owner.pid, owner.host
            instance.add_run_tags(run.run_id, {INTERRUPTED_TAG: "process gone"})
            instance.report_run_failed(
                run, f"process {pid} on {host} ended before the run finished (killed?); marked failed by huracan"
            )
            lines.append(f"run {run.run_id[:8]} marked failed: its process {pid} on {host} is gone")
    lines += free_finished_slots(instance)
    return lines


def free_finished_slots(instance: dg.DagsterInstance) -> list[str]:
    """Free the pool slots (and pending claims) of runs that finished: a run never releases them once its process
    died. One line per run freed."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    holders = storage.get_concurrency_run_ids()
    if not holders:
        return []
    finished = instance.get_run_records(
        filters=dg.RunsFilter(run_ids=list(holders), statuses=list(dg.DagsterRunStatus))
    )
    lines = []
    for record in finished:
        run = record.dagster_run
        if run.status in UNFINISHED:
            continue
        storage.free_concurrency_slots_for_run(run.run_id)
        lines.append(f"freed the pool slots of run {run.run_id[:8]} ({run.status.value.lower()})")
    return lines


@dataclass(frozen=True)
class PoolHolder:
    run_id: str
    step: str
    owner: str

    def __str__(self) -> str:
        return f"run {self.run_id[:8]} (step {self.step}; {self.owner})"


def pool_holders(instance: dg.DagsterInstance, pool: str) -> tuple[list[PoolHolder], int | None]:
    """Who holds ``pool``'s slots now, and its limit (None: no limit)."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    holders = []
    for slot in info.claimed_slots:
        holders.append(PoolHolder(slot.run_id, slot.step_key, _owner(instance.get_run_record_by_id(slot.run_id))))
    return holders, info.limit


def wait_for_pool(
    instance: dg.DagsterInstance,
    pool: str,
    timeout_s: float,
    say: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once ``pool`` has a free slot; meanwhile say who holds it (once, then every ``REMIND_S``). A holder
    whose process died is reaped on the way. Raises ``PoolTimeout`` after ``timeout_s``."""
    started = clock()
    said = None
    while True:
        reap_dead_runs(instance)
        holders, limit = pool_holders(instance, pool)
        if limit is None or len(holders) < limit:
            return
        waited = clock() - started
        who = ", ".join(str(h) for h in holders)
        if waited >= timeout_s:
            raise PoolTimeout(
                f"gave up after {waited:.0f} s waiting for pool {pool}, held by {who}. If that run is stuck, cancel it "
                "in the UI or stop its process (the next huracan command frees what a dead run held); "
                "HURACAN_POOL_TIMEOUT_S sets how long to wait"
            )
        if said is None or clock() - said >= REMIND_S:
            say(f"waiting for pool {pool} ({waited:.0f} s so far; gives up after {timeout_s:.0f} s), held by {who}")
            said = clock()
        sleep(POLL_S)


def leftovers(settings: Settings) -> list[Leftover]:
    """Temporary files in the home (archive, exports, reports, the instance's folder)."""
    return find_leftovers(
        [settings.archive_root, settings.home / "exports", settings.home / "reports", settings.dagster_home]
    )


def sweep(instance: dg.DagsterInstance, settings: Settings) -> list[Leftover]:
    """Remove the leftovers that no live writer can still rename: their writing process is gone, and they were last
    written before the oldest unfinished run began (a run on another host sharing the home). Call after
    ``reap_dead_runs``, so a dead run no longer counts as live."""
    live = [
        r.create_timestamp.timestamp()
        for r in instance.get_run_records(filters=dg.RunsFilter(statuses=list(UNFINISHED)))
    ]
    return sweep_leftovers(leftovers(settings), before=min([time.time(), *live]))


def _owner(record: dg.RunRecord | None) -> str:
    """Who runs it, in a person's words: the ``huracan run`` process, or the daemon."""
    if record is None:
        return "a run no longer in the instance"
    run, created = record.dagster_run, record.create_timestamp.astimezone(UTC).strftime("%H:%M:%S UTC")
    state = f"{run.status.value.lower()}, created {created}"
    if (owner := run_owner(run.tags)) is not None:
        return (
            f"huracan run pid {owner.pid}"
            + ("" if owner.host == socket.gethostname() else f" on {owner.host}")
            + f", {state}"
        )
    return f"launched from the UI or a schedule, {state}"
