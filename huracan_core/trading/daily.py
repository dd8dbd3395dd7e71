"""One symbol-day of shadow trading, and what its trades teach — what the date × symbol trading assets run.

A day is traded flat-to-flat: the warm-up days before it feed the engines' trailing windows and the meta
combiner, but trading starts flat at 00:00 UTC, only the day's bars can enter, and a position still open on the
day's last bar is closed at its close as ``end_of_data``. So a day's ledger holds exactly the trades entered that
day, and re-running one day never depends on what a neighbouring day's ledger did.

Post-exit outcomes look forward in time on purpose (see ``analysis``); they read the next day's candles when those
exist, and are null — and reported as waiting — when they do not yet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey, require
from huracan_core.trading.analysis import (
    pattern_library,
    post_exit_tracking,
    regime_analysis,
    win_loss_analysis,
)
from huracan_core.trading.backtest import run_backtest
from huracan_core.trading.consensus import ConsensusConfig
from huracan_core.trading.costs import CostModel
from huracan_core.trading.metrics import equity_curve

#: the regime columns the trader reads; the scores stay in the regimes asset (they are not entry features)
REGIME_COLUMNS = ("regime", "regime_confidence")
POST_EXIT_HORIZONS = (5, 30, 120)


def join_bars(candles: Sequence[pl.DataFrame], features: Sequence[pl.DataFrame], regimes: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Candles joined with features and regime on timestamp (candles lead: a bar without features keeps nulls),
    from per-day frames in any order."""
    bars = pl.concat(list(candles), how="vertical_relaxed").unique("timestamp", keep="last").sort("timestamp")
    if features:
        feats = pl.concat(list(features), how="vertical_relaxed").drop("recipe_hash", "universe_hash", strict=False)
        bars = bars.join(feats.unique("timestamp", keep="last"), on="timestamp", how="left")
    if regimes:
        regs = pl.concat(list(regimes), how="vertical_relaxed").select("timestamp", *REGIME_COLUMNS)
        bars = bars.join(regs.unique("timestamp", keep="last"), on="timestamp", how="left")
    return bars.sort("timestamp")


@dataclass(frozen=True)
class TradingDay:
    day: date
    symbol: str
    ledger: pl.DataFrame
    costs: dict[str, float]
    metrics: dict[str, float]
    equity: pl.DataFrame  # timestamp, equity over the day's bars
    bars: int
    warmup_bars: int
    recipe_hash: str = ""


def shadow_trade_day(
    bars: pl.DataFrame,
    day: date,
    symbol: str,
    timeframe: str,
    exchange: str = "binance",
    costs: CostModel = CostModel(),
    config: ConsensusConfig = ConsensusConfig(),
    capital: float = 10_000.0,
) -> TradingDay:
    """``bars`` (``join_bars``) cover the warm-up days and ``day``; later bars are ignored."""
    start, end = day_start(day), day_start(day + timedelta(days=1))
    bars = bars.filter(pl.col("timestamp") < end)
    today = bars.filter(pl.col("timestamp") >= start)
    result = run_backtest(bars, symbol, timeframe, exchange, costs=costs, config=config, capital=capital, trade_from=start)
    ledger = result.ledger
    if ledger.height and ledger["entry_time"].dt.date().ne(day).any():  # flat-to-flat makes this impossible
        raise AssertionError(f"{symbol} {day}: ledger holds entries of another day")
    return TradingDay(
        day=day, symbol=symbol, ledger=ledger, costs=result.costs, metrics=result.metrics,
        equity=equity_curve(ledger, capital, today["timestamp"]).select("timestamp", "equity"),
        bars=today.height, warmup_bars=bars.height - today.height,
    )


@dataclass(frozen=True)
class TradeAnalysis:
    trades: pl.DataFrame  # the ledger + post-exit columns
    win_loss: dict[str, pl.DataFrame]
    regimes: pl.DataFrame
    patterns: pl.DataFrame
    #: trades whose post-exit horizons run past the candles given (null until later candles exist)
    pending: list[str] = field(default_factory=list)
    next_day_available: bool = False


def analyse_day(ledger: pl.DataFrame, candles: pl.DataFrame, horizons_minutes: tuple[int, ...] = POST_EXIT_HORIZONS) -> TradeAnalysis:
    """``candles``: the day's candles and, when it exists, the next day's (post-exit outcomes read them)."""
    candles = candles.sort("timestamp")
    post = post_exit_tracking(ledger, candles, horizons_minutes)
    trades = ledger.join(post.drop("exit_time", "exit_price", "direction"), on="trade_id", how="left")
    reach = pl.col("exit_time") + timedelta(minutes=max(horizons_minutes))
    pending = trades.filter(reach > candles["timestamp"].max()) if candles.height else trades
    return TradeAnalysis(
        trades=trades, win_loss=win_loss_analysis(ledger), regimes=regime_analysis(ledger),
        patterns=pattern_library(ledger), pending=pending["trade_id"].to_list(),
    )


def trade_partitions(
    candles: Mapping[DayKey, pl.DataFrame],
    features: Mapping[DayKey, pl.DataFrame],
    regimes: Mapping[DayKey, pl.DataFrame],
    wanted: Sequence[DayKey],
    timeframe: str,
    *,
    warmup_days: int,
    exchange: str = "binance",
    costs: CostModel = CostModel(),
    capital: float = 10_000.0,
) -> list[TradingDay]:
    """Every wanted (day, symbol) traded flat-to-flat, its ``warmup_days`` before it (where present) as warm-up.

    Raises ``MissingPartitionError`` naming the wanted partitions whose own candles, features or regimes are absent.
    """
    inputs = {"candles": candles, "features": features, "regimes": regimes}
    for name, frames in inputs.items():
        require(name, frames, wanted)
    # a warm-up day with candles is a declared input: its features and regimes must exist too, or the day's
    # ledger would depend on what else happened to be materialized
    warm = sorted({(day - timedelta(days=n), symbol) for day, symbol in wanted for n in range(1, warmup_days + 1)} & set(candles))
    for name in ("features", "regimes"):
        require(f"{name} (warm-up days of the traded days)", inputs[name], warm)
    days = []
    for day, symbol in sorted(wanted):
        window = [(day - timedelta(days=n), symbol) for n in range(warmup_days, -1, -1)]
        bars = join_bars(*([frames[w] for w in window if w in frames] for frames in inputs.values()))
        traded = shadow_trade_day(bars, day, symbol, timeframe, exchange, costs, capital=capital)
        recipe = ",".join(features[(day, symbol)]["recipe_hash"].unique().sort().to_list())
        days.append(dataclasses.replace(traded, recipe_hash=recipe))
    return days


def analyse_partitions(
    ledgers: Mapping[DayKey, pl.DataFrame], candles: Mapping[DayKey, pl.DataFrame], wanted: Sequence[DayKey]
) -> dict[DayKey, TradeAnalysis]:
    """Each wanted day's ledger analysed against its own and (when materialized) the next day's candles."""
    require("shadow_trades", ledgers, wanted)
    require("candles", candles, wanted)
    out = {}
    for day, symbol in sorted(wanted):
        following = (day + timedelta(days=1), symbol)
        seen = [candles[k] for k in ((day, symbol), following) if k in candles]
        analysis = analyse_day(ledgers[(day, symbol)], pl.concat(seen, how="vertical_relaxed"))
        out[(day, symbol)] = dataclasses.replace(analysis, next_day_available=following in candles)
    return out
