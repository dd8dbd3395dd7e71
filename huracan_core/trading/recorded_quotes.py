"""Quotes for recorded sources (the bundled sample, a replay folder), which hold candles but no order book: a table
of market facts per symbol, each with where it comes from. Nothing here is fitted to candles.

Binance's spot books of these pairs are tick-constrained: the best bid and ask sit one price increment apart
nearly all the time, so the quoted spread is one tick (a fraction of a bp for BTC and ETH, under 2 bps for every
listed pair at its 2021–2024 prices), and an order of a few thousand USDT fills inside the top levels. The cost
model floors every bar's spread at one tick at that bar's price, so ``spread_bps`` here is what is quoted beyond
the tick: 0 for every listed pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from huracan_core.symbols import is_pair, to_ccxt
from huracan_core.trading.quotes import MarketQuote, funding_times, hash_of

#: Binance spot price increments (exchangeInfo, PRICE_FILTER tickSize), by pair
_TICKS = {
    "ADA/USDT": 0.0001,
    "AVAX/USDT": 0.01,
    "BNB/USDT": 0.01,
    "BTC/USDT": 0.01,
    "DOGE/USDT": 0.00001,
    "DOT/USDT": 0.001,
    "ETH/USDT": 0.01,
    "LINK/USDT": 0.01,
    "LTC/USDT": 0.01,
    "MATIC/USDT": 0.0001,
    "SOL/USDT": 0.01,
    "XRP/USDT": 0.0001,
}
_TICK_SOURCE = "Binance spot exchangeInfo PRICE_FILTER tickSize; top of book one tick wide (tick-constrained book)"
#: a pair missing from the table: no tick is known, so a spread is assumed, wider than any listed pair's tick
UNLISTED_SPREAD_BPS = 2.0
#: the funding rate charged when none is measured: Binance perpetuals' base rate, 0.01 % per 8 hours
DEFAULT_FUNDING_RATE = 0.0001


@dataclass(frozen=True)
class RecordedQuotes:
    """The quote book of a recorded source. ``funding_rate`` per 8-hour interval applies to perpetual fee
    profiles (None for spot: no funding)."""

    order_size: float = 1_000.0
    funding_rate: float | None = DEFAULT_FUNDING_RATE

    def quote(self, symbol: str, day: date) -> MarketQuote:
        """``symbol`` in either spelling (``BTC/USDT`` or the storage key ``BTC-USDT``, which the pipeline passes:
        a table keyed by one spelling alone priced every pair as unlisted)."""
        funding = tuple((t, self.funding_rate) for t in funding_times(day)) if self.funding_rate is not None else ()
        funding_note = (
            f"; funding {self.funding_rate * 1e4:g} bp per 8 h (the perpetuals' base rate, no history recorded)"
            if self.funding_rate is not None
            else ""
        )
        tick = _TICKS.get(to_ccxt(symbol) if is_pair(symbol) else symbol)
        if tick is None:
            return MarketQuote(
                symbol,
                day,
                UNLISTED_SPREAD_BPS,
                None,
                self.order_size,
                0.0,
                funding,
                f"config: {symbol} not in the recorded table, spread assumed {UNLISTED_SPREAD_BPS:g} bps{funding_note}",
            )
        return MarketQuote(
            symbol,
            day,
            0.0,
            None,
            self.order_size,
            tick,
            funding,
            f"config: tick {tick:g} ({_TICK_SOURCE}){funding_note}",
        )

    def content_hash(self) -> str:
        """The table, the unlisted spread, the order size and the funding rate: partitions priced under another
        table are stale."""
        return hash_of([sorted(_TICKS.items()), UNLISTED_SPREAD_BPS, self.order_size, self.funding_rate])
