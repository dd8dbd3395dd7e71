"""The ``market_quotes`` partitions: one ``MarketQuote`` per symbol and UTC day as a one-row frame, built from a
live exchange's order-book samples (or the recorded table), and read back into the ``QuoteBook`` the cost path
prices with.

``impact_bps`` of a measured quote is what an order of ``order_size`` pays walking the book *beyond the touch*: a
sample's impact of buying and of selling against the mid, averaged over the two sides (a round trip pays one of
each), less half that sample's spread — so a side's cost is half the spread plus the impact, the half spread counted
once. The day's figure is the median over its samples, robust to a moment of a thin book.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

import polars as pl

from huracan_core.symbols import to_ccxt, to_key
from huracan_core.trading.quotes import MarketQuote, QuoteBook, hash_of

#: the one-row frame of a ``market_quotes`` partition; ``bid``/``ask`` are the medians of the day's samples (null
#: when no book was sampled)
QUOTE_SCHEMA: dict[str, pl.DataType] = {
    "symbol": pl.String(),
    "date": pl.Date(),
    "spread_bps": pl.Float64(),
    "impact_bps": pl.Float64(),
    "order_size": pl.Float64(),
    "tick_size": pl.Float64(),
    "samples": pl.Int64(),
    "bid": pl.Float64(),
    "ask": pl.Float64(),
    "funding_times": pl.List(pl.Datetime("ms", "UTC")),
    "funding_rates": pl.List(pl.Float64()),
    "source": pl.String(),
}


def quote_frame(
    quote: MarketQuote, samples: int = 0, bid: float | None = None, ask: float | None = None
) -> pl.DataFrame:
    """``quote`` as the partition's one row."""
    row = {
        "symbol": to_ccxt(quote.symbol),
        "date": quote.day,
        "spread_bps": quote.spread_bps,
        "impact_bps": quote.impact_bps,
        "order_size": quote.order_size,
        "tick_size": quote.tick_size,
        "samples": samples,
        "bid": bid,
        "ask": ask,
        "funding_times": [t for t, _ in quote.funding],
        "funding_rates": [r for _, r in quote.funding],
        "source": quote.source,
    }
    return pl.DataFrame([row], schema=QUOTE_SCHEMA)


def quote_from_frame(frame: pl.DataFrame, where: str) -> MarketQuote:
    """The ``MarketQuote`` a partition's frame holds; ``where`` names the partition in an error."""
    if frame.height != 1:
        raise ValueError(f"market_quotes {where}: {frame.height} rows, a partition holds one")
    missing = sorted(set(QUOTE_SCHEMA) - set(frame.columns))
    if missing:
        raise ValueError(f"market_quotes {where}: columns {missing} missing")
    row = frame.row(0, named=True)
    impact = row["impact_bps"]
    return MarketQuote(
        symbol=to_ccxt(row["symbol"]),
        day=row["date"],
        spread_bps=float(row["spread_bps"]),
        impact_bps=None if impact is None else float(impact),
        order_size=float(row["order_size"]),
        tick_size=float(row["tick_size"]),
        funding=tuple(zip(row["funding_times"], (float(r) for r in row["funding_rates"]), strict=True)),
        source=row["source"],
    )


def measured_quote(
    symbol: str,
    day: date,
    samples: pl.DataFrame,
    tick_size: float,
    funding: tuple[tuple[datetime, float], ...] | None,
    fallback: QuoteBook,
    exchange: str,
    perpetual: bool,
) -> pl.DataFrame:
    """The quote of a live exchange's ``day``: the median spread and impact of the day's order-book ``samples``
    (``QuoteSample`` frames stacked), the exchange's tick, and — for a perpetual fee profile — the day's measured
    ``funding`` (None: the exchange has none, so the fallback's default rate, said in ``source``). A day without
    samples takes its spread and impact from ``fallback`` and says so."""
    recorded = fallback.quote(to_ccxt(symbol), day)
    if not perpetual:
        paid, funding_note = (), "no funding (spot fee profile)"
    elif funding is None:
        paid = recorded.funding
        funding_note = f"funding: {exchange} has no history for the perpetual, so the default rate ({recorded.source})"
    else:
        paid, funding_note = funding, f"funding: {len(funding)} settlements measured at {exchange}"
    tick_note = f"tick {tick_size:g} from {exchange} load_markets"
    if samples.is_empty():
        quote = MarketQuote(
            to_ccxt(symbol),
            day,
            recorded.spread_bps,
            recorded.impact_bps,
            recorded.order_size,
            tick_size,
            paid,
            f"FALLBACK no order-book samples of {day} at {exchange}: spread and impact from {recorded.source}; "
            f"{tick_note}; {funding_note}",
        )
        return quote_frame(quote)
    beyond_touch = (pl.col("buy_impact_bps") + pl.col("sell_impact_bps")) / 2 - pl.col("spread_bps") / 2
    medians = samples.select(
        pl.col("spread_bps").median(),
        beyond_touch.clip(lower_bound=0.0).median().alias("impact_bps"),
        pl.col("bid").median(),
        pl.col("ask").median(),
        pl.col("order_size").first(),
        pl.col("depth").max(),
    ).row(0, named=True)
    quote = MarketQuote(
        to_ccxt(symbol),
        day,
        float(medians["spread_bps"]),
        float(medians["impact_bps"]),
        float(medians["order_size"]),
        tick_size,
        paid,
        f"median of {samples.height} order-book samples at {exchange} ({medians['depth']} levels deep); "
        f"{tick_note}; {funding_note}",
    )
    return quote_frame(quote, samples.height, cast(float, medians["bid"]), cast(float, medians["ask"]))


@dataclass(frozen=True)
class MeasuredQuotes:
    """The quote book of loaded ``market_quotes`` partitions; a (symbol, day) without one is ``fallback``'s quote,
    whose ``source`` then says that no partition was there."""

    quotes: Mapping[tuple[date, str], MarketQuote] = field(hash=False)
    fallback: QuoteBook

    def quote(self, symbol: str, day: date) -> MarketQuote:
        found = self.quotes.get((day, to_key(symbol)))
        if found is not None:
            return found
        recorded = self.fallback.quote(to_ccxt(symbol), day)
        return MarketQuote(
            recorded.symbol,
            recorded.day,
            recorded.spread_bps,
            recorded.impact_bps,
            recorded.order_size,
            recorded.tick_size,
            recorded.funding,
            f"FALLBACK no market_quotes partition of {day} {to_key(symbol)}: {recorded.source}",
        )

    def content_hash(self) -> str:
        """Every measured quote and the fallback's table (``costs.json`` records which book priced a model)."""
        measured = sorted((str(day), symbol, repr(q)) for (day, symbol), q in self.quotes.items())
        return hash_of([measured, self.fallback.content_hash()])


def quote_book(partitions: Mapping[tuple[date, str], pl.DataFrame], fallback: QuoteBook) -> MeasuredQuotes:
    """Loaded ``market_quotes`` partitions (``{(day, symbol): frame}``) as the ``QuoteBook`` a ``CostModel``
    carries."""
    quotes = {
        (day, to_key(symbol)): quote_from_frame(frame, f"{day}|{to_key(symbol)}")
        for (day, symbol), frame in partitions.items()
    }
    return MeasuredQuotes(quotes, fallback)


def quote_problems(frame: pl.DataFrame) -> list[str]:
    """What is impossible in a day's quote row: a spread or an impact is a cost (≥ 0), and a book's ask lies above
    its bid. Empty when the quote is sane."""
    row = frame.row(0, named=True)
    problems = []
    if not row["spread_bps"] >= 0:
        problems.append(f"spread {row['spread_bps']} bps < 0")
    if row["impact_bps"] is not None and not row["impact_bps"] >= 0:
        problems.append(f"impact {row['impact_bps']} bps < 0")
    if row["bid"] is not None and row["ask"] is not None and not row["ask"] > row["bid"]:
        problems.append(f"median ask {row['ask']} ≤ median bid {row['bid']}")
    return problems
