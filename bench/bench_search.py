"""The research search's throughput: candidates per minute and wall time per coin, over N worker processes against
the same evaluations run sequentially in one process (the reference, timed in the same run on the same inputs).

Both runs evaluate every unit (no cache) of the space over the window; the inputs (features, votes, labels, the
encoder) are built inside each timed run, as ``huracan research`` builds them. Prints one JSON line per run and one
with the ratios.

    .venv/bin/python bench/bench_search.py                                   # bundled sample, default space, 150 days
    .venv/bin/python bench/bench_search.py --days 90 --workers 2
    .venv/bin/python bench/bench_search.py --source replay:../shared/data/candles --space years \\
        --start 2023-01-01 --days 730 --symbols BTC/USDT,ETH/USDT,SOL/USDT
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from huracan_core.cores import at_most_cores
from huracan_core.research.bars import load_bars
from huracan_core.research.search import run_search
from huracan_core.research.space import load_space
from huracan_core.sources.factory import open_source
from huracan_core.trading.costs import CostModel


def timed(args: argparse.Namespace, workers: int) -> dict[str, object]:
    space = load_space(args.space)
    source = open_source(args.source)
    start = datetime.combine(date.fromisoformat(args.start), datetime.min.time(), UTC)
    end = start + timedelta(days=args.days)
    symbols = args.symbols.split(",") if args.symbols else source.symbols(space.timeframes[0])
    began, cpu = time.perf_counter(), os.times()
    candles = {tf: load_bars(source, symbols, tf, start, end) for tf in space.timeframes}
    run = run_search(space, candles, start, end, costs=CostModel(), workers=workers)
    wall = time.perf_counter() - began
    spent = os.times()
    children = (spent.children_user + spent.children_system) - (cpu.children_user + cpu.children_system)
    candidates = len(run.records)
    return {
        "bench": "search",
        "workers": at_most_cores(workers),
        "space": space.name,
        "timeframes": list(space.timeframes),
        "symbols": len(symbols),
        "days": args.days,
        "units": run.computed,
        "candidates": candidates,
        "wall_s": round(wall, 1),
        "cpu_s": round((spent.user + spent.system) - (cpu.user + cpu.system) + children, 1),
        "candidates_per_minute": round(candidates / wall * 60, 2),
        "wall_s_per_coin": round(wall / len(symbols), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", default="bundled")
    parser.add_argument("--space", default="default")
    parser.add_argument("--symbols", default="")
    parser.add_argument("--start", default="2024-08-03")
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    reference = timed(args, 1)
    print(json.dumps(reference), flush=True)
    parallel = timed(args, args.workers)
    print(json.dumps(parallel), flush=True)
    print(
        json.dumps(
            {
                "bench": "search_ratio",
                "workers": parallel["workers"],
                "speedup": round(float(reference["wall_s"]) / float(parallel["wall_s"]), 2),  # type: ignore[arg-type]
                "candidates_per_minute": parallel["candidates_per_minute"],
                "reference_candidates_per_minute": reference["candidates_per_minute"],
            }
        )
    )


if __name__ == "__main__":
    main()
