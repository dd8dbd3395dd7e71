"""Trading costs per symbol and per bar: fees, spread and slippage, all in basis points of notional.

Costs enter every decision (an edge must beat them) and every trade (net = gross − costs), so they are
computed once per bar here and read by consensus, the shadow trader and the daily ``costs.json`` summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import polars as pl

from huracan_core.trading.quotes import QuoteBook
from huracan_core.trading.recorded_quotes import RecordedQuotes

BPS = 1e4


@dataclass(frozen=True)
class FeeSchedule:
    maker_bps: float
    taker_bps: float

    @classmethod
    def from_ccxt_market(cls, market: Mapping[str, Any]) -> FeeSchedule:
        """ccxt markets carry fees as fractions of notional (0.001 = 10 bps)."""
        return cls(maker_bps=float(market["maker"]) * BPS, taker_bps=float(market["taker"]) * BPS)


#: named fee tiers a deployment picks from (``HURACAN_FEE_PROFILE``); bps per side
FEE_PROFILES: dict[str, FeeSchedule] = {
    # the product's own assumption: Binance USDⓈ-M perpetual futures, VIP 0 (maker 0.02 %, taker 0.05 %)
    "binance-perp-vip0": FeeSchedule(maker_bps=2.0, taker_bps=5.0),
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
    """Cost assumptions; every number is a config knob because venues and account tiers differ.

    ``fees`` is keyed by ``(exchange, symbol)``; ``(exchange, "*")`` covers a whole exchange. ``atr_pct`` is the
    feature recipe's fraction of price (ATR / close, 0.01 = 1 %), so ``atr_pct_to_bps`` is 10,000. Slippage = floor + ``slip_vol_coeff`` × ATR(bps) + ``slip_impact_bps`` × sqrt(size / bar
    notional): it grows with volatility and with the share of the bar's traded value we would take.
    """

    default_fees: FeeSchedule = FEE_PROFILES[DEFAULT_FEE_PROFILE]
    fees: Mapping[tuple[str, str], FeeSchedule] = field(default_factory=dict)
    use_taker: bool = True
    spread_floor_bps: float = 1.0
    atr_pct_to_bps: float = 10_000.0
    slip_floor_bps: float = 0.5
    slip_vol_coeff: float = 0.05
    slip_impact_bps: float = 10.0
    #: what each (symbol, UTC day) quotes beyond fees: measured (``market_quotes``) or the recorded table
    quotes: QuoteBook = field(default_factory=RecordedQuotes)

    def fee_schedule(self, exchange: str, symbol: str) -> FeeSchedule:
        return self.fees.get((exchange, symbol)) or self.fees.get((exchange, "*")) or self.default_fees

    def fee_bps(self, exchange: str, symbol: str) -> float:
        schedule = self.fee_schedule(exchange, symbol)
        return schedule.taker_bps if self.use_taker else schedule.maker_bps


def bar_notional_expr() -> pl.Expr:
    """Traded value of the bar in quote currency; ``quote_volume`` is optional in the candle schema."""
    return pl.col("volume") * pl.col("close")


def bar_costs(frame: pl.DataFrame, model: CostModel, exchange: str, symbol: str, size: float | pl.Expr) -> pl.DataFrame:
    """Per-bar one-side costs for an order of ``size`` quote notional (a number, or a column for per-trade
    sizes): ``fee_bps``, ``spread_bps``
    (full quoted spread), ``slip_bps``, ``side_cost_bps`` (fee + half spread + slippage) and ``cost_bps``
    (round trip, two sides at this bar's conditions)."""
    notional = pl.col("quote_volume") if "quote_volume" in frame.columns else bar_notional_expr()
    spread = (
        pl.col("spread_bps").fill_null(model.spread_floor_bps).clip(lower_bound=model.spread_floor_bps)
        if "spread_bps" in frame.columns
        else pl.lit(model.spread_floor_bps)
    )
    atr_bps = (
        (pl.col("atr_pct") * model.atr_pct_to_bps).fill_null(0.0).clip(lower_bound=0.0)
        if "atr_pct" in frame.columns
        else pl.lit(0.0)
    )
    size_expr = size if isinstance(size, pl.Expr) else pl.lit(float(size))
    impact = (size_expr / notional.fill_null(0.0).clip(lower_bound=1.0)).sqrt() * model.slip_impact_bps
    slip = model.slip_floor_bps + model.slip_vol_coeff * atr_bps + impact
    fee = model.fee_bps(exchange, symbol)
    return (
        frame.select(
            "timestamp",
            pl.lit(fee, dtype=pl.Float64).alias("fee_bps"),
            spread.cast(pl.Float64).alias("spread_bps"),
            slip.cast(pl.Float64).alias("slip_bps"),
        )
        .with_columns(
            side_cost_bps=pl.col("fee_bps") + pl.col("spread_bps") / 2 + pl.col("slip_bps"),
        )
        .with_columns(cost_bps=2 * pl.col("side_cost_bps"))
    )


def daily_costs_summary(costs: pl.DataFrame, ledger: pl.DataFrame | None = None) -> dict[str, float]:
    """What a day cost to trade (written as ``costs.json``): means over the bars, or over the entries and
    exits actually traded when a ledger is given — what was paid, not what was quoted."""
    if ledger is not None and ledger.height:
        notional = float(ledger["size"].sum())
        per_side = 2 * notional
        return {
            "fee_bps": float(ledger["fees_paid"].sum()) / per_side * BPS,
            "spread_bps": float(ledger["spread_paid"].sum()) / notional * BPS,
            "avg_slip_bps": float(ledger["slippage_paid"].sum()) / per_side * BPS,
            "trades": float(ledger.height),
        }
    return {
        "fee_bps": _mean(costs["fee_bps"]),
        "spread_bps": _mean(costs["spread_bps"]),
        "avg_slip_bps": _mean(costs["slip_bps"]),
        "trades": 0.0,
    }


def _mean(column: pl.Series) -> float:
    """The mean of a numeric column; 0 when it holds no values."""
    return float(cast("float | None", column.mean()) or 0.0)


def paid_costs(ledger: pl.DataFrame) -> dict[str, float]:
    """What the trades actually paid: ``total`` in quote currency (0 without trades), and per round trip (both
    legs) in bps of the traded notional, ``fees_bps``, ``spread_bps``, ``slippage_bps`` and ``total_bps`` — NaN
    without trades, where ``daily_costs_summary`` falls back to the quoted means (per side), which nobody paid."""
    columns = {"fees_bps": "fees_paid", "spread_bps": "spread_paid", "slippage_bps": "slippage_paid"}
    paid = {name: float(ledger[column].sum()) for name, column in columns.items()}
    total = sum(paid.values())
    notional = float(ledger["size"].sum())
    per_round_trip = {name: value / notional * BPS if notional > 0 else math.nan for name, value in paid.items()}
    return {"total": total, **per_round_trip, "total_bps": total / notional * BPS if notional > 0 else math.nan}
