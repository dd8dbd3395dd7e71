"""``huracan run``'s runs, in its own process one after another, or in N processes (``--workers N``): this one and
N − 1 helpers.

A window is cut into ranged runs, a block of symbols each (``policy_runs``). Two runs of different symbols depend on
each other only where one of their assets reads another symbol's partitions of an asset the other run writes (the
features read every universe member's candles); otherwise they can run at the same time, each on a core. Each run
starts once the runs planned before it that it depends on have ended: dependent runs keep the order they would have
run in one after another, so every partition is the same bytes.

Helpers are spawned, not forked: a forked child of a process running polars' or LightGBM's threads can deadlock. Each
loads the code location once (seconds, which this process spends running the first runs), then executes runs as
``huracan run`` does, tagged with its own process, so that a run left by a helper that died is reaped like one left
by a killed ``huracan run``. On Linux a helper dies with the command (``kill -9`` included): no run outlives it.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import dagster as dg

from huracan_core.cores import at_most_cores
from huracan_dagster.cli.code_location import CodeLocationRuns
from huracan_dagster.cli.policy_runs import PolicyRun
from huracan_dagster.cli.run_outcome import RunOutcome, outcome_of
from huracan_dagster.defs.definitions import build_definitions
from huracan_dagster.defs.partitions import SYMBOL_DIMENSION
from huracan_dagster.instance.recovery import reap_dead_runs
from huracan_dagster.instance.run_owner import owner_tags
from huracan_dagster.settings import Settings

#: the terminal gets the summary; every event is still in the instance and the UI
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
#: ``prctl`` option: the signal a process gets when its parent dies (Linux)
PR_SET_PDEATHSIG = 1


class WindowRuns:
    """The runs of one ``huracan run``: in this process, helped by ``workers - 1`` more processes where a phase has
    runs that can go side by side."""

    def __init__(self, runs: CodeLocationRuns, settings: Settings, workers: int) -> None:
        self.runs = runs
        self._settings = settings
        #: processes besides this one; more processes than cores would only take turns
        self._helpers = at_most_cores(workers) - 1
        self._pool: ProcessPoolExecutor | None = None
        #: one task a helper runs once it has loaded the code location (``warm``): done, that helper is loaded
        self._warming: list[Future] = []
        #: the symbols of every run that failed so far: ``policy_runs`` runs each of them on its own from then on
        self.failed: set[str] = set()

    def processes(self, job: dg.JobDefinition) -> int:
        """The processes ``job``'s runs of a phase can go to at once: this one and its helpers where the job's steps
        execute in its run's process; one where they go to Celery workers (its runs then go one after another)."""
        return self._helpers + 1 if job.executor_def is dg.in_process_executor else 1

    @property
    def instance(self) -> dg.DagsterInstance:
        return self.runs.instance

    def execute(self, job: dg.JobDefinition, planned: Sequence[PolicyRun], tags: Mapping[str, str]) -> list[RunOutcome]:
        """Every planned run (``tags`` added to each), outcomes in the planned order. Helped only when there is more
        than one run and the job's steps execute in its run's process (over Celery they go to those workers)."""
        if self.processes(job) == 1 or len(planned) < 2:
            outcomes = [self.execute_one(job, run.assets, {**run.tags, **tags}) for run in planned]
        else:
            outcomes = self._helped(job, planned, tags)
        self.failed.update(
            s for run, outcome in zip(planned, outcomes, strict=True) if not outcome.success for s in run.symbols
        )
        return outcomes

    def execute_one(
        self, job: dg.JobDefinition, assets: Sequence[dg.AssetKey] | None, tags: Mapping[str, str]
    ) -> RunOutcome:
        """One run, here."""
        return _executed(self.runs, job, assets, tags)

    def warm(self) -> None:
        """Start the helpers now: they load the code location (seconds) while this process plans and runs the first
        runs."""
        if self._helpers:
            pool = self._started()
            # a helper that cannot start breaks the pool: the next hand-over, or the run it holds, says so
            self._warming = [pool.submit(_ready) for _ in range(self._helpers)]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
            self._warming = []

    def __enter__(self) -> WindowRuns:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self._helpers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_helper,
                initargs=(self._settings, os.getpid()),
            )
        return self._pool

    def _helped(self, job: dg.JobDefinition, planned: Sequence[PolicyRun], tags: Mapping[str, str]) -> list[RunOutcome]:
        """Each run once the runs it waits for have ended: a ready helper is handed a run whenever it has none, and
        this process runs the next ready one itself meanwhile. While the helpers still load the code location they
        hold one run in all, the shortest ready one, and this process runs the others, the longest first
        (``policy_runs`` plans them so): a run handed to a helper still loading waits seconds for it. Once a helper
        has died, the phase's remaining runs go here."""
        waits = run_dependencies(job.asset_layer.asset_graph, planned)
        self._started()
        done: dict[int, RunOutcome] = {}
        helped: dict[Future, int] = {}
        pending = list(range(len(planned)))
        while pending or helped:
            ready = [i for i in pending if waits[i] <= done.keys()]
            while ready and self._pool is not None and len(helped) < self._helper_room(len(ready)):
                at = 0 if self._loaded() else -1  # helpers still loading are handed the shortest
                try:
                    future = self._pool.submit(
                        _execute, job.name, planned[ready[at]].assets, {**planned[ready[at]].tags, **tags}
                    )
                except BrokenProcessPool:  # a helper died as it started or between two runs: none in flight
                    self.close()
                    print(
                        "    a helper process died (as it started or between two runs): the phase's other runs go here",
                        flush=True,
                    )
                    break
                helped[future] = i = ready.pop(at)
                pending.remove(i)
            if ready:
                i = ready.pop(0)
                pending.remove(i)
                done[i] = self.execute_one(job, planned[i].assets, {**planned[i].tags, **tags})
                finished = [f for f in helped if f.done()]
            else:
                finished, _ = wait(helped, return_when=FIRST_COMPLETED)
            for future in finished:
                i = helped.pop(future)
                done[i] = self._outcome(future, planned[i])
        return [done[i] for i in range(len(planned))]

    def _loaded(self) -> int:
        """The helpers that have loaded the code location: all once their warming tasks are done (failed included:
        the next hand-over then finds the pool broken and says so), or when none was warmed (a run then starts one)."""
        loaded = sum(f.done() for f in self._warming)
        return self._helpers if loaded == len(self._warming) else loaded

    def _helper_room(self, ready: int) -> int:
        """The runs the helpers may hold now: one for each loaded helper; while none has loaded, one in all, and only
        when this process has another ready run to go on with."""
        return self._loaded() or int(ready > 1)

    def _outcome(self, future: Future, run: PolicyRun) -> RunOutcome:
        try:
            return future.result()
        except BrokenProcessPool as error:  # a helper died (the OOM killer, a signal): its run can never finish
            self.close()  # unusable: the phase's other runs go here, the next phase starts new helpers
            reap_dead_runs(self.instance)
            cause = f"{run.start}..{run.end} did not finish: a helper process died ({error}); its run is marked failed"
            return RunOutcome("", False, {}, (), {}, frozenset(), (cause,))


def run_dependencies(graph: Any, planned: Sequence[PolicyRun]) -> list[set[int]]:
    """For each planned run, the runs planned before it that it must wait for: those writing partitions it may read.

    Runs of different symbols wait only where an asset of one reads, across symbols (a mapping other than symbol for
    symbol), what an asset of the other writes. Runs sharing a symbol, or covering every symbol (a date-partitioned
    job), wait wherever an asset of one is upstream of an asset of the other, and wherever they share an asset,
    whatever their days: an asset may carry a symbol's state from one day to the next (the champion book)."""
    waits: list[set[int]] = []
    for i, later in enumerate(planned):
        waits.append({j for j, earlier in enumerate(planned[:i]) if _waits(graph, earlier, later)})
    return waits


def _waits(graph: Any, earlier: PolicyRun, later: PolicyRun) -> bool:
    apart = _apart(earlier, later)
    if not apart and set(earlier.assets) & set(later.assets):
        return True
    return _reads(graph, earlier.assets, later.assets, across_only=apart) or _reads(
        graph, later.assets, earlier.assets, across_only=apart
    )


def _apart(a: PolicyRun, b: PolicyRun) -> bool:
    return bool(a.symbols and b.symbols) and not set(a.symbols) & set(b.symbols)


def _reads(graph: Any, written: Sequence[dg.AssetKey], readers: Sequence[dg.AssetKey], *, across_only: bool) -> bool:
    """Whether an asset of ``readers`` reads, directly or through the other assets of the two runs, one of
    ``written`` (across symbols, when ``across_only``)."""
    inside = set(written) | set(readers)
    seen: set[tuple[dg.AssetKey, bool]] = set()
    todo = [(key, False) for key in written]
    while todo:
        key, across = todo.pop()
        for child in graph.get(key).child_keys:
            if child not in inside:
                continue
            state = (child, across or _across_symbols(graph.get_partition_mapping(child, key)))
            if state[0] in readers and (state[1] or not across_only):
                return True
            if state not in seen:
                seen.add(state)
                todo.append(state)
    return False


def _across_symbols(mapping: dg.PartitionMapping) -> bool:
    """True unless ``mapping`` maps each symbol to the same symbol (a date × symbol asset's day window)."""
    if isinstance(mapping, dg.IdentityPartitionMapping):
        return False
    if isinstance(mapping, dg.MultiPartitionMapping):
        symbols = mapping.downstream_mappings_by_upstream_dimension.get(SYMBOL_DIMENSION)
        return symbols is None or not isinstance(symbols.partition_mapping, dg.IdentityPartitionMapping)
    return True


#: this helper's code location and runs (``_start_helper``)
_HELPER: dict[str, Any] = {}


def _start_helper(settings: Settings, parent: int) -> None:
    """A helper dies with its command, then loads the code location as the command did."""
    _die_with(parent)
    defs = build_definitions(settings)
    _HELPER.update(defs=defs, runs=CodeLocationRuns(dg.DagsterInstance.get(), defs.get_repository_def().name))


def _die_with(parent: int) -> None:
    """Linux: the kernel kills this process when ``parent`` dies, however it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # not Linux: a helper ends when it finds its queue gone
        return
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _ready() -> None:
    """A task that only makes the pool start a helper."""


def _execute(job_name: str, assets: Sequence[dg.AssetKey], tags: Mapping[str, str]) -> RunOutcome:
    """A run in a helper: the job by name (a job does not travel between processes)."""
    return _executed(_HELPER["runs"], _HELPER["defs"].resolve_job_def(job_name), assets, tags)


def _executed(
    runs: CodeLocationRuns, job: dg.JobDefinition, assets: Sequence[dg.AssetKey] | None, tags: Mapping[str, str]
) -> RunOutcome:
    """A run in this process, tagged with it (``run_owner``: a run whose process is gone is marked failed)."""
    return outcome_of(runs.execute(job, assets=assets, tags={**tags, **owner_tags()}, run_config=QUIET))
