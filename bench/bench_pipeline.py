"""Orchestration overhead of the daily chain: ``huracan run`` through Dagster vs the same core calls in one process.

For each scenario the chain (candles → features → regimes → signals → labels → champion → shadow_trades →
trade_analysis, with the blocking
validation and causality proofs and the warning checks) runs twice on the same partitions:

* through Dagster — ``run_window`` exactly as ``huracan run`` does it, into a fresh HURACAN_HOME on the default
  instance (SQLite), so the figure includes the event log, the IO manager, metadata and check evaluations;
* directly — the same core functions on the same partitions in this process, with nothing stored.

Overhead per partition-asset = (Dagster wall − direct wall) / partition-assets materialized. Each asset's share is
its step time in the Dagster run (from the event log) next to its direct time, and its step's split (``split_s``):
the seconds its partitions took to write (the IO manager's ``handle_output``), its events to store (the instance's
``handle_new_event``, by the event's step; ``run`` for the runs' own events) and its files to be read by the steps
downstream (``load_input``), timed in the one-process run. ``dagster_cpu_s`` is the user and system time the run
took on all cores (its polars and Arrow threads, and with ``--workers`` its helpers): the wall cannot go under it
divided by the cores. Prints one JSON line per scenario.
The ``storage`` scenario runs the default window on each instance storage: Dagster's stock SQLite event log and run
storage, Huracan's pooled ones (the default, ``huracan_dagster/instance/sqlite_storage.py``) and PostgreSQL on 127.0.0.1:5432.

    .venv/bin/python bench/bench_pipeline.py              # default, sample, shared, storage
    .venv/bin/python bench/bench_pipeline.py default      # any of: default, sample, shared, storage
    .venv/bin/python bench/bench_pipeline.py sample --workers 2   # and again with ``huracan run --workers 2``

With ``--workers N`` each scenario also runs through Dagster in N processes (the command and N − 1 helpers,
``huracan_dagster/cli/run_pool.py``); its overhead is that wall less the same one-process direct reference, so it
says how much sooner the window is done, not how much less work it is.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from huracan_core.trading.costs import CostModel

SHARED = Path(
    os.environ.get("HURACAN_SHARED_CANDLES", Path(__file__).resolve().parents[2] / "shared" / "data" / "candles")
)
SHARED_PAIRS = "BTC/USDT,ETH/USDT,BNB/USDT,SOL/USDT,XRP/USDT,ADA/USDT,DOGE/USDT,LINK/USDT,AVAX/USDT,DOT/USDT"
#: the per-day chain (models are benchmarked by bench_training.py): no challengers, no champion, the rules trade
PER_DAY_CHAIN = "candles or market_quotes or features or regimes or signals or labels or champion or shadow_trades or trade_analysis"
#: the costs every step is priced at: the default model (perpetual VIP 0, taker, the recorded quotes)
COSTS = CostModel()
SCENARIOS = {
    "default": dict(source="bundled", symbols="", start=date(2024, 12, 1), end=date(2024, 12, 31)),
    # from the first day whose champion can read its week of signals (their warm-up reaches back to the sample's start)
    "sample": dict(source="bundled", symbols="", start=date(2024, 7, 12), end=date(2024, 12, 31)),
    "shared": dict(source=f"replay:{SHARED}", symbols=SHARED_PAIRS, start=date(2024, 9, 1), end=date(2024, 11, 29)),
}


@contextmanager
def split_timers() -> Iterator[dict[str, dict[str, float]]]:
    """Seconds per asset spent writing its partitions, storing its step's events and reading its files downstream,
    while the context is open (in this process: a run over one process)."""
    import dagster as dg

    from huracan_dagster.defs.io_manager import PartitionedFrameIOManager

    split: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def timed(method, part: str, asset_of):
        def wrapper(self, first, *args, **kwargs):
            began = time.perf_counter()
            try:
                return method(self, first, *args, **kwargs)
            finally:
                split[asset_of(first)][part] += time.perf_counter() - began

        return wrapper

    originals = [
        (PartitionedFrameIOManager, "handle_output", "written", lambda context: context.asset_key.path[-1]),
        (PartitionedFrameIOManager, "load_input", "read", lambda context: context.asset_key.path[-1]),
        (dg.DagsterInstance, "handle_new_event", "events", lambda event: (event.step_key or "run").split("__")[-1]),
    ]
    saved = [(cls, name, getattr(cls, name)) for cls, name, _, _ in originals]
    for cls, name, part, asset_of in originals:
        setattr(cls, name, timed(getattr(cls, name), part, asset_of))
    try:
        yield split
    finally:
        for cls, name, method in saved:
            setattr(cls, name, method)


def cpu_seconds() -> float:
    """User and system time of this process and of its children that have ended (a run's helpers, once shut down):
    the work ``huracan run`` did on every core, which its wall cannot go under once divided by the cores."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def through_dagster(
    home: Path, scenario: dict, storage: str = "pooled", workers: int = 1
) -> tuple[float, dict[str, float], dict[str, int], float]:
    """``huracan run`` of the scenario into ``home``: its wall, each asset's step seconds, its materializations and
    the CPU seconds the command and its helpers took."""
    import dagster as dg

    from huracan_dagster.cli.run import run_window
    from huracan_dagster.instance.prepare import prepare_dagster_home
    from huracan_dagster.settings import Settings

    os.environ.update(
        HURACAN_HOME=str(home),
        HURACAN_SOURCE=scenario["source"],
        HURACAN_SYMBOLS=scenario["symbols"],
        HURACAN_RUN_WORKERS=str(workers),
    )
    settings = Settings.from_env()
    prepare_dagster_home(settings)
    forget_decoded_frames()
    if storage == "stock":  # the same instance without its storage blocks: Dagster's own SQLite event log and runs
        import yaml

        config = settings.dagster_home / "dagster.yaml"
        instance = yaml.safe_load(config.read_text())
        instance.pop("event_log_storage")
        instance.pop("run_storage", None)  # kept since 5951ec7 (instance/sqlite_run_storage.py)
        config.write_text(yaml.safe_dump(instance))
    started, cpu = time.perf_counter(), cpu_seconds()
    code = run_window(settings, scenario["start"], scenario["end"], symbols=None, select=PER_DAY_CHAIN)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    if code:
        raise SystemExit(f"huracan run failed for {scenario}")
    steps: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    with dg.DagsterInstance.get() as instance:
        for run in instance.get_runs():
            for record in instance.all_logs(run.run_id):
                event = record.dagster_event
                if event is None:
                    continue
                if event.event_type_value == "STEP_SUCCESS":
                    steps[event.step_key.split("__")[-1]] += event.event_specific_data.duration_ms / 1e3
                elif event.event_type_value == "ASSET_MATERIALIZATION":
                    counts[event.asset_key.path[-1]] += 1
    return wall, dict(steps), dict(counts), cpu


def import_chain() -> float:
    """Load what the direct chain runs, and say how many seconds it took. The peer's figure for freqtrade holds none
    of its imports, so the chain's holds none of its own: the modules ``direct`` imports (read off its code, so the
    list is its own import statements) and pandera's polars API, which the candles' validation imports when first
    called."""
    import dis
    import importlib

    modules = [i.argval for i in dis.get_instructions(direct) if i.opname == "IMPORT_NAME"]
    began = time.perf_counter()
    for module in [*modules, "pandera.polars"]:
        importlib.import_module(module)
    return time.perf_counter() - began


def direct(scenario: dict, through: str = "trade_analysis") -> dict[str, float]:
    """The same core calls on the same partitions, timed per asset up to ``through``; nothing stored."""
    from huracan_core.candles import load_candle_partitions
    from huracan_core.champions.book import ChampionBook
    from huracan_core.champions.day_decisions import decide_partitions
    from huracan_core.desk.day_analysis import analyse_partitions
    from huracan_core.desk.shadow_day import trade_partitions
    from huracan_core.features.recipe import FeatureRecipe
    from huracan_core.features.windows import compute_feature_partitions, history_days, prove_causality
    from huracan_core.models.lookahead_labels import label_partitions
    from huracan_core.regimes import RegimeDetector
    from huracan_core.regimes.proof import prove_regime_causality
    from huracan_core.sources import open_source
    from huracan_core.storage import LocalArtifactStore
    from huracan_core.symbols import to_ccxt, to_key
    from huracan_core.trading.measured_quotes import quote_frame
    from huracan_core.trading.signals import WARMUP_DAYS, prove_signal_causality, signal_partitions
    from huracan_core.universe import UniverseConfig, resolve_universe, universe_by_day

    source = open_source(scenario["source"])
    recipe, detector = FeatureRecipe.default("15m"), RegimeDetector()
    start, end = scenario["start"], scenario["end"]
    config = UniverseConfig(symbols=tuple(s for s in scenario["symbols"].split(",") if s))
    symbols = [to_key(s) for s in resolve_universe(source, "15m", config, as_of=end + timedelta(days=1))]
    listed = [source.first_timestamp(s, "15m").date() + timedelta(days=1) for s in symbols]
    lead = min(start, max(start - timedelta(days=WARMUP_DAYS), *listed))  # the trader's warm-up days
    days = [lead + timedelta(days=n) for n in range((end - lead).days + 1)]
    first = min(start, max(lead - timedelta(days=history_days(recipe)), *listed))
    wanted = [(d, s) for s in symbols for d in days]
    traded = [(d, s) for d, s in wanted if d >= start]
    timings: dict[str, float] = {}

    def timed(name, fn):
        began = time.perf_counter()
        out = fn()
        timings[name] = time.perf_counter() - began
        return out

    all_days = [first + timedelta(days=n) for n in range((end - first).days + 1)]
    parts = timed(
        "candles",
        lambda: load_candle_partitions(source, "15m", {s: all_days for s in symbols}, lambda d, s: f"{d}|{s}"),
    )
    candles = {(p.day, p.symbol): p.frame for p in parts}

    def features():
        batch = compute_feature_partitions(recipe, candles, wanted, universe_by_day(source, "15m", config, days))
        prove_causality(recipe, batch, 3)
        return {(p.day, p.symbol): p.frame for p in batch.parts}

    feats = timed("features", features)

    def regimes():
        out = detector.detect_many(feats)  # as the regimes asset: its range in one query
        prove_regime_causality(detector, feats, 3)
        return out

    regs = timed("regimes", regimes)
    # the recorded source's quote of each day, as the market_quotes asset stores it (the direct chain prices with
    # the same recorded table through COSTS)
    timed("market_quotes", lambda: {(d, s): quote_frame(COSTS.quotes.quote(to_ccxt(s), d)) for d, s in feats})

    def signals():
        out = signal_partitions(candles, feats, regs, traded, warmup_days=WARMUP_DAYS, costs=COSTS)
        prove_signal_causality(
            {"candles": candles, "features": feats, "regimes": regs}, out, 3, warmup_days=WARMUP_DAYS, costs=COSTS
        )
        return out

    sigs = timed("signals", signals)
    labels = {
        (p.day, p.symbol): p.frame
        for p in timed("labels", lambda: label_partitions(candles, feats, regs, sigs, traded, "15m", costs=COSTS))
    }
    if through == "coin_model":
        inputs = {"candles": candles, "features": feats, "regimes": regs, "signals": sigs, "labels": labels}
        timings.update(
            train_models(inputs, traded, scenario["retrain_every_days"], universe_by_day(source, "15m", config, days))
        )
    if through in ("labels", "coin_model"):
        return timings

    def champions():
        with tempfile.TemporaryDirectory() as tmp:  # no coin models in the per-day chain: each day keeps "no champion"
            book = ChampionBook(LocalArtifactStore(tmp), "15m")
            inputs = {"candles": candles, "features": feats, "regimes": regs, "signals": sigs}
            return list(
                decide_partitions(
                    book,
                    {},
                    inputs,
                    traded,
                    "15m",
                    evaluation_days=7,
                    recipe_hash=recipe.version_hash,
                    costs=COSTS,
                    now=lambda: datetime.now(UTC),
                )
            )

    timed("champion", champions)
    days_traded = timed(
        "shadow_trades", lambda: trade_partitions(candles, feats, regs, sigs, traded, "15m", costs=COSTS)
    )
    ledgers = {(t.day, t.symbol): t.ledger for t in days_traded}
    timed("trade_analysis", lambda: analyse_partitions(ledgers, labels, candles, feats, regs, traded))
    return timings


def model_days(traded: list[tuple[date, str]]) -> list[tuple[date, str]]:
    """The (day, symbol) keys whose coin model has its whole trailing window of labels among ``traded``."""
    from huracan_core.models.training import ModelConfig

    first = min(d for d, _ in traded) + timedelta(days=ModelConfig().train_days)
    return [(d, s) for d, s in traded if d >= first]


def train_models(inputs: dict, traded: list, retrain_every_days: int, members: dict) -> dict[str, float]:
    """What ``shared_encoder`` and ``coin_model`` do for ``traded``'s model days at the cadence: train each retrain
    day's encoder and each coin's model, write the model folders and log the MLflow runs (to a throwaway store)."""
    from huracan_core.models.day_models import retrain_split, train_encoders, train_model_partitions, write_model
    from huracan_core.models.tracking import log_training_run
    from huracan_core.models.training import ModelConfig
    from huracan_core.storage import LocalArtifactStore
    from huracan_dagster.defs.resources import MLflowResource, ModelSettingsResource

    settings = ModelSettingsResource(retrain_every_days=retrain_every_days, encoder_device="cpu")
    config = settings.training_config(ModelConfig().train_days)
    retrain, _ = retrain_split(model_days(traded), settings.cadence())
    days = sorted({d for d, _ in retrain})
    timings = {}
    began = time.perf_counter()
    encoders = train_encoders(
        inputs["features"],
        {d: members[d] for d in days},
        days,
        "15m",
        settings.encoder_config(config.train_days),
        "cpu",
    )
    timings["shared_encoder"] = time.perf_counter() - began
    began = time.perf_counter()
    parts = train_model_partitions(inputs, encoders, retrain, "15m", config=config, costs=COSTS)
    with tempfile.TemporaryDirectory() as tmp:
        store, mlflow = LocalArtifactStore(Path(tmp) / "archive"), MLflowResource.for_home(Path(tmp)).config()
        for part in parts:
            log_training_run(
                mlflow, part.trained, params={"train_days": config.train_days}, files=write_model(store, part), tags={}
            )
    timings["coin_model"] = time.perf_counter() - began
    return timings


def storage_variants() -> None:
    """The default window on each instance storage; PostgreSQL in a throwaway database, skipped when absent."""
    scenario = SCENARIOS["default"]
    timings = direct(scenario)
    direct_wall = sum(timings.values())
    for storage in ("stock", "pooled", "postgres"):
        with tempfile.TemporaryDirectory() as tmp:
            if storage == "postgres":
                with postgres_database() as url:
                    if url is None:
                        print(
                            json.dumps(
                                {
                                    "scenario": "storage",
                                    "storage": storage,
                                    "skipped": "no PostgreSQL at 127.0.0.1:5432",
                                }
                            )
                        )
                        continue
                    os.environ["HURACAN_PG_URL"] = url
                    wall, _, counts, _ = through_dagster(Path(tmp) / "home", scenario)
                    del os.environ["HURACAN_PG_URL"]
            else:
                wall, _, counts, _ = through_dagster(Path(tmp) / "home", scenario, storage)
        n = sum(counts.values())
        print(
            json.dumps(
                {
                    "scenario": "storage",
                    "storage": storage,
                    "partition_assets": n,
                    "dagster_wall_s": round(wall, 2),
                    "direct_wall_s": round(direct_wall, 2),
                    "overhead_ms_per_partition_asset": round((wall - direct_wall) / n * 1e3, 1),
                }
            ),
            flush=True,
        )


def forget_decoded_frames() -> None:
    """Each run through Dagster starts as a fresh process would, with no frame decoded or kept: a run before it in
    this process (another storage, another scenario, the peer's one-process run) wrote the same bytes, and its frames
    would answer this run's reads from memory."""
    from huracan_core.storage import decoded_frames

    decoded_frames._frames.clear()
    decoded_frames._held = 0


@contextmanager
def postgres_database():
    import uuid

    import psycopg2

    try:
        admin = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3)
    except psycopg2.OperationalError:
        yield None
        return
    admin.autocommit = True
    name = f"huracan_bench_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=[*SCENARIOS, "storage"])
    parser.add_argument(
        "--workers", type=int, default=1, help="also run each scenario with `huracan run --workers N` (N > 1)"
    )
    args = parser.parse_args(argv)
    for name in args.scenarios:
        if name == "storage":
            storage_variants()
            continue
        scenario = SCENARIOS[name]
        if scenario["source"].startswith("replay:") and not SHARED.is_dir():
            print(json.dumps({"scenario": name, "skipped": f"no real candles at {SHARED}"}))
            continue
        with tempfile.TemporaryDirectory() as tmp, split_timers() as split:
            wall, steps, counts, cpu = through_dagster(Path(tmp) / "home", scenario)
        helped = {}
        if args.workers > 1:
            with tempfile.TemporaryDirectory() as tmp:
                helped_wall, _, helped_counts, helped_cpu = through_dagster(
                    Path(tmp) / "home", scenario, workers=args.workers
                )
            assert helped_counts == counts, "the same partitions either way"
            helped = {
                "workers": args.workers,
                "dagster_wall_s_workers": round(helped_wall, 2),
                "dagster_cpu_s_workers": round(helped_cpu, 2),
            }
        timings = direct(scenario)
        direct_wall = sum(timings.values())
        partition_assets = sum(counts.values())
        if helped:
            helped["overhead_ms_per_partition_asset_workers"] = round(
                (helped["dagster_wall_s_workers"] - direct_wall) / partition_assets * 1e3, 1
            )
        print(
            json.dumps(
                {
                    "scenario": name,
                    "source": scenario["source"].split(":")[0],
                    "window": f"{scenario['start']}..{scenario['end']}",
                    "partition_assets": partition_assets,
                    "dagster_wall_s": round(wall, 2),
                    "dagster_cpu_s": round(cpu, 2),
                    "direct_wall_s": round(direct_wall, 2),
                    "overhead_ms_per_partition_asset": round((wall - direct_wall) / partition_assets * 1e3, 1),
                    **helped,
                    "partition_assets_per_s": round(partition_assets / wall, 1),
                    "direct_partition_assets_per_s": round(partition_assets / direct_wall, 1),
                    "materialized": counts,
                    "step_s": {k: round(v, 2) for k, v in sorted(steps.items())},
                    "direct_s": {k: round(v, 2) for k, v in timings.items()},
                    "share_of_dagster_wall": {k: round(v / wall, 3) for k, v in sorted(steps.items())},
                    "split_s": {
                        k: {part: round(v, 2) for part, v in parts.items()} for k, parts in sorted(split.items())
                    },
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
