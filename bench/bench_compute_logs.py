"""A run's stdout and stderr captured: Dagster's ``LocalComputeLogManager`` against ``FileComputeLogManager``.

Every run captures its process's output for the UI once (``inner_plan_execution_iterator``). Dagster's manager mirrors
each stream back to the terminal with a ``tail -F`` and a Python watcher process; Huracan's writes the same files and
starts no process (``huracan_dagster/instance/compute_logs.py``). Here both capture, alternating, ``--runs`` times the
same lines into a fresh directory, and the files each leaves are compared; a difference stops the bench. Prints one
JSON line: wall and CPU milliseconds a run (the CPU of the processes started counted in), processes started a run,
and the ratio.

    .venv/bin/python bench/bench_compute_logs.py
    .venv/bin/python bench/bench_compute_logs.py --runs 100
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from huracan_dagster.dagster_internals import LocalComputeLogManager
from huracan_dagster.instance.compute_logs import FileComputeLogManager
from tests.ui.processes import descendants


def cpu_s() -> float:
    """CPU seconds of this process and of the children it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def capture(manager: LocalComputeLogManager, run: int, totals: dict[str, float]) -> None:
    log_key = manager.build_log_key_for_run(f"run-{run}", "steps")
    wall, cpu = time.perf_counter(), cpu_s()
    with manager.capture_logs(log_key):
        print(f"a step's line of run {run}", flush=True)
        print(f"a warning of run {run}", file=sys.stderr, flush=True)
        scan, scan_cpu = time.perf_counter(), cpu_s()
        totals["processes"] += len(descendants(os.getpid()))
        wall += time.perf_counter() - scan  # the scan is not the manager's: left out of both figures
        cpu += cpu_s() - scan_cpu
    totals["wall_s"] += time.perf_counter() - wall
    totals["cpu_s"] += cpu_s() - cpu


def files(base: Path) -> dict[str, bytes]:
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as quiet:
        managers = {
            "dagster": LocalComputeLogManager(f"{tmp}/dagster"),
            "huracan": FileComputeLogManager(f"{tmp}/huracan"),
        }
        totals = {name: {"wall_s": 0.0, "cpu_s": 0.0, "processes": 0.0} for name in managers}
        terminal = os.dup(1), os.dup(2)
        os.dup2(quiet.fileno(), 1)  # what the mirror copies goes nowhere, as from a run with no one watching
        os.dup2(quiet.fileno(), 2)
        try:
            for run in range(args.runs):
                for name in sorted(managers, reverse=run % 2 == 1):
                    capture(managers[name], run, totals[name])
        finally:
            os.dup2(terminal[0], 1)
            os.dup2(terminal[1], 2)
        dagster, huracan = (files(Path(tmp) / name) for name in ("dagster", "huracan"))
        if dagster != huracan:
            raise SystemExit(f"the two managers left different files: {sorted(set(dagster) ^ set(huracan))[:5]}")
    line: dict[str, object] = {"bench": "compute_logs", "runs": args.runs, "files_equal": True}
    for name, t in totals.items():
        line |= {
            f"{name}_ms_a_run": round(t["wall_s"] / args.runs * 1000, 2),
            f"{name}_cpu_ms_a_run": round(t["cpu_s"] / args.runs * 1000, 2),
            f"{name}_processes_a_run": round(t["processes"] / args.runs, 2),
        }
    line["ratio_wall"] = round(totals["huracan"]["wall_s"] / totals["dagster"]["wall_s"], 4)
    line["ratio_cpu"] = round(totals["huracan"]["cpu_s"] / totals["dagster"]["cpu_s"], 4)
    print(json.dumps(line))


if __name__ == "__main__":
    main()
