"""Hamilton's latency per bar, from a bar's close to its decisions and state written, for N coins (default 10).

One tiny coin model is trained on the bundled sample as ``tests/core/planted_champion.py`` trains it (ETH-USDT, the
model of 2024-09-01) and planted as the champion of each of the first N pairs of the shared candle set (its
``config.json`` names the coin; the folder's checksums are its own), with a rule that enters at every bar and an
out-of-sample record to size by, so positions open and close and the risk manager decides at most bars. Hamilton
then replays K bars from 2024-09-01 00:00 over the shared set (``replay:DIR``) without waiting, the N coins being the
universe. The reference, measured in the same run: one coin's ``Champion.score`` of the last bar (the features of
16 days computed anew), the unit a bar's latency is mostly made of. Prints one JSON line.

    .venv/bin/python bench/bench_hamilton.py            # 10 coins, 16 bars
    .venv/bin/python bench/bench_hamilton.py 5 32       # coins, bars
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from bench_pipeline import SHARED, SHARED_PAIRS

from huracan_core.candles import day_start
from huracan_core.champions.hamilton import load_champion
from huracan_core.models.artifacts import write_model_folder
from huracan_core.paper.forward import CandleFeed, MarketClock, trade_forward
from huracan_core.paper.trader import BarReport, PaperConfig, PaperTrader
from huracan_core.sources.replay import ReplaySource
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import champion_pointer_key, model_folder_key, roster_key
from huracan_core.symbols import to_key
from tests.core.planted_champion import COSTS, DAY, TF, partitions, sample_candles, train_plain, with_decision

EVERY_BAR = {"policy": "absolute", "margin_bps": -1000.0, "long_threshold_bps": -1000.0, "short_threshold_bps": -1000.0}


def plant(store: LocalArtifactStore, coins: list[str]) -> None:
    part = with_decision(train_plain(partitions(sample_candles())), EVERY_BAR)
    config, metrics = json.loads(part.files["config.json"]), json.loads(part.files["metrics.json"])
    metrics["aggregate"] |= {"hit_rate": 0.55, "profit_factor": 1.4, "trade_count": 60.0}
    for coin in coins:
        folder = model_folder_key(coin, TF, day_start(DAY))
        files = part.files | {
            "config.json": json.dumps(config | {"symbol": coin}).encode(),
            "metrics.json": json.dumps(metrics).encode(),
        }
        write_model_folder(store, folder, files)
        store.write_json(
            champion_pointer_key(coin, TF),
            {
                "symbol": coin,
                "timeframe": TF,
                "model_folder": folder,
                "mlflow_version": "1",
                "effective_from": DAY.isoformat(),
            },
        )
    store.write_json(
        roster_key(TF),
        {
            "date": DAY.isoformat(),
            "symbols": [{"symbol": c, "trade_ok": True, "rank": n} for n, c in enumerate(coins, 1)],
        },
    )


def main() -> None:
    assert __doc__ is not None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("coins", nargs="?", type=int, default=10)
    parser.add_argument("bars", nargs="?", type=int, default=16)
    args = parser.parse_args()
    coins = [to_key(p) for p in SHARED_PAIRS.split(",")][: args.coins]
    store = LocalArtifactStore(tempfile.mkdtemp(prefix="bench-hamilton-"))
    plant(store, coins)
    config = PaperConfig(TF, costs=COSTS, universe=lambda days: {d: coins for d in days})
    feed = CandleFeed(ReplaySource(SHARED), TF)
    start = day_start(DAY)

    bars: list[tuple[BarReport, float]] = []
    trader = PaperTrader(store, config)
    end = start + args.bars * trader.step_size
    trade_forward(
        trader,
        feed,
        first=start,
        end=end,
        clock=MarketClock(start, 0.0),
        kill=lambda: None,
        report=lambda report, seconds: bars.append((report, seconds)),
    )
    last = end - trader.step_size
    candles = feed.candles(coins, trader.history_start(last), end)
    champion = load_champion(store, coins[0], TF)
    began = time.perf_counter()
    champion.score(candles, now=end, universe=coins)
    reference = time.perf_counter() - began
    latencies = [seconds * 1000 for _, seconds in bars]
    print(
        json.dumps(
            {
                "bench": "hamilton_bar_latency",
                "coins": len(coins),
                "bars": len(bars),
                "latency_ms_median": round(statistics.median(latencies), 1),
                "latency_ms_max": round(max(latencies), 1),
                "latency_ms_first_bar": round(latencies[0], 1),
                "coins_scored_per_bar_mean": round(statistics.mean(r.decisions for r, _ in bars), 2),
                "fills": sum(r.fills for r, _ in bars),
                "reference_one_score_ms": round(reference * 1000, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
