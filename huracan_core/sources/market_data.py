"""What a trade pays beyond fees, measured at a live ccxt exchange: the order book (spread and the price impact of
an order walking it), the market's tick, and the funding history of the symbol's USDⓈ-M perpetual.

Requests go through ``CcxtSource._call``: the exchange's rate limiter, retries of network errors (timeouts, 429)
with bounded backoff, and an error naming what was asked for and why it failed.

A book too thin to fill the order within the levels fetched is an error (``ThinBookError``) naming the symbol, the
side, the size and the notional the book held: an impact measured on part of an order would understate the cost,
and a person must widen ``depth`` or shrink the order, not a silent lower bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from huracan_core.sources.base import CandleFetchError
from huracan_core.sources.ccxt_source import CcxtSource
from huracan_core.symbols import to_ccxt

BPS = 1e4
#: levels per side asked of the exchange (Binance's default book depth)
DEFAULT_DEPTH = 100


class MarketDataError(CandleFetchError):
    """An order book, a tick or a funding history the exchange could not give; names the symbol and the cause."""


class ThinBookError(MarketDataError):
    """The levels fetched hold less than the order's notional on one side."""


@dataclass(frozen=True)
class QuoteSample:
    """One look at a symbol's book: the touch, the full spread and what ``order_size`` quote notional would pay
    walking each side, in bps of the mid (the half spread included)."""

    symbol: str
    #: when the book was read (the exchange's time when it sends one, else the local clock)
    time: datetime
    bid: float
    ask: float
    spread_bps: float
    buy_impact_bps: float
    sell_impact_bps: float
    order_size: float
    depth: int

    def frame(self) -> pl.DataFrame:
        """The one-row frame stored for the sample (``quotes/<SYMBOL>/<date>/<HHMMSS>.parquet``)."""
        return pl.DataFrame(
            [self.__dict__],
            schema={
                "symbol": pl.String,
                "time": pl.Datetime("ms", "UTC"),
                "bid": pl.Float64,
                "ask": pl.Float64,
                "spread_bps": pl.Float64,
                "buy_impact_bps": pl.Float64,
                "sell_impact_bps": pl.Float64,
                "order_size": pl.Float64,
                "depth": pl.Int64,
            },
        )


def average_fill(levels: Sequence[Sequence[float]], notional: float) -> float | None:
    """The average price of spending ``notional`` quote currency on ``levels`` (price, base amount), best first:
    each level filled whole until the last, which fills in part. None when the levels hold less than ``notional``."""
    spent = bought = 0.0
    for price, amount in ((float(level[0]), float(level[1])) for level in levels):
        take = min(price * amount, notional - spent)
        spent += take
        bought += take / price
        if spent >= notional:
            return spent / bought
    return None


def sample_from_book(symbol: str, book: dict[str, Any], order_size: float, depth: int, now: datetime) -> QuoteSample:
    """A ``QuoteSample`` from a ccxt order book (``bids`` best first, descending; ``asks`` ascending)."""
    bids, asks = book.get("bids") or [], book.get("asks") or []
    if not bids or not asks:
        raise MarketDataError(f"{symbol}: the order book has no {'bids' if not bids else 'asks'}")
    bid, ask = float(bids[0][0]), float(asks[0][0])
    if ask <= bid:
        raise MarketDataError(f"{symbol}: the order book is crossed (bid {bid:g} ≥ ask {ask:g})")
    mid = (bid + ask) / 2
    fills = {}
    for side, levels in (("buy", asks), ("sell", bids)):
        fill = average_fill(levels, order_size)
        if fill is None:
            held = sum(float(p) * float(a) for p, a, *_ in levels)
            raise ThinBookError(
                f"{symbol}: the {len(levels)} {'ask' if side == 'buy' else 'bid'} levels fetched hold {held:,.2f} of "
                f"quote notional, less than the order size {order_size:,.2f} to {side}; fetch a deeper book or size "
                "the order smaller"
            )
        fills[side] = fill
    stamp = book.get("timestamp")
    moment = datetime.fromtimestamp(stamp / 1000, tz=UTC) if isinstance(stamp, int) else now
    return QuoteSample(
        symbol=to_ccxt(symbol),
        time=moment,
        bid=bid,
        ask=ask,
        spread_bps=(ask - bid) / mid * BPS,
        buy_impact_bps=(fills["buy"] - mid) / mid * BPS,
        sell_impact_bps=(mid - fills["sell"]) / mid * BPS,
        order_size=order_size,
        depth=depth,
    )


def perpetual_symbol(symbol: str) -> str:
    """The ccxt symbol of the pair's linear perpetual: ``BTC/USDT`` → ``BTC/USDT:USDT``."""
    pair = to_ccxt(symbol)
    return f"{pair}:{pair.split('/')[1]}"


class CcxtMarketData:
    """Order books, ticks and funding of one ccxt exchange, through a ``CcxtSource``'s retries and errors."""

    def __init__(self, source: CcxtSource) -> None:
        self.source = source
        self.name = source.name

    def _call(self, what: str, fn) -> Any:
        return self.source._call(what, fn, error=MarketDataError)

    def _markets(self) -> dict[str, Any]:
        return self._call("load_markets", self.source.exchange.load_markets)

    def sample(self, symbol: str, order_size: float, depth: int = DEFAULT_DEPTH) -> QuoteSample:
        """Read ``symbol``'s book ``depth`` levels deep now."""
        pair = to_ccxt(symbol)
        self._markets()
        book = self._call(
            f"fetch_order_book {pair} limit {depth}", lambda: self.source.exchange.fetch_order_book(pair, depth)
        )
        try:
            return sample_from_book(pair, book, order_size, depth, self.source.now())
        except MarketDataError as error:
            raise type(error)(f"{self.name}: {error}") from None

    def tick_size(self, symbol: str) -> float:
        """The market's price increment, from ``load_markets`` (ccxt's precision mode says how it is written)."""
        pair = to_ccxt(symbol)
        market = self._markets().get(pair)
        if market is None:
            raise MarketDataError(f"{self.name}: no market {pair}, so no tick size")
        price = (market.get("precision") or {}).get("price")
        if price is None:
            raise MarketDataError(f"{self.name}: market {pair} states no price precision, so no tick size")
        import ccxt

        if self.source.exchange.precisionMode == ccxt.TICK_SIZE:
            return float(price)
        return 10.0 ** -float(price)  # DECIMAL_PLACES: the number of decimals

    def funding(self, symbol: str, day: date) -> tuple[tuple[datetime, float], ...] | None:
        """The settlements of ``day`` (UTC) of the symbol's USDⓈ-M perpetual, (time, rate) with + = longs pay; None
        where the exchange offers no funding history or lists no such perpetual (the caller says what it used)."""
        exchange = self.source.exchange
        if not exchange.has.get("fetchFundingRateHistory"):
            return None
        perp = perpetual_symbol(symbol)
        if perp not in self._markets():
            return None
        start = datetime.combine(day, time(), tzinfo=UTC)
        since, until = _ms(start), _ms(start + timedelta(days=1)) - 1
        rows = self._call(
            f"fetch_funding_rate_history {perp} {day}",
            lambda: exchange.fetch_funding_rate_history(perp, since=since, limit=1000, params={"until": until}),
        )
        settled = sorted(
            (datetime.fromtimestamp(int(r["timestamp"]) / 1000, tz=UTC), float(r["fundingRate"]))
            for r in rows
            if r.get("timestamp") is not None and r.get("fundingRate") is not None and since <= r["timestamp"] <= until
        )
        return tuple(settled)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
