"""Speed of ``trade_partitions`` over a range: the bundled sample's partitions of every pair over 60 days, built as
``bench_pipeline.direct()`` builds them (candles → features → regimes → signals), traded by the rules policy in one
call. Prints one JSON line: partitions, seconds, ms per partition. The inputs are cached under ``--cache`` (a
folder) so that runs before and after a change time the same partitions.

    .venv/bin/python bench/bench_shadow_trades.py [--cache /tmp/shadow_trades_bench]
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from datetime import date, timedelta
from pathlib import Path

from huracan_core.trading.costs import CostModel

START, END = date(2024, 10, 1), date(2024, 11, 29)
COSTS = CostModel()


def build() -> dict:
    from huracan_core.candles import load_candle_partitions
    from huracan_core.features.recipe import FeatureRecipe
    from huracan_core.features.windows import compute_feature_partitions, history_days
    from huracan_core.regimes import RegimeDetector
    from huracan_core.sources import open_source
    from huracan_core.symbols import to_key
    from huracan_core.trading.signals import WARMUP_DAYS, signal_partitions
    from huracan_core.universe import UniverseConfig, resolve_universe, universe_by_day

    source = open_source("bundled")
    recipe, config = FeatureRecipe.default("15m"), UniverseConfig()
    symbols = [to_key(s) for s in resolve_universe(source, "15m", config, as_of=END + timedelta(days=1))]
    lead = START - timedelta(days=WARMUP_DAYS)
    days = [lead + timedelta(days=n) for n in range((END - lead).days + 1)]
    first = lead - timedelta(days=history_days(recipe))
    all_days = [first + timedelta(days=n) for n in range((END - first).days + 1)]
    parts = load_candle_partitions(source, "15m", {s: all_days for s in symbols}, lambda d, s: f"{d}|{s}")
    candles = {(p.day, p.symbol): p.frame for p in parts}
    wanted = [(d, s) for s in symbols for d in days]
    batch = compute_feature_partitions(recipe, candles, wanted, universe_by_day(source, "15m", config, days))
    features = {(p.day, p.symbol): p.frame for p in batch.parts}
    detector = RegimeDetector()
    regimes = {k: detector.detect(f) for k, f in features.items()}
    traded = [(d, s) for d, s in wanted if d >= START]
    signals = signal_partitions(candles, features, regimes, traded, warmup_days=WARMUP_DAYS, costs=COSTS)
    return {"candles": candles, "features": features, "regimes": regimes, "signals": signals, "traded": traded}


def main() -> None:
    from huracan_core.desk.shadow_day import trade_partitions

    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path("/tmp/shadow_trades_bench"))
    cache = parser.parse_args().cache / "inputs.pickle"
    if cache.exists():
        inputs = pickle.loads(cache.read_bytes())
    else:
        inputs = build()
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(inputs))
    traded = inputs["traded"]
    args = (inputs["candles"], inputs["features"], inputs["regimes"], inputs["signals"])
    trade_partitions(*args, traded[:2], "15m", costs=COSTS)  # JIT and imports warm
    best = float("inf")
    for _ in range(2):
        began = time.perf_counter()
        trade_partitions(*args, traded, "15m", costs=COSTS)
        best = min(best, time.perf_counter() - began)
    print(
        json.dumps(
            {
                "partitions": len(traded),
                "seconds": round(best, 3),
                "ms_per_partition": round(1e3 * best / len(traded), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
