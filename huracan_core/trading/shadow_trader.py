"""The shadow trader: paper-trades the consensus decisions, one position per symbol, with costs on both legs.

Fill rules (conservative where the candle cannot tell the order of events):
* a taker entry fills at the OPEN of the bar after the signal bar; a maker entry is a limit at the signal bar's
  CLOSE that fills only if the next bar trades THROUGH it (a buy: its low < the limit; a sell: its high > the
  limit) — an unfilled entry is a missed signal, never a trade;
* a signal while a position is open is ignored, and the bar a position exits on may itself signal the next entry;
* inside the entry bar of a maker fill the fill came after the open: no exit at that bar's open, and a stop
  touched in that bar counts before a take profit;
* a bar that opens beyond the stop exits at its OPEN (the gap is paid in full); a bar that opens beyond the
  take profit exits at the take-profit level (the limit's price, not the better open);
* inside a bar, when both the stop and the take profit are touched, the stop is assumed to come first;
* the trailing stop is moved at the end of each bar from that bar's best price, so it first applies to the
  next bar (a bar's own high never tightens the stop that its own low is tested against);
* max hold exits at the CLOSE of the ``hold``-th bar held; a position still open on the last bar exits at its
  close as ``end_of_data``.
Costs per side are fee + half the spread + slippage at that bar for the trade's size (see ``costs``). Under the
maker order type the entry and a take profit rest as limits (maker fee, no spread, no slippage); stops, trailing
stops, time exits and the end of data leave as takers. A perpetual position pays (long) or receives (short) the
funding of every settlement strictly after its entry and at or before its exit (a time exit leaves at its bar's
close). ``fees_paid``/``spread_paid``/``slippage_paid``/``funding_paid`` are in quote currency on the entry
notional; net = gross − all four.
The entry feature vector — the features of the signal bar, i.e. what the decision saw — is stored as
``f_<feature>`` columns (one per numeric non-candle column of the frame).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise

import numpy as np
import polars as pl
from numba import njit

from huracan_core.timeframes import timeframe_seconds
from huracan_core.trading.costs import BPS, CostModel, funding_paid, leg_costs
from huracan_core.trading.exits import (
    ExitConfig,
    max_hold_bars_expr,
    stop_expr,
    take_profit_expr,
)

EXIT_REASONS = ("stop_loss", "take_profit", "trailing_stop", "max_hold", "end_of_data")
#: the kernel's code of a maker entry the next bar did not trade through (no trade)
MISSED = len(EXIT_REASONS)
#: exits that leave at the close of their bar (the others inside it, or at its open)
AT_CLOSE = ("max_hold", "end_of_data")
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
    "funding_paid",
    "exit_reason",
    "regime",
    "engines_agreeing",
    "confidence",
    "policy",
    "model_version",
    "expected_edge_bps",
)
#: each leg's cost in bps of the entry notional (the half spread crossed, not the full): ``shadow_fills(legs=True)``
LEG_COLUMNS = ("fee_in", "spread_in", "slip_in", "fee_out", "spread_out", "slip_out")
#: a missed maker entry: the signal, the bar that did not trade through its limit, and the decision behind it
MISSED_COLUMNS = (
    "symbol",
    "signal_time",
    "entry_time",
    "limit_price",
    "size",
    "direction",
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
    maker: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Path-dependent exits for signals (−1/0/+1 per bar, exit parameters read at the signal bar).

    Returns per trade: signal bar, entry bar, exit bar, exit price, exit reason code (index in EXIT_REASONS, or
    ``MISSED`` for a maker entry the next bar did not trade through: entry and exit bar are that bar, the price
    NaN). Pass ``trail_start_bps = inf`` to disable the trailing stop. ``overlapping``: every signal is followed to
    its exit, open position or not — the labels' view of every opportunity; the trader holds one position at a
    time. ``maker``: entries are limits at the signal bar's close (see the module's fill rules).
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
        if maker:
            entry = close[i]
            if not ((d > 0 and low[e] < entry) or (d < 0 and high[e] > entry)):
                sig_idx[k] = i
                entry_idx[k] = e
                exit_idx[k] = e
                exit_px[k] = np.nan
                reason[k] = MISSED
                k += 1
                i += 1
                continue
        else:
            entry = open_[e]
        stop = entry * (1.0 - d * stop_bps[i] / 1e4)
        tp = entry * (1.0 + d * tp_bps[i] / 1e4)
        hold_end = e + hold_bars[i] - 1
        last = min(hold_end, n - 1)
        trailing = False
        peak = 0.0
        j = e
        while True:
            at_open = not (maker and j == e)  # a maker fill came after its bar's open
            if d > 0:
                if at_open and open_[j] <= stop:
                    px, code = open_[j], 2 if trailing else 0
                    break
                if at_open and open_[j] >= tp:
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
                if at_open and open_[j] >= stop:
                    px, code = open_[j], 2 if trailing else 0
                    break
                if at_open and open_[j] <= tp:
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


@dataclass(frozen=True)
class Fills:
    """What the trader did with the decisions: the trades (``LEDGER_COLUMNS``, then the ``f_`` entry features)
    and the maker entries the market never traded through (``MISSED_COLUMNS``; empty for taker orders)."""

    ledger: pl.DataFrame
    missed: pl.DataFrame


def shadow_trade(
    frame: pl.DataFrame,
    decisions: pl.DataFrame,
    symbol: str,
    timeframe: str,
    exchange: str = "binance",
    exits: ExitConfig = ExitConfig(),
    *,
    costs: CostModel,
    overlapping: bool = False,
    entry_features: bool = True,
) -> pl.DataFrame:
    """The trade ledger of ``shadow_fills`` (its missed maker entries dropped: a caller that counts them calls
    ``shadow_fills``)."""
    return shadow_fills(
        frame,
        decisions,
        symbol,
        timeframe,
        exchange,
        exits,
        costs=costs,
        overlapping=overlapping,
        entry_features=entry_features,
    ).ledger


def shadow_fills(
    frame: pl.DataFrame,
    decisions: pl.DataFrame,
    symbol: str,
    timeframe: str,
    exchange: str = "binance",
    exits: ExitConfig = ExitConfig(),
    *,
    costs: CostModel,
    overlapping: bool = False,
    entry_features: bool = True,
    legs: bool = False,
) -> Fills:
    """Trades and missed entries for one symbol. ``frame`` is candles + features + ``regime``; ``decisions`` is
    the consensus output for the same bars (``direction``, ``confidence``, ``recommendation``,
    ``engines_agreeing``, ``expected_edge_bps``; a model's decisions also carry ``policy`` and ``model_version``,
    which every trade records). The take profit follows ``confidence``, the stop and max hold the bar's regime.

    ``overlapping`` follows every signal to its exit (the labels); ``entry_features`` adds the ``f_`` columns;
    ``legs`` keeps each leg's costs (``LEG_COLUMNS``), for a caller that books the entry before the exit."""
    [fills] = stretch_fills(
        frame,
        decisions,
        [frame.height],
        symbol,
        timeframe,
        exchange,
        exits,
        costs=costs,
        overlapping=overlapping,
        entry_features=entry_features,
        legs=legs,
    )
    return fills


def stretch_fills(
    frame: pl.DataFrame,
    decisions: pl.DataFrame,
    lengths: Sequence[int],
    symbol: str,
    timeframe: str,
    exchange: str = "binance",
    exits: ExitConfig = ExitConfig(),
    *,
    costs: CostModel,
    overlapping: bool = False,
    entry_features: bool = True,
    legs: bool = False,
) -> list[Fills]:
    """``shadow_fills`` of each stretch of ``lengths`` consecutive bars of ``frame``, as if each were traded alone
    (flat at its first bar; a position open on its last bar closes there as ``end_of_data``). Every column of a
    trade is a function of its own bars, so the frames are built once for all stretches (a day's polars overhead
    dwarfs its few trades); only the exits and the funding, summed from a stretch's first settlement on, run per
    stretch."""
    if not frame["timestamp"].equals(decisions["timestamp"]):
        raise ValueError(f"{symbol}: decisions must cover exactly the frame's bars, in order")
    bars = _trading_bars(frame, decisions, timeframe, exits)
    maker = costs.order_type == "maker"
    sig, ent, ext, exit_px, reason, stretch = _exits(bars, lengths, exits, overlapping, maker)
    filled = reason != MISSED
    missed = _missed(bars, symbol, sig[~filled], ent[~filled])
    sig, ent, ext, exit_px, reason = sig[filled], ent[filled], ext[filled], exit_px[filled], reason[filled]
    traded = np.bincount(stretch[filled], minlength=len(lengths))
    ledger = _ledger(frame, bars, symbol, timeframe, exchange, costs, traded, sig, ent, ext, exit_px, reason)
    columns = LEDGER_COLUMNS + LEG_COLUMNS if legs else LEDGER_COLUMNS
    ledger = ledger.select(columns)
    if entry_features:
        features = [c for c, dtype in frame.schema.items() if c not in NON_FEATURE_COLUMNS and dtype.is_numeric()]
        ledger = ledger.hstack(frame[sig].select([pl.col(c).cast(pl.Float64).alias(f"f_{c}") for c in features]))
    ledgers = _split(ledger, traded)
    misses = _split(missed, np.bincount(stretch[~filled], minlength=len(lengths)))
    return [Fills(one, miss) for one, miss in zip(ledgers, misses, strict=True)]


def _trading_bars(frame: pl.DataFrame, decisions: pl.DataFrame, timeframe: str, exits: ExitConfig) -> pl.DataFrame:
    """Each bar's prices, regime, the signal and what a trade entered on it records, with its exit parameters."""
    schema = frame.schema  # built once: polars assembles it anew on every access
    return (
        frame.select(
            "timestamp",
            "open",
            "high",
            "low",
            "close",
            pl.col("regime").fill_null("UNKNOWN") if "regime" in schema else pl.lit("UNKNOWN").alias("regime"),
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


def _exits(
    bars: pl.DataFrame, lengths: Sequence[int], exits: ExitConfig, overlapping: bool, maker: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``simulate_exits`` on each stretch's bars alone, its bar indices shifted into the frame's; last, the
    stretch of each trade."""
    open_, high, low, close = (bars[c].to_numpy().astype(np.float64) for c in ("open", "high", "low", "close"))
    signal, stop, tp, hold = (bars[c].to_numpy() for c in ("signal", "stop_bps", "tp_bps", "hold_bars"))
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    parts: list[tuple[np.ndarray, ...]] = []
    for n, (a, b) in enumerate(pairwise(starts)):
        sig, ent, ext, px, code = simulate_exits(
            open_[a:b],
            high[a:b],
            low[a:b],
            close[a:b],
            signal[a:b],
            stop[a:b],
            tp[a:b],
            hold[a:b],
            exits.trail_start_bps,
            exits.trail_keep,
            overlapping,
            maker,
        )
        parts.append((sig + a, ent + a, ext + a, px, code, np.full(sig.shape[0], n, np.int64)))
    sig, ent, ext, px, code, stretch = (np.concatenate(column) for column in zip(*parts, strict=True))
    return sig, ent, ext, px, code, stretch


def _ledger(
    frame: pl.DataFrame,
    bars: pl.DataFrame,
    symbol: str,
    timeframe: str,
    exchange: str,
    costs: CostModel,
    traded: np.ndarray,
    sig: np.ndarray,
    ent: np.ndarray,
    ext: np.ndarray,
    exit_px: np.ndarray,
    reason: np.ndarray,
) -> pl.DataFrame:
    """The trades as rows (``LEDGER_COLUMNS`` and ``LEG_COLUMNS``); ``traded``: how many trades each stretch
    holds, in order."""
    maker = costs.order_type == "maker"
    signal_rows = bars[sig]
    sizes = signal_rows["size"]
    reasons = pl.Series([EXIT_REASONS[r] for r in reason], dtype=pl.String)
    entry_legs = leg_costs(frame[ent].with_columns(size=sizes), costs, exchange, symbol, pl.col("size"), "taker")
    exit_legs = leg_costs(frame[ext].with_columns(size=sizes), costs, exchange, symbol, pl.col("size"), "taker")
    if maker:  # the entry and a take profit rest as limits: the maker fee alone
        maker_fee = costs.fee_bps(exchange, symbol, "maker")
        entry_legs = entry_legs.with_columns(fee_bps=pl.lit(maker_fee), spread_bps=pl.lit(0.0), slip_bps=pl.lit(0.0))
        at_limit = reasons == "take_profit"
        exit_legs = exit_legs.with_columns(
            fee_bps=pl.when(at_limit).then(maker_fee).otherwise(pl.col("fee_bps")),
            spread_bps=pl.when(at_limit).then(0.0).otherwise(pl.col("spread_bps")),
            slip_bps=pl.when(at_limit).then(0.0).otherwise(pl.col("slip_bps")),
        )
    entry_time = bars["timestamp"].gather(ent)
    exit_time = bars["timestamp"].gather(ext)
    bar = timedelta(seconds=timeframe_seconds(timeframe))
    left_at = (
        pl.DataFrame({"t": exit_time, "r": reasons})
        .select(pl.when(pl.col("r").is_in(AT_CLOSE)).then(pl.col("t") + bar).otherwise(pl.col("t")))
        .to_series()
    )
    funding = pl.concat(
        [
            funding_paid(
                costs, exchange, symbol, *(s.slice(a, n) for s in (entry_time, left_at, signal_rows["signal"], sizes))
            )
            for a, n in zip(np.cumsum(traded) - traded, traded, strict=True)
        ]
    )
    ledger = pl.DataFrame(
        {
            "symbol": pl.Series([symbol] * len(sig), dtype=pl.String),
            "signal_time": signal_rows["timestamp"],
            "entry_time": entry_time,
            "exit_time": exit_time,
            "entry_price": bars["close"].gather(sig) if maker else bars["open"].gather(ent),
            "exit_price": pl.Series(exit_px, dtype=pl.Float64),
            "size": sizes,
            "direction": signal_rows["signal"],
            "bars_held": pl.Series(ext - ent + 1, dtype=pl.Int64),
            "exit_reason": reasons,
            "regime": signal_rows["regime"],
            "engines_agreeing": signal_rows["engines_agreeing"],
            "confidence": signal_rows["confidence"],
            "policy": signal_rows["policy"],
            "model_version": signal_rows["model_version"],
            "expected_edge_bps": signal_rows["expected_edge_bps"],
            "fee_in": entry_legs["fee_bps"],
            "fee_out": exit_legs["fee_bps"],
            "spread_in": entry_legs["spread_bps"] / 2,
            "spread_out": exit_legs["spread_bps"] / 2,
            "slip_in": entry_legs["slip_bps"],
            "slip_out": exit_legs["slip_bps"],
            "funding_paid": funding,
        }
    )
    per_quote = pl.col("size") / BPS
    return (
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
            )
            - pl.col("funding_paid") / per_quote,
        )
        .with_columns(net_pnl=pl.col("net_bps") * per_quote)
    )


def _split(frame: pl.DataFrame, counts: np.ndarray) -> list[pl.DataFrame]:
    """``frame``'s rows cut into consecutive pieces of ``counts`` rows."""
    return [frame.slice(a, n) for a, n in zip(np.cumsum(counts) - counts, counts, strict=True)]


def _missed(bars: pl.DataFrame, symbol: str, sig: np.ndarray, ent: np.ndarray) -> pl.DataFrame:
    """The missed maker entries as rows (``MISSED_COLUMNS``)."""
    rows = bars[sig]
    return pl.DataFrame(
        {
            "symbol": pl.Series([symbol] * len(sig), dtype=pl.String),
            "signal_time": rows["timestamp"],
            "entry_time": bars["timestamp"].gather(ent),
            "limit_price": rows["close"],
            "size": rows["size"],
            "direction": rows["signal"],
            "confidence": rows["confidence"],
            "policy": rows["policy"],
            "model_version": rows["model_version"],
            "expected_edge_bps": rows["expected_edge_bps"],
        }
    ).select(MISSED_COLUMNS)
