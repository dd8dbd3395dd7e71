"""A quote book for tests: the same quote every day, each number chosen by the test (spread, measured impact,
tick, funding rate per 8 h), so a cost can be computed by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from huracan_core.trading.quotes import MarketQuote, funding_times, hash_of


@dataclass(frozen=True)
class FixedQuotes:
    spread_bps: float = 0.0
    impact_bps: float | None = None
    order_size: float = 1_000.0
    tick_size: float = 0.0
    funding_rate: float = 0.0

    def quote(self, symbol: str, day: date) -> MarketQuote:
        funding = tuple((t, self.funding_rate) for t in funding_times(day))
        return MarketQuote(
            symbol, day, self.spread_bps, self.impact_bps, self.order_size, self.tick_size, funding, "test: fixed"
        )

    def content_hash(self) -> str:
        return hash_of([self.spread_bps, self.impact_bps, self.order_size, self.tick_size, self.funding_rate])
