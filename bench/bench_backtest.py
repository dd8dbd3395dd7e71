"""Exit simulation speed: the shadow trader's numba core vs a minimal numba loop of the same rule.

Data: 525,600 synthetic one-minute candles (a year), a seeded geometric random walk with ~6 bps per-minute
volatility and wicks drawn from |N(0, 3 bps)| beyond the open/close — realistic in scale, not real prices.
Rule: long when RSI14 (Wilder) < 30 on the signal bar, entry at the next open, take profit 20 bps, stop 50 bps,
max hold 240 bars, fee 4 bps + slippage 1 bp per side. Both simulations must give the same trades.
Prints JSON lines: the data, each timing (best of 25 after JIT warm-up), the ratio, and the end-to-end ledger time.

    .venv/bin/python bench/bench_backtest.py
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime

import numpy as np
import polars as pl
from numba import njit

from huracan_core.trading.costs import CostModel, FeeSchedule
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.fixed_quotes import FixedQuotes
from huracan_core.trading.shadow_trader import shadow_trade, simulate_exits

N = 525_600
TP_BPS, SL_BPS, HOLD, FEE_BPS, SLIP_BPS = 20.0, 50.0, 240, 4.0, 1.0


def synthetic_candles(n: int, seed: int = 42) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 6e-4, n)))
    open_ = np.concatenate([[30_000.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0.0, 3e-4, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0.0, 3e-4, n)))
    return {"open": open_, "high": high, "low": low, "close": close}


@njit(cache=True)
def rsi_wilder(close: np.ndarray, period: int) -> np.ndarray:
    out = np.full(close.shape[0], np.nan)
    gain = loss = 0.0
    for i in range(1, close.shape[0]):
        change = close[i] - close[i - 1]
        up, down = max(change, 0.0), max(-change, 0.0)
        if i <= period:
            gain += up / period
            loss += down / period
        else:
            gain = (gain * (period - 1) + up) / period
            loss = (loss * (period - 1) + down) / period
        if i >= period:
            out[i] = 100.0 if loss == 0 else 100.0 - 100.0 / (1.0 + gain / loss)
    return out


@njit(cache=True)
def reference_loop(o, h, l, c, signal, tp_bps, sl_bps, hold):
    """The rule written as plainly as possible: same fill conventions, no per-bar parameters, no trailing."""
    n = o.shape[0]
    entries = np.empty(n, np.int64)
    exits = np.empty(n, np.int64)
    prices = np.empty(n, np.float64)
    reasons = np.empty(n, np.int8)
    k = 0
    i = 0
    while i < n - 1:
        if signal[i] == 0:
            i += 1
            continue
        e = i + 1
        entry = o[e]
        stop = entry * (1.0 - sl_bps / 1e4)
        take = entry * (1.0 + tp_bps / 1e4)
        last = min(e + hold - 1, n - 1)
        j = e
        while True:
            if o[j] <= stop:
                px, r = o[j], 0
                break
            if o[j] >= take:
                px, r = take, 1
                break
            if l[j] <= stop:
                px, r = stop, 0
                break
            if h[j] >= take:
                px, r = take, 1
                break
            if j == last:
                px, r = c[j], 3 if j == e + hold - 1 else 4
                break
            j += 1
        entries[k], exits[k], prices[k], reasons[k] = e, j, px, r
        k += 1
        i = j
    return entries[:k], exits[:k], prices[:k], reasons[:k]


def best_of(fn, repeat: int = 25) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    bars = synthetic_candles(N)
    o, h, l, c = bars["open"], bars["high"], bars["low"], bars["close"]
    signal = (np.nan_to_num(rsi_wilder(c, 14), nan=50.0) < 30.0).astype(np.int8)
    stop = np.full(N, SL_BPS)
    take = np.full(N, TP_BPS)
    hold = np.full(N, HOLD, np.int64)

    def core():
        return simulate_exits(o, h, l, c, signal, stop, take, hold, math.inf, 0.5)

    def reference():
        return reference_loop(o, h, l, c, signal, TP_BPS, SL_BPS, HOLD)

    _, ent, ext, px, why = core()
    r_ent, r_ext, r_px, r_why = reference()
    assert len(ent) == len(r_ent), (len(ent), len(r_ent))
    assert np.array_equal(ent, r_ent) and np.array_equal(ext, r_ext) and np.array_equal(why, r_why)
    assert np.array_equal(px, r_px)
    print(
        json.dumps(
            {
                "bench": "data",
                "candles": N,
                "source": "synthetic 1m random walk (seed 42)",
                "signals": int(signal.sum()),
                "trades": len(ent),
                "exits": {
                    name: int((why == code).sum())
                    for code, name in enumerate(
                        ("stop_loss", "take_profit", "trailing_stop", "max_hold", "end_of_data")
                    )
                },
            }
        )
    )
    t_core, t_ref = best_of(core), best_of(reference)
    print(
        json.dumps(
            {
                "bench": "exit_simulation",
                "shadow_core_s": round(t_core, 5),
                "reference_loop_s": round(t_ref, 5),
                "ratio": round(t_core / t_ref, 3),
                "core_candles_per_s": round(N / t_core),
                "reference_candles_per_s": round(N / t_ref),
            }
        )
    )

    start = datetime(2025, 1, 1, tzinfo=UTC)
    timestamps = pl.Series("timestamp", np.arange(N, dtype=np.int64) * 60_000 + int(start.timestamp() * 1000))
    frame = pl.DataFrame({"timestamp": timestamps, **bars, "volume": np.full(N, 1e6)}).with_columns(
        pl.from_epoch("timestamp", time_unit="ms").dt.replace_time_zone("UTC"), regime=pl.lit("TREND")
    )
    decisions = frame.select(
        "timestamp",
        direction=pl.Series(signal),
        confidence=pl.lit(0.5),
        recommendation=pl.when(pl.Series(signal) == 1).then(pl.lit("TAKE")).otherwise(pl.lit("SKIP")),
        engines_agreeing=pl.lit("rsi14"),
    )
    exits = ExitConfig(
        stop_bps={"UNKNOWN": SL_BPS, "TREND": SL_BPS},
        take_profit_bands=((0.0, TP_BPS),),
        trail_start_bps=math.inf,
        max_hold_minutes={"UNKNOWN": HOLD, "TREND": HOLD},
    )
    costs = CostModel(  # fixed costs a side: the fee and SLIP_BPS of impact for the trade's size, no spread
        default_fees=FeeSchedule(FEE_BPS, FEE_BPS),
        quotes=FixedQuotes(impact_bps=SLIP_BPS, order_size=exits.notional),
    )
    ledger_time = best_of(lambda: shadow_trade(frame, decisions, "SYN-USDT", "1m", exits=exits, costs=costs), 3)
    ledger = shadow_trade(frame, decisions, "SYN-USDT", "1m", exits=exits, costs=costs)
    expected_net = (r_px / o[r_ent] - 1.0) * 1e4 - 2 * (FEE_BPS + SLIP_BPS)
    assert ledger.height == len(r_ent) and np.allclose(ledger["net_bps"].to_numpy(), expected_net)
    print(
        json.dumps(
            {
                "bench": "shadow_trade_ledger",
                "seconds": round(ledger_time, 4),
                "trades": ledger.height,
                "mean_net_bps": round(float(ledger["net_bps"].mean()), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
