"""A backfill launched from the UI, run by the daemon: wall time and orchestration overhead per partition-asset.

The per-day chain (candles → features → regimes → signals → labels) of N symbols × D days is launched through the
web UI's own GraphQL call (``launchPartitionBackfill``, as its backfill dialog sends it) against ``huracan ui``
(webserver + daemon) over a fresh HURACAN_HOME, on the SQLite instance and on PostgreSQL (127.0.0.1:5432). The
daemon cuts it into runs by the assets' backfill policies (``huracan_dagster/defs/partitions.py``). Each asset gets
what the chain reads: candles from the recipe's trailing window and the signals' warm-up before day 1, features
and regimes from the warm-up, signals and labels over the D days — as ``huracan run`` does.

The reference is the same core calls on the same partitions in one process, nothing stored (``bench_pipeline``'s
``direct``), timed in the same run. Overhead per partition-asset = (backfill wall − direct wall) / partition-assets,
and every partition is checked to be materialized and recorded exactly once. Prints one JSON line per storage.

With ``--models-every N`` the backfill also takes the shared encoder and the coin models of every day whose 150
days of history lie in the window, retrained every N days (``HURACAN_RETRAIN_EVERY_DAYS``): the days between
materialize in milliseconds, and the reference trains the same models (folders written, MLflow runs logged).

    .venv/bin/python bench/bench_backfill.py                          # 10 symbols × 365 days, sqlite and postgres
    .venv/bin/python bench/bench_backfill.py 3 30 sqlite              # symbols, days, storages
    .venv/bin/python bench/bench_backfill.py 10 365 sqlite postgres --models-every 56   # as in the README
    .venv/bin/python bench/bench_backfill.py 10 365 postgres --models-every 7 --no-reference  # the backfill alone

``--no-reference`` leaves the reference out (and the overhead with it): with weekly models it trains on one core for
longer than the backfill takes on two, so its overhead says nothing, and it doubles the bench's time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import date, timedelta
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from bench_pipeline import SHARED, SHARED_PAIRS, direct, postgres_database

END = date(2024, 11, 29)
#: partitioned by date only (every symbol inside each day)
DATE_ASSETS = ("shared_encoder",)


def spans(start: date, end: date, models: bool) -> dict[str, tuple[date, date]]:
    from huracan_core.features.recipe import FeatureRecipe
    from huracan_core.features.windows import history_days
    from huracan_core.models.training import ModelConfig
    from huracan_core.trading.signals import WARMUP_DAYS

    warm = start - timedelta(days=WARMUP_DAYS)
    history = warm - timedelta(days=history_days(FeatureRecipe.default("15m")))
    chain = {
        "candles": (history, end),
        "features": (warm, end),
        "regimes": (warm, end),
        "signals": (start, end),
        "labels": (start, end),
    }
    trained = (start + timedelta(days=ModelConfig().train_days), end)  # the days whose model history is in the window
    return {**chain, "shared_encoder": trained, "coin_model": trained} if models else chain


def partition_keys(name: str, first: date, last: date, keys: list[str]) -> set[str]:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return {d.isoformat() for d in days} if name in DATE_ASSETS else {f"{d}|{k}" for d in days for k in keys}


def backfill(
    home: Path, symbols: list[str], start: date, end: date, pg_url: str, every: int
) -> tuple[float, dict[str, int], int]:
    import dagster as dg

    from huracan_dagster.instance.prepare import prepare_dagster_home
    from huracan_dagster.instance.registration import register_symbols
    from huracan_dagster.settings import Settings
    from tests.ui.dagster_service import dagster_ui, launch_backfill, wait_backfill

    env = {
        **os.environ,
        "HURACAN_HOME": str(home),
        "HURACAN_SOURCE": f"replay:{SHARED}",
        "HURACAN_SYMBOLS": ",".join(symbols),
        "HURACAN_TIMEFRAME": "15m",
        "HURACAN_PG_URL": pg_url,
        "HURACAN_RETRAIN_EVERY_DAYS": str(every or 1),
        "HURACAN_ENCODER_DEVICE": "cpu",
    }
    os.environ.update(env)
    prepare_dagster_home(Settings.from_env())
    keys = [s.replace("/", "-") for s in symbols]
    with dg.DagsterInstance.get() as instance:
        register_symbols(instance, keys)
    ranges = [
        (["15m", name], str(first), str(last))
        if name in DATE_ASSETS
        else (["15m", name], f"{first}|{keys[0]}", f"{last}|{keys[-1]}")
        for name, (first, last) in spans(start, end, bool(every)).items()
    ]
    with dagster_ui(home / "ui.log", env) as url:
        began = time.perf_counter()
        backfill_id = launch_backfill(url, ranges, title=f"bench {len(keys)} × {(end - start).days + 1}")
        state = wait_backfill(url, backfill_id, timeout=3 * 3600)
        wall = time.perf_counter() - began
    if state.get("status") != "COMPLETED_SUCCESS":
        raise SystemExit(f"backfill ended {state}: see {home / 'ui.log'}")
    counts = {}
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        for name, (first, last) in spans(start, end, bool(every)).items():
            expected = partition_keys(name, first, last, keys)
            records = instance.fetch_materializations(dg.AssetKey(["15m", name]), limit=len(expected) + 1).records
            got = [r.partition_key for r in records]
            if len(got) != len(set(got)) or set(got) != expected:
                raise SystemExit(f"15m/{name}: {len(set(got))} partitions recorded of {len(expected)} (or some twice)")
            counts[name] = len(got)
    return wall, counts, len(runs)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("symbols", nargs="?", type=int, default=10)
    parser.add_argument("days", nargs="?", type=int, default=365)
    parser.add_argument("storages", nargs="*", default=["sqlite", "postgres"])
    parser.add_argument(
        "--models-every", type=int, default=0, metavar="N", help="coin models retrained every N days (0: none)"
    )
    parser.add_argument("--no-reference", action="store_true", help="the backfill alone, no direct reference")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(json.dumps({"bench": "backfill", "skipped": f"no real candles at {SHARED}"}))
        return
    symbols = SHARED_PAIRS.split(",")[: args.symbols]
    start = END - timedelta(days=args.days - 1)
    scenario = {
        "source": f"replay:{SHARED}",
        "symbols": ",".join(symbols),
        "start": start,
        "end": END,
        "retrain_every_days": args.models_every,
    }
    timings: dict[str, float] = {}
    direct_wall: float | None = None
    if not args.no_reference:
        began = time.perf_counter()
        timings = direct(scenario, through="coin_model" if args.models_every else "labels")
        direct_wall = time.perf_counter() - began
    for storage in args.storages:
        with (
            tempfile.TemporaryDirectory() as tmp,
            postgres_database() if storage == "postgres" else nullcontext("") as url,
        ):
            if url is None:
                print(
                    json.dumps({"bench": "backfill", "storage": storage, "skipped": "no PostgreSQL at 127.0.0.1:5432"})
                )
                continue
            wall, counts, runs = backfill(Path(tmp) / "home", symbols, start, END, url, args.models_every)
        n = sum(counts.values())
        print(
            json.dumps(
                {
                    "bench": "backfill",
                    "storage": storage,
                    "symbols": args.symbols,
                    "days": args.days,
                    "window": f"{start}..{END}",
                    "retrain_every_days": args.models_every or None,
                    "partition_assets": n,
                    "runs": runs,
                    "backfill_wall_s": round(wall, 1),
                    "direct_wall_s": None if direct_wall is None else round(direct_wall, 1),
                    "overhead_ms_per_partition_asset": (
                        None if direct_wall is None else round((wall - direct_wall) / n * 1e3, 1)
                    ),
                    "partition_assets_per_s": round(n / wall, 1),
                    "materialized": counts,
                    "direct_s": {k: round(v, 2) for k, v in timings.items()},
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
