"""A peer in the same run: freqtrade backtesting the bundled sample next to Huracan on the same candles.

Data: the bundled sample (huracan_core/sample/*.parquet: 5 pairs × 2024-07-01..2024-12-31 of 15m candles).
Rule: long when RSI(14) < ``RSI_BELOW`` on the signal bar, entry at the next bar's open, exit at a take profit of
``TAKE_PROFIT_BPS``, a stop of ``STOP_BPS`` or after ``HOLD_MINUTES`` (no trailing stop, no exit signal); the first
``STARTUP_BARS`` bars of each pair are warm-up and never signal. One position per pair, ``ExitConfig().notional``
a trade.

Timed in this run, on the same candles:

* freqtrade — ``freqtrade backtesting`` of ``strategies/rsi_peer.py`` (23 TA-Lib indicators, the rule) in the peer
  venv, as a subprocess, offline (``freqtrade_offline.py``). ``freqtrade_process_s`` is the subprocess's wall,
  interpreter start-up and imports included; ``freqtrade_backtest_s`` is freqtrade's ``main`` alone (configuration,
  data, indicators, backtest, report), measured inside it. The ratios divide by ``freqtrade_backtest_s``.
* (a) like for like — Huracan's own code from the parquet files to the ledgers: the recipe's subset of the same 23
  indicators (``FeatureRecipe.subset``), the same rule, the shadow trader's exit kernel and the default cost model,
  through ``run_backtest`` (ledger, costs, metrics, equity), one pair at a time. Numba's compiled kernels are loaded
  by a warm-up on a few bars first (``huracan_warmup_s``, not in the ratio), as freqtrade's imports are not.
* (b) Huracan's per-day chain over the same 5 pairs (``bench_pipeline.py``'s "sample" scenario, from 2024-07-12:
  ``huracan run`` refuses earlier days, whose champions' and signals' history precedes the sample): the core calls directly in this
  process, and ``huracan run`` through Dagster (a few minutes; ``--no-dagster`` skips it). The direct chain's modules
  are imported before it is timed (``huracan_chain_import_s``, not in the ratio), as freqtrade's imports are not in
  its figure. The run through Dagster comes after it in the same process, as it always has, and pays for what
  only it loads (the definitions, the run's own imports). ``huracan_chain_dagster_cpu_s`` is the user and system
  time that run took on every core (with ``--workers``, its helpers' too); ``ratio_chain_dagster_cpu_floor`` divides
  it by the cores this process may use: the ratio the same work would reach if no core ever waited, which no scheduling of
  the runs can go under.

freqtrade pays one fee rate per side: it is given the mean per-side cost (fee + half spread + slippage) that
Huracan's default taker cost model quotes over the sample's bars, so the two net results are comparable; Huracan
also charges funding (perpetual), which freqtrade's spot backtest has no notion of. Prints one JSON line.

    .venv/bin/python bench/peer/bench_peer.py                # everything (needs bench/peer/.venv; see README)
    .venv/bin/python bench/peer/bench_peer.py --no-dagster   # without the Dagster run
    .venv/bin/python bench/peer/bench_peer.py --huracan-only # like for like alone: no freqtrade, no chain
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from zipfile import ZipFile

import polars as pl

PEER = Path(__file__).resolve().parent
ROOT = PEER.parents[1]
# this checkout's packages (not wherever the venv's editable install points), bench_pipeline's chain and
# bench_features' indicator set
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_features import TALIB_SET

from huracan_core.features import FeatureRecipe
from huracan_core.symbols import to_ccxt, to_key
from huracan_core.trading.backtest import BacktestResult, run_backtest
from huracan_core.trading.costs import CostModel, bar_costs
from huracan_core.trading.exits import ExitConfig

SAMPLE = ROOT / "huracan_core" / "sample"
PEER_PYTHON = PEER / ".venv" / "bin" / "python"
TIMEFRAME = "15m"
EXCHANGE = "binance"
RSI_BELOW = 30.0
TAKE_PROFIT_BPS, STOP_BPS, HOLD_MINUTES = 150.0, 100.0, 480
#: the strategy's startup_candle_count: freqtrade trims these bars, Huracan's side lets none of them signal
STARTUP_BARS = 200
#: the cost model both sides are priced from: Huracan's default (perpetual VIP 0, taker, the recorded quotes)
COSTS = CostModel()
EXITS = ExitConfig(
    stop_bps={"UNKNOWN": STOP_BPS},
    take_profit_bands=((0.0, TAKE_PROFIT_BPS),),
    trail_start_bps=math.inf,
    max_hold_minutes={"UNKNOWN": HOLD_MINUTES},
)


def load_sample(bars: int | None = None) -> dict[str, pl.DataFrame]:
    """The sample's candles by storage key (``BTC-USDT``), or their first ``bars`` rows."""
    files = sorted(SAMPLE.glob(f"*_{TIMEFRAME}.parquet"))
    if not files:
        raise SystemExit(f"no {TIMEFRAME} parquet files in {SAMPLE}")
    return {to_key(f.name.split("_")[0]): pl.read_parquet(f, n_rows=bars) for f in files}


def rule_decisions(features: pl.DataFrame) -> pl.DataFrame:
    """The RSI rule as decisions on every bar: long below ``RSI_BELOW``, never inside the warm-up."""
    signal = (pl.col("rsi_14") < RSI_BELOW) & (pl.int_range(pl.len()) >= STARTUP_BARS)
    return features.select(
        "timestamp",
        direction=signal.fill_null(False).cast(pl.Int8),
        confidence=pl.lit(0.5),
        recommendation=pl.when(signal).then(pl.lit("TAKE")).otherwise(pl.lit("SKIP")),
        engines_agreeing=pl.lit("rsi14"),
    )


def like_for_like(candles: dict[str, pl.DataFrame] | None = None) -> dict[str, BacktestResult]:
    """Huracan trading the peer's strategy: the sample's files read (unless ``candles`` are given), the 23
    indicators, the rule, the exit kernel with costs; one ``BacktestResult`` per pair."""
    candles = load_sample() if candles is None else candles
    recipe = FeatureRecipe.default(TIMEFRAME).subset(TALIB_SET)
    features = recipe.compute_many(candles)
    results = {}
    for symbol, bars in candles.items():
        frame = bars.hstack(features[symbol].drop("timestamp", "recipe_hash"))
        results[symbol] = run_backtest(
            frame, rule_decisions(features[symbol]), symbol, TIMEFRAME, EXCHANGE, EXITS, costs=COSTS
        )
    return results


def side_cost_bps(candles: dict[str, pl.DataFrame]) -> float:
    """The mean per-side cost (fee + half the spread + slippage) of a trade of ``EXITS.notional`` over every bar."""
    sides = [bar_costs(c, COSTS, EXCHANGE, s, EXITS.notional)["side_cost_bps"] for s, c in candles.items()]
    return float(pl.concat(sides).to_numpy().mean())


def roi_for_gross(take_profit_bps: float, fee: float) -> float:
    """freqtrade's ROI is net of its fee on both sides: the ROI whose exit price is ``take_profit_bps`` above entry."""
    return (1 + take_profit_bps / 1e4) * (1 - fee) / (1 + fee) - 1


def freqtrade_files(user_data: Path, candles: dict[str, pl.DataFrame], fee: float) -> tuple[Path, Path]:
    """The candles as freqtrade's feather files, a static market list and the backtest's config."""
    data = user_data / "data" / EXCHANGE
    data.mkdir(parents=True)
    for symbol, frame in candles.items():
        frame.select(pl.col("timestamp").alias("date"), "open", "high", "low", "close", "volume").write_ipc(
            data / f"{symbol.replace('-', '_')}-{TIMEFRAME}.feather"
        )
    markets = {to_ccxt(s): ccxt_market(to_ccxt(s), fee) for s in candles}
    (user_data / "markets.json").write_text(json.dumps(markets))
    config = {
        "max_open_trades": len(candles),
        "stake_currency": "USDT",
        "stake_amount": EXITS.notional,
        "dry_run": True,
        "dry_run_wallet": 10 * EXITS.notional * len(candles),
        "timeframe": TIMEFRAME,
        "trading_mode": "spot",
        "dataformat_ohlcv": "feather",
        "minimal_roi": {"0": roi_for_gross(TAKE_PROFIT_BPS, fee), str(HOLD_MINUTES): -1},
        "stoploss": -STOP_BPS / 1e4,
        "peer": {"rsi_below": RSI_BELOW},
        "entry_pricing": {"price_side": "other", "use_order_book": False, "price_last_balance": 0.0},
        "exit_pricing": {"price_side": "other", "use_order_book": False},
        "exchange": {"name": EXCHANGE, "pair_whitelist": sorted(markets), "pair_blacklist": []},
        "pairlists": [{"method": "StaticPairList"}],
    }
    (user_data / "config.json").write_text(json.dumps(config))
    return user_data / "markets.json", user_data / "config.json"


def ccxt_market(pair: str, fee: float) -> dict:
    """A spot market in ccxt's unified structure, with precision fine enough that no price or amount is rounded
    away from what Huracan's kernel computes."""
    base, quote = pair.split("/")
    return {
        "id": base + quote,
        "symbol": pair,
        "base": base,
        "quote": quote,
        "baseId": base,
        "quoteId": quote,
        "active": True,
        "type": "spot",
        "spot": True,
        "margin": False,
        "swap": False,
        "future": False,
        "option": False,
        "contract": False,
        "linear": None,
        "inverse": None,
        "contractSize": None,
        "maker": fee,
        "taker": fee,
        "precision": {"amount": 1e-8, "price": 1e-8},
        "limits": {
            "amount": {"min": 1e-8, "max": None},
            "price": {"min": 1e-8, "max": None},
            "cost": {"min": 1.0, "max": None},
            "leverage": {"min": None, "max": None},
        },
        "info": {},
    }


def run_freqtrade(user_data: Path, markets: Path, config: Path, fee: float) -> dict:
    """``freqtrade backtesting`` in the peer venv: the walls and its trades."""
    timings = user_data / "timings.json"
    command = [
        str(PEER_PYTHON),
        str(PEER / "freqtrade_offline.py"),
        str(markets),
        str(timings),
        "backtesting",
        "--config",
        str(config),
        "--userdir",
        str(user_data),
        "--strategy",
        "RsiPeer",
        "--strategy-path",
        str(PEER / "strategies"),
        "--fee",
        repr(fee),
        "--cache",
        "none",
        "--export",
        "trades",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    process_s = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(
            f"freqtrade backtesting failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    inside = json.loads(timings.read_text())
    results = user_data / "backtest_results"
    archive = results / json.loads((results / ".last_result.json").read_text())["latest_backtest"]
    with ZipFile(archive) as zipped:
        stats = json.loads(zipped.read(archive.with_suffix(".json").name))
    return {"process_s": process_s, **inside, "trades": stats["strategy"]["RsiPeer"]["trades"]}


def freqtrade_exit(trade: dict) -> str:
    """A freqtrade trade's exit in the kernel's names: ROI at the time stop is the time stop, ROI else the take
    profit, the end of the data is freqtrade's force exit."""
    reason = trade["exit_reason"]
    if reason == "roi":
        return "max_hold" if trade["trade_duration"] >= HOLD_MINUTES else "take_profit"
    return "end_of_data" if reason == "force_exit" else reason


def compare_trades(peer: list[dict], ours: dict[str, BacktestResult]) -> dict:
    """Trade counts, entries in common, exits by reason and mean net bps of each side."""
    peer_entries = {(t["pair"], t["open_timestamp"]) for t in peer}
    our_entries = {
        (to_ccxt(s), int(ts.timestamp() * 1000)) for s, r in ours.items() for ts in r.ledger["entry_time"].to_list()
    }
    ledgers = pl.concat([r.ledger.select("exit_reason", "net_bps") for r in ours.values()])
    peer_net = [t["profit_ratio"] * 1e4 for t in peer]
    return {
        "freqtrade_trades": len(peer),
        "huracan_trades": ledgers.height,
        "entries_in_both": len(peer_entries & our_entries),
        "freqtrade_exits": dict(Counter(freqtrade_exit(t) for t in peer)),
        "huracan_exits": dict(Counter(ledgers["exit_reason"].to_list())),
        "freqtrade_mean_net_bps": round(sum(peer_net) / len(peer_net), 2) if peer_net else None,
        "huracan_mean_net_bps": round(float(ledgers["net_bps"].to_numpy().mean()), 2) if ledgers.height else None,
    }


def timed(fn):
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def main() -> None:
    parser = argparse.ArgumentParser(description="freqtrade and Huracan on the bundled sample, in one run")
    parser.add_argument("--no-dagster", action="store_true", help="skip the chain through Dagster (a few minutes)")
    parser.add_argument("--huracan-only", action="store_true", help="the like-for-like run alone: no peer, no chain")
    parser.add_argument(
        "--workers", type=int, default=1, help="also run the chain through Dagster with `huracan run --workers N`"
    )
    args = parser.parse_args()
    if not args.huracan_only and not PEER_PYTHON.exists():
        raise SystemExit(f"no peer venv at {PEER_PYTHON}: see bench/peer/README.md (or pass --huracan-only)")

    warmup_s, _ = timed(lambda: like_for_like(load_sample(STARTUP_BARS + 100)))
    like_s, ours = timed(like_for_like)
    line: dict[str, object] = {
        "bench": "peer_freqtrade",
        "data": "bundled sample: 5 pairs x 2024-07-01..2024-12-31, 15m",
        "rule": f"RSI14 < {RSI_BELOW:g}; TP {TAKE_PROFIT_BPS:g} bps, SL {STOP_BPS:g} bps, {HOLD_MINUTES} min",
        "huracan_warmup_s": round(warmup_s, 3),
        "huracan_like_for_like_s": round(like_s, 3),
    }
    if args.huracan_only:
        line["huracan_trades"] = sum(r.ledger.height for r in ours.values())
        print(json.dumps(line), flush=True)
        return

    candles = load_sample()
    fee = side_cost_bps(candles) / 1e4
    with tempfile.TemporaryDirectory() as tmp:
        user_data = Path(tmp) / "user_data"
        peer = run_freqtrade(user_data, *freqtrade_files(user_data, candles, fee), fee)

    from bench_pipeline import SCENARIOS, direct, import_chain, through_dagster

    scenario = SCENARIOS["sample"]  # from the first day ``huracan run`` accepts over the sample
    import_s = import_chain()  # out of the chain's time, as freqtrade's imports are out of its own
    direct_s, _ = timed(lambda: direct(scenario))
    backtest_s = peer["main_s"]
    line |= {
        "freqtrade_fee_per_side": round(fee, 6),
        "freqtrade_process_s": round(peer["process_s"], 3),
        "freqtrade_import_s": round(peer["import_s"], 3),
        "freqtrade_backtest_s": round(backtest_s, 3),
        "huracan_chain_import_s": round(import_s, 2),
        "huracan_chain_direct_s": round(direct_s, 2),
        "ratio_like_for_like": round(like_s / backtest_s, 3),
        "ratio_chain_direct": round(direct_s / backtest_s, 2),
    }
    if not args.no_dagster:
        cores = len(os.sched_getaffinity(0))  # the cores this process may use (Linux), not the host's
        with tempfile.TemporaryDirectory() as tmp:
            dagster_s, _, counts, dagster_cpu_s = through_dagster(Path(tmp) / "home", scenario)
        line |= {
            "huracan_chain_dagster_s": round(dagster_s, 2),
            "huracan_chain_dagster_cpu_s": round(dagster_cpu_s, 2),
            "partition_assets": sum(counts.values()),
            "ratio_chain_dagster": round(dagster_s / backtest_s, 2),
            "cores": cores,
            "ratio_chain_dagster_cpu_floor": round(dagster_cpu_s / cores / backtest_s, 2),
        }
        if args.workers > 1:
            with tempfile.TemporaryDirectory() as tmp:
                helped_s, _, _, helped_cpu_s = through_dagster(Path(tmp) / "home", scenario, workers=args.workers)
            line |= {
                "dagster_workers": args.workers,
                "huracan_chain_dagster_workers_s": round(helped_s, 2),
                "huracan_chain_dagster_workers_cpu_s": round(helped_cpu_s, 2),
                "ratio_chain_dagster_workers": round(helped_s / backtest_s, 2),
                "ratio_chain_dagster_workers_cpu_floor": round(helped_cpu_s / cores / backtest_s, 2),
            }
    line |= compare_trades(peer["trades"], ours)
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
