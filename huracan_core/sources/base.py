"""The interface every candle source keeps: closed candles, canonical schema, a half-open time range."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import date, datetime

import polars as pl


class CandleFetchError(RuntimeError):
    """A source could not deliver a range; the message names source, symbol, timeframe and range."""


class CandleSource(ABC):
    #: a short label for logs and metadata, e.g. ``replay:/data`` or ``ccxt:binance``
    name: str

    @abstractmethod
    def fetch(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> pl.DataFrame:
        """Closed candles whose open time lies in ``[start, end)``, in the canonical schema, sorted.

        Either the whole range arrives or the call raises: callers never see a partial range.
        """

    @abstractmethod
    def symbols(self, timeframe: str) -> list[str]:
        """Symbols (``BASE/QUOTE``) this source can serve at ``timeframe``."""

    def timeframes(self) -> list[str] | None:
        """Timeframes this source can serve, or None when it cannot tell without asking the exchange."""
        return None

    def known_symbols(self, timeframe: str) -> list[str] | None:
        """``symbols(timeframe)`` when the source knows them without a request, else None (an exchange)."""
        return None

    @abstractmethod
    def first_timestamp(self, symbol: str, timeframe: str) -> datetime | None:
        """Open time of the first candle the source has for ``symbol`` (its listing), or None."""

    def recorded_days(self, timeframes: Sequence[str]) -> tuple[date, date] | None:
        """The first and last UTC day a *recorded* source holds candles of at any of ``timeframes``; None for a
        live exchange, whose days keep coming."""
        return None
