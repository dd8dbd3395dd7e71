"""The fault probe: ``huracan run`` killed with ``kill -9`` at random points, three times, then one clean run — it
must end with a successful run, no leftovers, and the same archive as an uninterrupted run.

Two fresh homes, each running the default window of ``make run`` (the bundled sample): the reference runs once,
uninterrupted; the probe is killed (the whole process group, as the OOM killer or a lost terminal would) at a
random moment of each of three runs, then runs once more to the end. The archives are then compared file by file:
bytes where the bytes are the content, and, where a file records who wrote it (run ids, MLflow versions, decision
times, which differ between any two runs), the content without those fields; the champion history compares the
decision in force per decision key (a decision taken again supersedes its earlier line by design). Prints one
JSON line per kill, then one with the verdict, and exits 1 when the probe fails.

    .venv/bin/python bench/bench_fault_probe.py            # three kills, seed 7
    .venv/bin/python bench/bench_fault_probe.py --kills 5 --seed 11
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from huracan_core.storage.keys import PROMOTIONS_KEY
from huracan_core.storage.leftovers import find_leftovers

#: fields that name the run, process or moment that wrote a record, not what it holds
WRITER_FIELDS = {
    "dagster_run_id",
    "run_id",
    "mlflow_run_id",
    "mlflow_version",
    "mlflow_champion",
    "decided_at",
    "generated_at",
    "created_at",
}
#: folders outside the comparison: the instance and MLflow record runs, which differ by construction
COMPARED = ("archive",)


def run(home: Path, kill_after: float | None) -> tuple[int, float]:
    """One ``huracan run`` over ``home``; killed with its group after ``kill_after`` seconds when given."""
    env = {**os.environ, "HURACAN_HOME": str(home), "MLFLOW_DISABLE_TELEMETRY": "true"}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "huracan_dagster.cli", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        code = process.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        code = process.wait()
    return code, time.monotonic() - started


def normalized(path: Path, key: str) -> object:
    """What a file holds, without the fields that say who wrote it."""
    if key == PROMOTIONS_KEY:
        in_force = {}
        for line in path.read_text().splitlines():
            record = json.loads(line)
            in_force[record["decision_key"]] = _strip(record)
        return in_force
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        frame = frame.drop([c for c in frame.columns if c in WRITER_FIELDS])
        buffer = io.BytesIO()
        frame.write_ipc(buffer)
        return buffer.getvalue()
    if path.suffix == ".json":
        return _strip(json.loads(path.read_text()))
    return path.read_bytes()


def _strip(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in WRITER_FIELDS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def files(home: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(home)): p
        for folder in COMPARED
        for p in (home / folder).rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def compare(reference: Path, probe: Path) -> dict[str, list[str]]:
    ours, theirs = files(reference), files(probe)
    differ = [
        k
        for k in sorted(set(ours) & set(theirs))
        if normalized(ours[k], k.removeprefix("archive/")) != normalized(theirs[k], k.removeprefix("archive/"))
    ]
    return {
        "only_in_reference": sorted(set(ours) - set(theirs)),
        "only_in_probe": sorted(set(theirs) - set(ours)),
        "differ": differ,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="huracan-probe-") as tmp:
        reference, probe = Path(tmp) / "reference", Path(tmp) / "probe"
        code, whole = run(reference, None)
        print(json.dumps({"run": "reference", "exit": code, "seconds": round(whole, 1)}), flush=True)
        if code != 0:
            return 1
        for n in range(args.kills):
            at = rng.uniform(3.0, whole * 0.9)
            code, seconds = run(probe, at)
            print(
                json.dumps(
                    {
                        "run": f"kill {n + 1}",
                        "kill_after_s": round(at, 1),
                        "exit": code,
                        "leftovers": len(find_leftovers([probe / "archive", probe / "exports", probe / "reports"])),
                    }
                ),
                flush=True,
            )
        code, seconds = run(probe, None)
        leftovers = [
            str(f.path)
            for f in find_leftovers([probe / "archive", probe / "exports", probe / "reports", probe / "dagster"])
        ]
        difference = compare(reference, probe)
        same = not any(difference.values())
        print(
            json.dumps(
                {
                    "run": "clean",
                    "exit": code,
                    "seconds": round(seconds, 1),
                    "leftovers": leftovers,
                    "files_compared": len(files(reference)),
                    "same_archive": same,
                    **difference,
                }
            ),
            flush=True,
        )
        return 0 if code == 0 and not leftovers and same else 1


if __name__ == "__main__":
    sys.exit(main())
