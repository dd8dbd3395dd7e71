"""The scale the product promises — 20 pairs × 2 years of 15m, the per-day chain plus weekly retraining, on 2 cores —
measured on the pairs ``../shared`` holds for two years, and carried to 20 pairs in the same JSON line.

``../shared`` has 15m candles of 10 pairs over 2023-01-02..2024-12-31 (two more pairs over eight months of 2024),
so the bench measures those 10 pairs in two parts and says how it adds them up:

(a) ``chain``: ``huracan run`` of the per-day chain (``bench_pipeline.PER_DAY_CHAIN``) over the whole span — from the
    first day the source holds the chain's history for, to 2024-12-31 — into a fresh home on the default instance,
    its runs spread over ``--workers`` processes (the command and its helpers). Measured whole: wall, partition-assets.
(b) ``retraining``: the shared encoder and every coin's model of ``--days`` retrain days (every 7 days, Mondays: the
    span's last ones), trained by the core calls ``shared_encoder`` and ``coin_model`` make
    (``bench_pipeline.train_models``: model folders written, MLflow runs logged), the days split over ``--workers``
    processes as contiguous blocks. Each process first computes its days' inputs (the chain through the labels over
    their 150-day windows, not timed), then all start training together; the wall is from that start to the last
    one done. A model takes seconds and its partition's orchestration milliseconds (``bench_backfill.py
    --models-every``), so the core calls stand for the assets here. Every booster's fit (``lightgbm.train``: its
    dataset built, then boosted) is timed apart: ``lightgbm_s``, and its share of the models' time.
(c) ``scale`` (with both parts): the span's wall for the 10 pairs, (a) + (b) × R / ``--days``, R being the span's
    retrain days that have a model's 150 days of labels before them; then the promise: (a) per day × 730 days, plus
    (b) per retrain day × the retrain days of a 730-day span, × 20 / 10 pairs. Every asset of the chain and every
    coin model is per symbol, so the carry is linear, except two parts that grow otherwise: the shared encoder
    trains once a retrain day on at most ``EncoderConfig.max_rows`` rows whatever the pairs (linear overstates it),
    and the cross-asset features read the universe's members of each day (linear understates them when the
    universe grows). ``promised_lightgbm_fits_min`` carries the fits alone the same way, over ``--workers``
    processes: a floor that no change to the orchestration, the I/O or the rest of the training can go under.

    .venv/bin/python bench/bench_scale.py                       # 2 workers, 4 retrain days
    .venv/bin/python bench/bench_scale.py retraining            # only the retraining (what a pair of commits compares)
    .venv/bin/python bench/bench_scale.py --workers 2 --days 8
    .venv/bin/python bench/bench_scale.py --pairs 2 --days 2     # a quick look (its line is not the promise)
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import os
import queue
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from bench_pipeline import PER_DAY_CHAIN, SHARED, SHARED_PAIRS, through_dagster

END = date(2024, 12, 31)
#: the pairs and years the product promises, and the wall it promises them in on 2 cores
PROMISED_PAIRS, PROMISED_YEARS, TARGET_S = 20, 2, 3600.0
RETRAIN_EVERY_DAYS = 7
SOURCE = f"replay:{SHARED}"
#: what the training imports at its first use (5–6 s a process), loaded before its clock starts
WARM = ("lightgbm", "torch", "mlflow")


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def chain_start(home: Path, pairs: str) -> date:
    """The first day the per-day chain can run from on the source: its declared history (candles of the features'
    windows, the signals' warm-up) must lie within the days the source holds whole for every pair."""
    from huracan_core.sources import open_source
    from huracan_dagster.cli.selection import resolve_selection
    from huracan_dagster.cli.window_plan import plan_window
    from huracan_dagster.defs.definitions import build_definitions
    from huracan_dagster.settings import Settings

    os.environ.update(HURACAN_HOME=str(home), HURACAN_SOURCE=SOURCE, HURACAN_SYMBOLS=pairs)
    settings = Settings.from_env()
    graph = build_definitions(settings).resolve_asset_graph()
    selected = resolve_selection(graph, settings.timeframe, PER_DAY_CHAIN)
    assert selected is not None
    source = open_source(SOURCE)
    firsts = [source.first_timestamp(p, settings.timeframe) for p in pairs.split(",")]
    listed = max(t.date() for t in firsts if t is not None) + timedelta(days=1)  # the first day every pair has whole
    need = plan_window(graph, set(selected), END, END).earliest_need
    return listed + (END - need.first) if need is not None else listed


def retrain_days(first: date) -> list[date]:
    """The retrain days of a chain that starts on ``first``: those with a model's window of labels before them."""
    from huracan_core.models.cadence import RetrainCadence
    from huracan_core.models.training import ModelConfig

    cadence, first_model_day = RetrainCadence(RETRAIN_EVERY_DAYS), first + timedelta(days=ModelConfig().train_days)
    days = [first_model_day + timedelta(days=n) for n in range((END - first_model_day).days + 1)]
    return [d for d in days if cadence.is_retrain_day(d)]


def train_share(days: list[date], pairs: str, barrier, results) -> None:
    """One process's block of retrain days: their inputs, then (with the other processes) their training, timed."""
    import bench_pipeline

    from huracan_core.models.training import ModelConfig

    untimed = bench_pipeline.train_models
    fits = {"count": 0, "s": 0.0}

    def timed(inputs, traded, every, members):
        from huracan_core.models.cadence import RetrainCadence
        from huracan_core.models.day_models import retrain_split

        trains, _ = retrain_split(bench_pipeline.model_days(traded), RetrainCadence(every))
        for library in WARM:  # a run worker that trains has them loaded once for all its models
            importlib.import_module(library)
        count_fits(importlib.import_module("lightgbm"), fits)
        barrier.wait()  # every process has its inputs: the training starts together
        began = time.time()
        out = untimed(inputs, traded, every, members)
        results.put({"began": began, "ended": time.time(), "days": sorted({d for d, _ in trains}), "fits": fits, **out})
        return out

    bench_pipeline.train_models = timed
    window = timedelta(days=ModelConfig().train_days)  # the model days of this span are exactly ``days``
    scenario = dict(source=SOURCE, symbols=pairs, start=days[0] - window, end=days[-1])
    bench_pipeline.direct({**scenario, "retrain_every_days": RETRAIN_EVERY_DAYS}, through="coin_model")


def count_fits(lightgbm: ModuleType, fits: dict[str, float]) -> None:
    """Times every booster's fit of this process (``lightgbm.train``: its dataset's construction and the boosting),
    the part of the retraining only fewer fits or more cores can shorten (``docs/performance.md``)."""
    train = lightgbm.train

    def timed_train(*args, **kwargs):
        began = time.perf_counter()
        try:
            return train(*args, **kwargs)
        finally:
            fits["count"] += 1
            fits["s"] += time.perf_counter() - began

    lightgbm.train = timed_train


def retraining(days: list[date], pairs: str, workers: int) -> dict[str, float]:
    blocks = [days[len(days) * w // workers : len(days) * (w + 1) // workers] for w in range(workers)]
    context = multiprocessing.get_context("spawn")  # polars' threads do not survive a fork
    barrier, results = context.Barrier(len(blocks)), context.Queue()
    processes = [context.Process(target=train_share, args=(b, pairs, barrier, results)) for b in blocks]
    for process in processes:
        process.start()
    shares: list[dict] = []
    while len(shares) < len(processes):
        try:
            shares.append(results.get(timeout=5))
        except queue.Empty:
            if any(p.exitcode for p in processes):  # the others would wait at the barrier for ever
                for process in processes:
                    process.terminate()
                raise SystemExit("a retraining process failed: its error is above") from None
    for process in processes:
        process.join()
    trained = sorted(d for s in shares for d in s["days"])
    assert trained == days, f"trained the retrain days {trained}, not {days}"
    return {
        "wall_s": max(s["ended"] for s in shares) - min(s["began"] for s in shares),
        "encoders_s": sum(s["shared_encoder"] for s in shares),
        "models_s": sum(s["coin_model"] for s in shares),
        "fits": sum(s["fits"]["count"] for s in shares),
        "fits_s": sum(s["fits"]["s"] for s in shares),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", metavar="{chain,retraining}", help="which to measure (default: both)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the chain's runs and the training")
    parser.add_argument("--days", type=int, default=4, help="retrain days measured (the span's last ones)")
    parser.add_argument("--pairs", type=int, default=10, help="the first N of the ten two-year pairs (a quick look)")
    args = parser.parse_args(argv)
    parts = args.parts or ["chain", "retraining"]
    if set(parts) - {"chain", "retraining"}:
        parser.error(f"unknown parts {parts}: choose from chain, retraining")
    if not SHARED.is_dir():
        emit(bench="scale", skipped=f"no real candles at {SHARED}")
        return
    symbols = ",".join(SHARED_PAIRS.split(",")[: args.pairs])
    pairs = len(symbols.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        start = chain_start(Path(tmp) / "plan", symbols)
        if "chain" in parts:
            scenario = dict(source=SOURCE, symbols=symbols, start=start, end=END)
            chain_wall, _, counts, _ = through_dagster(Path(tmp) / "home", scenario, workers=args.workers)
            days, partition_assets = (END - start).days + 1, sum(counts.values())
            emit(bench="chain", pairs=pairs, window=f"{start}..{END}", days=days, workers=args.workers,
                 partition_assets=partition_assets, wall_s=round(chain_wall, 1),
                 ms_per_partition_asset=round(chain_wall / partition_assets * 1e3, 2), materialized=counts)  # fmt: skip

    span = retrain_days(start)
    if "retraining" in parts:
        measured = span[-args.days :]
        trained = retraining(measured, symbols, args.workers)
        per_day = trained["wall_s"] / len(measured)
        emit(bench="retraining", pairs=pairs, retrain_days=[str(d) for d in measured], workers=args.workers,
             coin_models=pairs * len(measured), wall_s=round(trained["wall_s"], 1),
             wall_s_per_retrain_day=round(per_day, 1), encoders_s=round(trained["encoders_s"], 1),
             models_s=round(trained["models_s"], 1),
             s_per_coin_model=round(trained["models_s"] / (pairs * len(measured)), 2),
             lightgbm_fits=trained["fits"], lightgbm_s=round(trained["fits_s"], 1),
             fits_per_coin_model=round(trained["fits"] / (pairs * len(measured)), 1),
             lightgbm_share_of_models=round(trained["fits_s"] / trained["models_s"], 3))  # fmt: skip
    if len(parts) < 2:
        return
    # the promise: two whole years (the chain per day, the retrain days of a span that long) of 20 pairs
    promised_days = 365 * PROMISED_YEARS
    promised_retrain_days = len(retrain_days(END - timedelta(days=promised_days - 1)))
    chain_promised = chain_wall / days * promised_days
    retraining_promised = per_day * promised_retrain_days
    promised_s = (chain_promised + retraining_promised) * PROMISED_PAIRS / pairs
    # the boosters' fits alone, on the processes the retraining ran on: what no orchestration or I/O change shortens
    fits_promised = trained["fits_s"] / len(measured) * promised_retrain_days * PROMISED_PAIRS / pairs / args.workers
    emit(bench="scale", pairs=pairs, span=f"{start}..{END}", wall_s=round(chain_wall + per_day * len(span), 1),
         retrain_days_in_span=len(span), promised_pairs=PROMISED_PAIRS, promised_days=promised_days,
         promised_retrain_days=promised_retrain_days,
         promised_chain_s=round(chain_promised * PROMISED_PAIRS / pairs, 1),
         promised_retraining_s=round(retraining_promised * PROMISED_PAIRS / pairs, 1),
         promised_wall_s=round(promised_s, 1), promised_wall_min=round(promised_s / 60, 1), target_s=TARGET_S,
         within_target=promised_s < TARGET_S, promised_lightgbm_fits_min=round(fits_promised / 60, 1),
         fits_alone_within_target=fits_promised < TARGET_S, workers=args.workers, cpus=os.cpu_count())  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
