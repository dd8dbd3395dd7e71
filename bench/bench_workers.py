"""Steps over workers: ``huracan run`` of one selection with its steps on N ``huracan workers`` (Redis on loopback)
against the same command with every step in its own process, each over a fresh HURACAN_HOME on PostgreSQL.

The reference is the in-process command (the default profile), timed in the same run on the same window; the
workers are started and ready before the timed command. Per step = (workers wall − in-process wall) / steps, the
price of sending a step to a worker (the run's definitions loaded again there, dagster-celery's 1 s poll). Prints
one JSON line.

    .venv/bin/python bench/bench_workers.py                             # 2 symbols × 3 days, 2 workers
    .venv/bin/python bench/bench_workers.py --symbols BTC/USDT,ETH/USDT,SOL/USDT --days 10 --workers 3
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]

from bench_pipeline import postgres_database

BROKER = os.environ.get("HURACAN_CELERY_BROKER", "redis://127.0.0.1:6379/0")
START = date(2024, 12, 4)


def huracan(env: dict[str, str], *argv: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "huracan_dagster.cli", *argv], cwd=REPO, env=env, **popen)


def timed_run(env: dict[str, str], args: argparse.Namespace) -> tuple[float, str]:
    end = START + timedelta(days=args.days - 1)
    window = ["--start", START.isoformat(), "--end", end.isoformat(), "--symbols", args.symbols]
    began = time.perf_counter()
    run = huracan(env, "run", *window, "--select", args.select, stdout=subprocess.PIPE, text=True)
    out, _ = run.communicate()
    if run.returncode != 0:
        raise SystemExit(f"huracan run failed:\n{out}")
    return time.perf_counter() - began, out


def steps_of(url: str) -> int:
    """The steps the database's runs executed (the database is this measurement's alone)."""
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from event_logs where dagster_event_type = 'STEP_START'")
        (count,) = cur.fetchone() or (0,)
        return count


def environment(home: Path, url: str, args: argparse.Namespace, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HURACAN_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "HURACAN_SOURCE": "bundled",
        "HURACAN_SYMBOLS": args.symbols,
        "HURACAN_PG_URL": url,
        "DAGSTER_EVENT_BATCH_SIZE": "1000",
        **extra,
    }


def with_workers(root: Path, url: str, args: argparse.Namespace) -> tuple[float, int]:
    queue = f"huracan-bench-{uuid.uuid4().hex[:8]}"
    env = environment(
        root / "workers", url, args, HURACAN_EXECUTOR="celery", HURACAN_CELERY_BROKER=BROKER, HURACAN_CELERY_QUEUE=queue
    )
    logs = [root / f"worker{n}.log" for n in range(args.workers)]
    services = [
        huracan(env, "workers", "--processes", "1", stdout=log.open("w"), stderr=subprocess.STDOUT) for log in logs
    ]
    try:
        while not all(" ready." in log.read_text() for log in logs):
            if any(s.poll() is not None for s in services):
                raise SystemExit("a worker exited:\n" + "\n".join(log.read_text()[-2000:] for log in logs))
            time.sleep(0.3)
        wall, _ = timed_run(env, args)
        return wall, steps_of(url)
    finally:
        for service in services:
            service.send_signal(signal.SIGTERM)
        for service in services:
            service.wait(timeout=90)
        import redis

        redis.Redis.from_url(BROKER).delete(queue, f"_kombu.binding.{queue}")


def main() -> None:
    parser = argparse.ArgumentParser(description="huracan run over workers against in process")
    parser.add_argument("--symbols", default="BTC/USDT,ETH/USDT")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--select", default="+features or market_quotes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, postgres_database() as reference_url, postgres_database() as url:
        if url is None or reference_url is None:
            raise SystemExit("no PostgreSQL at 127.0.0.1:5432")
        root = Path(folder)
        in_process, _ = timed_run(environment(root / "in_process", reference_url, args), args)
        workers, steps = with_workers(root, url, args)
    print(
        json.dumps(
            {
                "bench": "workers",
                "select": args.select,
                "symbols": len(args.symbols.split(",")),
                "days": args.days,
                "workers": args.workers,
                "steps": steps,
                "in_process_s": round(in_process, 1),
                "workers_s": round(workers, 1),
                "per_step_s": round((workers - in_process) / steps, 2) if steps else None,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
