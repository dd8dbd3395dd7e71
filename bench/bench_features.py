"""Feature benchmarks (not a test): prints one JSON line per measurement.

(a) The TA-Lib-comparable indicator set (SMA×5, EMA×5, RSI, MACD, ATR, ADX/+DI/−DI, BBANDS, STOCH, OBV) on
    525,600 synthetic one-minute candles (a seeded random walk: log-normal 1-minute returns of 0.1 %, high/low
    extended beyond open/close by half-normal wicks, log-normal volume), polars recipe vs TA-Lib, same run.
(b) The full recipe (with reference and universe) on 10 real pairs × 2 years of 15m candles, via compute_many.
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import numpy as np
import polars as pl
import talib

from huracan_core.features import FeatureRecipe

CANDLES = Path(
    os.environ.get("HURACAN_SHARED_CANDLES", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "candles")
)
PAIRS = ("ADA", "AVAX", "BNB", "BTC", "DOGE", "DOT", "ETH", "LINK", "SOL", "XRP")
TALIB_SET = [
    "sma_5", "sma_10", "sma_20", "sma_50", "sma_200", "ema_5", "ema_10", "ema_12", "ema_20", "ema_26", "rsi_14",
    "macd", "macd_signal", "macd_hist", "atr_14", "adx", "plus_di", "minus_di", "bb_upper", "bb_lower", "stoch_k",
    "stoch_d", "obv",
]  # fmt: skip


def synthetic_minutes(n: int, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    close = 30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.concatenate([[30_000.0], close[:-1]])
    wick = np.abs(rng.normal(0.0, 0.0005, (2, n)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    start = np.datetime64("2023-01-01T00:00", "ms")
    return pl.DataFrame(
        {
            "timestamp": start + np.arange(n) * np.timedelta64(60_000, "ms"),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.lognormal(2.0, 1.0, n),
        }
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))


def talib_set(c: dict[str, np.ndarray]) -> None:
    h, l, cl, v = c["high"], c["low"], c["close"], c["volume"]
    for n in (5, 10, 20, 50, 200):
        talib.SMA(cl, n)
    for n in (5, 10, 12, 20, 26):
        talib.EMA(cl, n)
    talib.RSI(cl, 14), talib.MACD(cl, 12, 26, 9), talib.ATR(h, l, cl, 14), talib.ADX(h, l, cl, 14)
    talib.PLUS_DI(h, l, cl, 14), talib.MINUS_DI(h, l, cl, 14), talib.BBANDS(cl, 20, 2.0, 2.0, 0)
    talib.STOCH(h, l, cl, 14, 3, 0, 3, 0), talib.OBV(cl, v)


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_vs_talib() -> None:
    candles = synthetic_minutes(525_600)
    arrays = {k: candles[k].to_numpy() for k in ("high", "low", "close", "volume")}
    recipe = FeatureRecipe.default("1m").subset(TALIB_SET)
    polars_s = best_of(lambda: recipe.compute(candles))
    talib_s = best_of(lambda: talib_set(arrays))
    print(json.dumps({"bench": "talib_set_1m", "rows": candles.height, "indicators": len(TALIB_SET),
                      "data": "synthetic random walk", "polars_s": round(polars_s, 4), "talib_s": round(talib_s, 4),
                      "ratio_polars_over_talib": round(polars_s / talib_s, 2)}))  # fmt: skip


def bench_full_recipe() -> None:
    candles = {
        f"{p}-USDT": pl.read_parquet(CANDLES / f"{p}-USDT_15m.parquet").filter(
            pl.col("timestamp").dt.year().is_in([2023, 2024])
        )
        for p in PAIRS
    }
    rows = sum(c.height for c in candles.values())
    recipe = FeatureRecipe.default("15m")
    seconds = best_of(lambda: recipe.compute_many(candles), repeats=3)
    print(json.dumps({"bench": "full_recipe_15m", "symbols": len(candles), "rows": rows,
                      "features": len(recipe.output_columns), "seconds": round(seconds, 3),
                      "rows_per_s": round(rows / seconds), "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))  # fmt: skip


if __name__ == "__main__":
    print(json.dumps({"polars": pl.__version__, "threads": pl.thread_pool_size()}))
    bench_vs_talib()
    bench_full_recipe()
