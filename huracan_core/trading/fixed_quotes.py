"""A quote book of stated numbers, the same every day: a what-if (how a strategy fares at a given spread, impact
or funding rate), a benchmark's fixed costs, or a test's hand computation. Nothing is measured or fitted here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from huracan_core.trading.quotes import MarketQuote, funding_times, hash_of


@dataclass(frozen=True)
class FixedQuotes:
    """Every (symbol, day) quoted alike: the full ``spread_bps``, the ``impact_bps`` of ``order_size`` (None: the
    cost model's share of the bar), the ``tick_size`` (0: no floor) and the ``funding_rate`` per 8 hours."""

    spread_bps: float = 0.0
    impact_bps: float | None = None
    order_size: float = 1_000.0
    tick_size: float = 0.0
    funding_rate: float = 0.0

    def quote(self, symbol: str, day: date) -> MarketQuote:
        funding = tuple((t, self.funding_rate) for t in funding_times(day))
        return MarketQuote(
            symbol, day, self.spread_bps, self.impact_bps, self.order_size, self.tick_size, funding, "config: fixed"
        )

    def content_hash(self) -> str:
        return hash_of([self.spread_bps, self.impact_bps, self.order_size, self.tick_size, self.funding_rate])
