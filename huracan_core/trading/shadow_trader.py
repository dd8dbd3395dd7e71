"""The shadow trader: paper-trades the consensus decisions, one position per symbol, with costs on both legs.

Fill rules (conservative where the candle cannot tell the order of events):
* entry at the OPEN of the bar after the signal bar; a signal while a position is open is ignored, and the bar
  a position exits on may itself signal the next entry;
* a bar that opens beyond the stop exits at its OPEN (the gap is paid in full); a bar that opens beyond the
  take profit exits at the take-profit level (the limit's price, not the better open);
* inside a bar, when both the stop and the take profit are touched, the stop is assumed to come first;
* the trailing stop is moved at the end of each bar from that bar's best price, so it first applies to the
  next bar (a bar's own high never tightens the stop that its own low is tested against);
* max hold exits at the CLOSE of the ``hold``-th bar held; a position still open on the last bar exits at its
  close as ``end_of_data``.
Costs per side are fee + half the spread + slippage at that bar for the trade's size (see ``costs``);
``fees_paid``/``spread_paid``/``slippage_paid`` are in quote currency on the entry notional.
The entry feature vector — the features of the signal bar, i.e. what the decision saw — is stored as
``f_<feature>`` columns (one per numeric non-candle column of the frame).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numba import njit

from huracan_core.trading.costs import BPS, CostModel, bar_costs
from huracan_core.trading.exits import (
    ExitConfig,
    max_hold_bars_expr,
    stop_expr,
    take_profit_expr,
)

EXIT_REASONS = ("stop_loss", "take_profit", "trailing_stop", "max_hold", "end_of_data")
TRADED = ("TAKE", "REDUCE_SIZE")
LEDGER_COLUMNS = (
    "trade_id",
    "symbol",
    "signal_time",
    "entry_time",
    "exit_time",
    "entry_price",
    "exit_price",
    "size",
    "direction",
    "bars_held",
    "gross_bps",
    "net_bps",
    "net_pnl",
    "fees_paid",
    "spread_paid",
    "slippage_paid",
    "exit_reason",
    "regime",
    "engines_agreeing",
    "confidence",
    "policy",
    "model_version",
    "expected_edge_bps",
)
NON_FEATURE_COLUMNS = frozenset(
    {"timestamp", "open", "high", "low", "close", "volume", "quote_volume", "trades", "regime", "regime_confidence"}
)


@njit(cache=True)
def simulate_exits(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    signal: np.ndarray,
    stop_bps: np.ndarray,
    tp_bps: np.ndarray,
    hold_bars: np.ndarray,
    trail_start_bps: float,
    trail_keep: float,
    overlapping: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Path-dependent exits for signals (−1/0/+1 per bar, exit parameters read at the signal bar).

    Returns per trade: signal bar, entry bar, exit bar, exit price, exit reason code (index in EXIT_REASONS).
    Pass ``trail_start_bps = inf`` to disable the trailing stop. ``overlapping``: every signal is followed to its
    exit, open position or not — the labels' view of every opportunity; the trader holds one position at a time.
    """
    n = open_.shape[0]
    sig_idx = np.empty(n, np.int64)
    entry_idx = np.empty(n, np.int64)
    exit_idx = np.empty(n, np.int64)
    exit_px = np.empty(n, np.float64)
    reason = np.empty(n, np.int8)
    k = 0
    i = 0
    while i < n - 1:
        d = signal[i]
        if d == 0:
            i += 1
            continue
        e = i + 1
        entry = open_[e]
        stop = entry * (1.0 - d * stop_bps[i] / 1e4)
        tp = entry * (1.0 + d * tp_bps[i] / 1e4)
        hold_end = e + hold_bars[i] - 1
        last = min(hold_end, n - 1)
        trailing = False
        peak = 0.0
        j = e
        while True:
            if d > 0:
                if open_[j] <= stop:
                    px, code = open_[j], 2 if trailing else 0
                    break
                if open_[j] >= tp:
                    px, code = tp, 1
                    break
                if low[j] <= stop:
                    px, code = stop, 2 if trailing else 0
                    break
                if high[j] >= tp:
                    px, code = tp, 1
                    break
                gain = (high[j] / entry - 1.0) * 1e4
            else:
                if open_[j] >= stop:
                    px, code = open_[j], 2 if trailing else 0
                    break
                if open_[j] <= tp:
                    px, code = tp, 1
                    break
                if high[j] >= stop:
                    px, code = stop, 2 if trailing else 0
                    break
                if low[j] <= tp:
                    px, code = tp, 1
                    break
                gain = (1.0 - low[j] / entry) * 1e4
            if j == last:
                px, code = close[j], 3 if j == hold_end else 4
                break
            if gain > peak:
                peak = gain
            if peak > trail_start_bps:
                level = entry * (1.0 + d * trail_keep * (peak - trail_start_bps) / 1e4)
                if (d > 0 and level > stop) or (d < 0 and level < stop):
                    stop = level
                    trailing = True
            j += 1
        sig_idx[k] = i
        entry_idx[k] = e
        exit_idx[k] = j
        exit_px[k] = px
        reason[k] = code
        k += 1
        i = i + 1 if overlapping else j
    return sig_idx[:k], entry_idx[:k], exit_idx[:k], exit_px[:k], reason[:k]


def shadow_trade(
    frame: pl.DataFrame,
    decisions: pl.DataFrame,
    symbol: str,
    timeframe: str,
    exchange: str = "binance",
    exits: ExitConfig = ExitConfig(),
    costs: CostModel = CostModel(),
    *,
    overlapping: bool = False,
    entry_features: bool = True,
) -> pl.DataFrame:
    """Trade ledger for one symbol. ``frame`` is candles + features + ``regime``; ``decisions`` is the
    consensus output for the same bars (``direction``, ``confidence``, ``recommendation``, ``engines_agreeing``,
    ``expected_edge_bps``; a model's decisions also carry ``policy`` and ``model_version``, which every trade
    records). The take profit follows ``confidence``, the stop and max hold the bar's regime.

    ``overlapping`` follows every signal to its exit (the labels); ``entry_features`` adds the ``f_`` columns."""
    if not frame["timestamp"].equals(decisions["timestamp"]):
        raise ValueError("decisions must cover exactly the frame's bars, in order")
    features = [c for c in frame.columns if c not in NON_FEATURE_COLUMNS and frame.schema[c].is_numeric()]
    bars = (
        frame.select(
            "timestamp",
            "open",
            "high",
            "low",
            "close",
            pl.col("regime").fill_null("UNKNOWN") if "regime" in frame.columns else pl.lit("UNKNOWN").alias("regime"),
        )
        .with_columns(
            decisions.select(
                pl.when(pl.col("recommendation").is_in(TRADED))
                .then(pl.col("direction"))
                .otherwise(0)
                .fill_null(0)
                .cast(pl.Int8)
                .alias("signal"),
                pl.col("confidence").fill_null(0.0),
                pl.col("engines_agreeing"),
                (
                    pl.col("expected_edge_bps").cast(pl.Float64)
                    if "expected_edge_bps" in decisions.columns
                    else pl.lit(None, pl.Float64)
                ).alias("expected_edge_bps"),
                (pl.col("policy") if "policy" in decisions.columns else pl.lit("rules")).alias("policy"),
                (pl.col("model_version") if "model_version" in decisions.columns else pl.lit("")).alias(
                    "model_version"
                ),
                pl.when(pl.col("recommendation") == "REDUCE_SIZE")
                .then(exits.notional * exits.reduced_size)
                .otherwise(exits.notional)
                .alias("size"),
            )
        )
        .with_columns(
            stop_expr(exits, pl.col("regime")).alias("stop_bps"),
            take_profit_expr(exits, pl.col("confidence")).alias("tp_bps"),
            max_hold_bars_expr(exits, pl.col("regime"), timeframe).alias("hold_bars"),
        )
    )
    open_, high, low, close = (bars[c].to_numpy().astype(np.float64) for c in ("open", "high", "low", "close"))
    sig, ent, ext, exit_px, reason = simulate_exits(
        open_,
        high,
        low,
        close,
        bars["signal"].to_numpy(),
        bars["stop_bps"].to_numpy(),
        bars["tp_bps"].to_numpy(),
        bars["hold_bars"].to_numpy(),
        exits.trail_start_bps,
        exits.trail_keep,
        overlapping,
    )
    signal_rows = bars[sig]
    sizes = signal_rows["size"]
    entry_costs = bar_costs(frame[ent].with_columns(size=sizes), costs, exchange, symbol, pl.col("size"))
    exit_costs = bar_costs(frame[ext].with_columns(size=sizes), costs, exchange, symbol, pl.col("size"))
    ledger = pl.DataFrame(
        {
            "symbol": pl.Series([symbol] * len(sig), dtype=pl.String),
            "signal_time": signal_rows["timestamp"],
            "entry_time": bars["timestamp"].gather(ent),
            "exit_time": bars["timestamp"].gather(ext),
            "entry_price": bars["open"].gather(ent),
            "exit_price": pl.Series(exit_px, dtype=pl.Float64),
            "size": sizes,
            "direction": signal_rows["signal"],
            "bars_held": pl.Series(ext - ent + 1, dtype=pl.Int64),
            "exit_reason": pl.Series([EXIT_REASONS[r] for r in reason], dtype=pl.String),
            "regime": signal_rows["regime"],
            "engines_agreeing": signal_rows["engines_agreeing"],
            "confidence": signal_rows["confidence"],
            "policy": signal_rows["policy"],
            "model_version": signal_rows["model_version"],
            "expected_edge_bps": signal_rows["expected_edge_bps"],
            "fee_in": entry_costs["fee_bps"],
            "fee_out": exit_costs["fee_bps"],
            "spread_in": entry_costs["spread_bps"] / 2,
            "spread_out": exit_costs["spread_bps"] / 2,
            "slip_in": entry_costs["slip_bps"],
            "slip_out": exit_costs["slip_bps"],
        }
    )
    per_quote = pl.col("size") / BPS
    ledger = (
        ledger.with_columns(
            trade_id=pl.concat_str(pl.lit(f"{symbol}-"), pl.col("entry_time").dt.strftime("%Y%m%dT%H%M%SZ")),
            gross_bps=pl.col("direction") * (pl.col("exit_price") / pl.col("entry_price") - 1.0) * BPS,
            fees_paid=(pl.col("fee_in") + pl.col("fee_out")) * per_quote,
            spread_paid=(pl.col("spread_in") + pl.col("spread_out")) * per_quote,
            slippage_paid=(pl.col("slip_in") + pl.col("slip_out")) * per_quote,
        )
        .with_columns(
            net_bps=pl.col("gross_bps")
            - (
                pl.col("fee_in")
                + pl.col("fee_out")
                + pl.col("spread_in")
                + pl.col("spread_out")
                + pl.col("slip_in")
                + pl.col("slip_out")
            ),
        )
        .with_columns(net_pnl=pl.col("net_bps") * per_quote)
    )
    if not entry_features:
        return ledger.select(LEDGER_COLUMNS)
    entry = frame[sig].select([pl.col(c).cast(pl.Float64).alias(f"f_{c}") for c in features])
    return ledger.select(LEDGER_COLUMNS).hstack(entry)
