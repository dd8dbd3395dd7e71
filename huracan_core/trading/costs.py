"""Trading costs per symbol and per bar, as an order really pays them: the fee of its order type, the quoted
spread and its price impact (from a ``QuoteBook``), and for perpetual futures the funding of every settlement a
position spans. All in basis points of notional, funding in quote currency on the ledger.

Costs enter every decision (an edge must beat them) and every trade (net = gross − costs), so they are computed
once per bar here and read by consensus, the shadow trader and the daily ``costs.json`` summary. The
``spread_bps`` FEATURE (a high/low volatility estimator) is never a cost: the spread is what the market quotes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, cast, get_args

import numpy as np
import polars as pl

from huracan_core.trading.quotes import MarketQuote, QuoteBook
from huracan_core.trading.recorded_quotes import RecordedQuotes

BPS = 1e4

#: a taker order crosses the spread and walks the book; a maker order rests as a limit and fills only when the
#: market trades through it (``HURACAN_ORDER_TYPE``)
OrderType = Literal["taker", "maker"]
ORDER_TYPES: tuple[str, ...] = get_args(OrderType)
DEFAULT_ORDER_TYPE: OrderType = "taker"


def order_type(name: str) -> OrderType:
    """``name`` as an order type, or an error naming the known ones."""
    if name not in ORDER_TYPES:
        raise ValueError(f"unknown order type {name!r} (HURACAN_ORDER_TYPE); known: {', '.join(ORDER_TYPES)}")
    return cast(OrderType, name)


@dataclass(frozen=True)
class FeeSchedule:
    maker_bps: float
    taker_bps: float
    #: a perpetual future: a position pays (long) or receives (short) funding at every settlement it spans
    perpetual: bool = False

    @classmethod
    def from_ccxt_market(cls, market: Mapping[str, Any]) -> FeeSchedule:
        """ccxt markets carry fees as fractions of notional (0.001 = 10 bps); ``swap`` marks a perpetual."""
        return cls(
            maker_bps=float(market["maker"]) * BPS,
            taker_bps=float(market["taker"]) * BPS,
            perpetual=bool(market.get("swap")),
        )


#: named fee tiers a deployment picks from (``HURACAN_FEE_PROFILE``); bps per side
FEE_PROFILES: dict[str, FeeSchedule] = {
    # the product's own assumption: Binance USDⓈ-M perpetual futures, VIP 0 (maker 0.02 %, taker 0.05 %)
    "binance-perp-vip0": FeeSchedule(maker_bps=2.0, taker_bps=5.0, perpetual=True),
    # Binance spot, VIP 0, no BNB discount
    "binance-spot-vip0": FeeSchedule(maker_bps=10.0, taker_bps=10.0),
}
DEFAULT_FEE_PROFILE = "binance-perp-vip0"


def fee_profile(name: str) -> FeeSchedule:
    try:
        return FEE_PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown fee profile {name!r}; known: {', '.join(sorted(FEE_PROFILES))}") from None


@dataclass(frozen=True)
class CostModel:
    """What an order pays; every number is a config knob because venues, account tiers and books differ.

    ``fees`` is keyed by ``(exchange, symbol)``; ``(exchange, "*")`` covers a whole exchange. ``quotes`` answers
    each (symbol, UTC day) with its quoted spread, measured impact, tick and funding. Slippage is the quote's
    measured impact when it has one, else ``slip_impact_bps`` × sqrt(size / bar notional) — the share of the bar's
    traded value the order would take. Fills already happen at the next bar's open, so no volatility term is
    added on top, and no floor that nobody measured.
    """

    default_fees: FeeSchedule = FEE_PROFILES[DEFAULT_FEE_PROFILE]
    fees: Mapping[tuple[str, str], FeeSchedule] = field(default_factory=dict)
    order_type: OrderType = DEFAULT_ORDER_TYPE
    quotes: QuoteBook = field(default_factory=RecordedQuotes)
    slip_impact_bps: float = 10.0

    def fee_schedule(self, exchange: str, symbol: str) -> FeeSchedule:
        return self.fees.get((exchange, symbol)) or self.fees.get((exchange, "*")) or self.default_fees

    def fee_bps(self, exchange: str, symbol: str, kind: OrderType | None = None) -> float:
        """One side's fee for an order of ``kind`` (the model's order type unless given)."""
        schedule = self.fee_schedule(exchange, symbol)
        return schedule.taker_bps if (kind or self.order_type) == "taker" else schedule.maker_bps

    def describe(self) -> dict[str, object]:
        """The model as plain data (``costs.json``, MLflow, code versions); the quote book by its content hash."""
        return {
            "default_fees": asdict(self.default_fees),
            "fees": {f"{e}:{s}": asdict(f) for (e, s), f in sorted(self.fees.items())},
            "order_type": self.order_type,
            "slip_impact_bps": self.slip_impact_bps,
            "quotes": self.quotes.content_hash(),
        }


def bar_notional_expr() -> pl.Expr:
    """Traded value of the bar in quote currency; ``quote_volume`` is optional in the candle schema."""
    return pl.col("volume") * pl.col("close")


def day_quotes(quotes: QuoteBook, symbol: str, days: Sequence[date]) -> dict[date, MarketQuote]:
    """The quote of every day in ``days`` (each asked once)."""
    return {day: quotes.quote(symbol, day) for day in sorted(set(days))}


def leg_costs(
    frame: pl.DataFrame, model: CostModel, exchange: str, symbol: str, size: float | pl.Expr, kind: OrderType
) -> pl.DataFrame:
    """One leg at each bar of ``frame`` for an order of ``size`` quote notional (a number, or a column):
    ``fee_bps``, ``spread_bps`` (the FULL spread a taker crosses half of) and ``slip_bps``. A maker leg rests at
    its limit: its fee only, no spread, no slippage.

    Spread = max(the quote's spread, one tick at the bar's close); the bar's UTC day picks the quote."""
    fee = pl.lit(model.fee_bps(exchange, symbol, kind), dtype=pl.Float64).alias("fee_bps")
    if kind == "maker":
        return frame.select("timestamp", fee, pl.lit(0.0).alias("spread_bps"), pl.lit(0.0).alias("slip_bps"))
    days = frame["timestamp"].dt.date()
    quoted = day_quotes(model.quotes, symbol, days.to_list())
    table = pl.DataFrame(
        {
            "_day": list(quoted),
            "_quoted_spread": [q.spread_bps for q in quoted.values()],
            "_impact": [q.impact_bps for q in quoted.values()],
            "_order_size": [q.order_size for q in quoted.values()],
            "_tick": [q.tick_size for q in quoted.values()],
        },
        schema={
            "_day": pl.Date,
            "_quoted_spread": pl.Float64,
            "_impact": pl.Float64,
            "_order_size": pl.Float64,
            "_tick": pl.Float64,
        },
    )
    notional = pl.col("quote_volume") if "quote_volume" in frame.columns else bar_notional_expr()
    size_expr = size if isinstance(size, pl.Expr) else pl.lit(float(size))
    share_of_bar = (size_expr / notional.fill_null(0.0).clip(lower_bound=1.0)).sqrt() * model.slip_impact_bps
    measured = pl.col("_impact") * (size_expr / pl.col("_order_size")).sqrt()
    return (
        frame.with_columns(_day=days)
        .join(table, on="_day", how="left", maintain_order="left")
        .select(
            "timestamp",
            fee,
            pl.max_horizontal(pl.col("_quoted_spread"), pl.col("_tick") / pl.col("close") * BPS)
            .cast(pl.Float64)
            .alias("spread_bps"),
            pl.when(pl.col("_impact").is_not_null())
            .then(measured)
            .otherwise(share_of_bar)
            .cast(pl.Float64)
            .alias("slip_bps"),
        )
    )


def bar_costs(frame: pl.DataFrame, model: CostModel, exchange: str, symbol: str, size: float | pl.Expr) -> pl.DataFrame:
    """Per-bar costs at the model's order type for an order of ``size`` quote notional: ``fee_bps``,
    ``spread_bps`` (the full spread), ``slip_bps``, ``side_cost_bps`` (fee + half spread + slippage), ``cost_bps``
    (round trip, two sides at this bar's conditions) and ``funding_bps`` (per settlement a position spans: what a
    long pays and a short receives; 0 for spot). The maker round trip is two resting limits (entry and take
    profit); a maker position stopped or timed out pays a taker exit, which the ledger charges."""
    legs = leg_costs(frame, model, exchange, symbol, size, model.order_type)
    return (
        legs.with_columns(
            side_cost_bps=pl.col("fee_bps") + pl.col("spread_bps") / 2 + pl.col("slip_bps"),
            funding_bps=_day_funding_bps(frame["timestamp"], model, exchange, symbol),
        )
        .with_columns(cost_bps=2 * pl.col("side_cost_bps"))
        .select("timestamp", "fee_bps", "spread_bps", "slip_bps", "side_cost_bps", "cost_bps", "funding_bps")
    )


def _day_funding_bps(timestamps: pl.Series, model: CostModel, exchange: str, symbol: str) -> pl.Series:
    """The mean funding rate per settlement of each bar's day, in bps (0 when the fee schedule is not a perpetual)."""
    if not model.fee_schedule(exchange, symbol).perpetual:
        return pl.Series([0.0] * timestamps.len(), dtype=pl.Float64)
    days = timestamps.dt.date()
    quoted = day_quotes(model.quotes, symbol, days.to_list())
    rate = {d: float(np.mean([r for _, r in q.funding])) * BPS if q.funding else 0.0 for d, q in quoted.items()}
    return days.replace_strict(rate, return_dtype=pl.Float64)


def funding_paid(
    model: CostModel,
    exchange: str,
    symbol: str,
    entered: pl.Series,
    exited: pl.Series,
    direction: pl.Series,
    size: pl.Series,
) -> pl.Series:
    """Funding each position paid in quote currency (+ = paid, − = received): the sum of the rates of every
    settlement strictly after its entry and at or before its exit, × its entry notional, signed by its side
    (longs pay a positive rate, shorts receive it). 0 for a fee schedule that is not a perpetual."""
    if not model.fee_schedule(exchange, symbol).perpetual or entered.is_empty():
        return pl.Series("funding_paid", [0.0] * entered.len(), dtype=pl.Float64)
    first, last = cast(datetime, entered.min()), cast(datetime, exited.max())
    days = [first.date() + timedelta(days=n) for n in range((last.date() - first.date()).days + 1)]
    settlements = sorted(s for q in day_quotes(model.quotes, symbol, days).values() for s in q.funding)
    times = np.array([_micros(t) for t, _ in settlements], dtype=np.int64)
    cumulative = np.concatenate([[0.0], np.cumsum([rate for _, rate in settlements])])
    start = np.searchsorted(times, _series_micros(entered), side="right")  # the first settlement after entry
    stop = np.searchsorted(times, _series_micros(exited), side="right")  # the first settlement after exit
    rates = cumulative[stop] - cumulative[start]
    paid = direction.cast(pl.Float64).to_numpy() * size.cast(pl.Float64).to_numpy() * rates
    return pl.Series("funding_paid", paid, dtype=pl.Float64)


def _micros(moment: datetime) -> int:
    return round((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1_000_000)


def _series_micros(times: pl.Series) -> np.ndarray:
    return times.dt.cast_time_unit("us").dt.epoch("us").to_numpy().astype(np.int64)


def daily_costs_summary(costs: pl.DataFrame, ledger: pl.DataFrame | None = None) -> dict[str, float]:
    """What a day cost to trade (written as ``costs.json``): means over the bars, or over the entries and
    exits actually traded when a ledger is given — what was paid, not what was quoted. ``funding_bps``: per trade
    when traded (+ = paid), else what a long pays per settlement."""
    if ledger is not None and ledger.height:
        notional = float(ledger["size"].sum())
        per_side = 2 * notional
        return {
            "fee_bps": float(ledger["fees_paid"].sum()) / per_side * BPS,
            "spread_bps": float(ledger["spread_paid"].sum()) / notional * BPS,
            "avg_slip_bps": float(ledger["slippage_paid"].sum()) / per_side * BPS,
            "funding_bps": float(ledger["funding_paid"].sum()) / notional * BPS,
            "trades": float(ledger.height),
        }
    return {
        "fee_bps": _mean(costs["fee_bps"]),
        "spread_bps": _mean(costs["spread_bps"]),
        "avg_slip_bps": _mean(costs["slip_bps"]),
        "funding_bps": _mean(costs["funding_bps"]),
        "trades": 0.0,
    }


def round_trip_text(day: Mapping[str, Any]) -> str:
    """A day's ``costs.json`` as a person reads it: the round trip and its parts (bps of the notional), and the
    funding — what the day's trades paid when it traded, else the means quoted over its bars."""
    fees, spread, slip = 2 * day["fee_bps"], day["spread_bps"], 2 * day["avg_slip_bps"]
    parts = f"{fees + spread + slip:.2f} bps (fees {fees:.2f} + spread {spread:.2f} + slippage {slip:.2f})"
    trades = int(day.get("trades", 0))
    if trades:
        return f"paid by {trades} trades: round trip {parts}, funding {day['funding_bps']:+.2f} bps a trade"
    return f"quoted over the day's bars: round trip {parts}, funding {day['funding_bps']:+.2f} bp per settlement held"


def _mean(column: pl.Series) -> float:
    """The mean of a numeric column; 0 when it holds no values."""
    return float(cast("float | None", column.mean()) or 0.0)


#: the ledger's cost columns in quote currency, each a part of gross − net
PAID_COLUMNS = ("fees_paid", "spread_paid", "slippage_paid", "funding_paid")


def paid_costs(ledger: pl.DataFrame) -> dict[str, float]:
    """What the trades actually paid: ``total`` in quote currency (0 without trades), and per round trip (both
    legs) in bps of the traded notional, ``fees_bps``, ``spread_bps``, ``slippage_bps``, ``funding_bps`` and
    ``total_bps`` — NaN without trades, where ``daily_costs_summary`` falls back to the quoted means (per side),
    which nobody paid."""
    columns = dict(zip(("fees_bps", "spread_bps", "slippage_bps", "funding_bps"), PAID_COLUMNS, strict=True))
    paid = {name: float(ledger[column].sum()) for name, column in columns.items()}
    total = sum(paid.values())
    notional = float(ledger["size"].sum())
    per_round_trip = {name: value / notional * BPS if notional > 0 else math.nan for name, value in paid.items()}
    return {"total": total, **per_round_trip, "total_bps": total / notional * BPS if notional > 0 else math.nan}
