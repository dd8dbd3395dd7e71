"""What trading a symbol costs beyond its fees, one UTC day at a time: the quoted spread, the price impact of an
order of a given size, the market's tick, and the funding a perpetual position pays.

One interface for every origin, so the cost path never asks where a number came from but every quote says it:
``recorded_quotes`` (a table of market facts, for recorded sources) and the ``market_quotes`` asset (order books
and funding history sampled from a live exchange) both answer ``QuoteBook.quote``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

#: Binance's perpetuals settle funding every 8 hours, at these UTC hours
FUNDING_HOURS = (0, 8, 16)


@dataclass(frozen=True)
class MarketQuote:
    """What trading ``symbol`` costs beyond fees on ``day``, and where the numbers come from (``source``)."""

    symbol: str
    day: date
    #: the full quoted spread, (ask − bid) / mid in bps: the day's median; 0 = at the tick, the floor of every bar
    spread_bps: float
    #: one side's price impact (bps) of an order of ``order_size`` quote notional walking the book; None = not
    #: measured (the cost model then uses the order's share of the bar's traded value)
    impact_bps: float | None
    order_size: float
    #: the market's price increment: no bar's spread is narrower than one tick at that bar's price
    tick_size: float
    #: (funding time UTC, rate per interval as a fraction of notional; positive = longs pay shorts) of the day
    funding: tuple[tuple[datetime, float], ...]
    #: where the numbers come from, in one line
    source: str


class QuoteBook(Protocol):
    """The quote of any (symbol, day) the cost path prices."""

    def quote(self, symbol: str, day: date) -> MarketQuote: ...

    def content_hash(self) -> str:
        """A short hash of everything the book answers: the assets' code versions carry it, so partitions priced
        under another book are marked stale."""
        ...


def funding_times(day: date) -> list[datetime]:
    """The funding settlements of ``day`` (UTC)."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return [start + timedelta(hours=h) for h in FUNDING_HOURS]


def hash_of(parts: object) -> str:
    """A short hash of plain data (a quote book's ``content_hash``)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]
