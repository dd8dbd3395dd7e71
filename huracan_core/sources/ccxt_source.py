"""Candles from any ccxt exchange: paginated by ``since``, rate-limited, retried, closed candles only."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import polars as pl

from huracan_core.schema import conform, empty_candles
from huracan_core.sources.base import CandleFetchError, CandleSource
from huracan_core.sources.retry import RetryPolicy, call_with_retry
from huracan_core.symbols import to_ccxt
from huracan_core.timeframes import timeframe_ms

log = logging.getLogger(__name__)


def _ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


class CcxtSource(CandleSource):
    """Wraps a constructed ccxt exchange; ``from_id`` builds one with the exchange's own rate limiter on."""

    def __init__(
        self,
        exchange: Any,
        *,
        retry: RetryPolicy | None = None,
        page_limit: int = 1000,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self.exchange = exchange
        self.name = f"ccxt:{exchange.id}"
        self.retry = retry or RetryPolicy()
        self.page_limit = page_limit
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))

    @classmethod
    def from_id(cls, exchange_id: str, *, options: dict[str, Any] | None = None, **kwargs: Any) -> CcxtSource:
        import ccxt

        klass = getattr(ccxt, exchange_id, None)
        if klass is None or not isinstance(klass, type):
            raise CandleFetchError(f"ccxt has no exchange {exchange_id!r}")
        exchange = klass({"enableRateLimit": True, "timeout": 30_000, **(options or {})})
        return cls(exchange, **kwargs)

    def now(self) -> datetime:
        """The clock this source reads (a test sets it): which candles are closed, when a book was sampled."""
        return datetime.fromtimestamp(self._now_ms() / 1000, tz=UTC)

    def _call(self, what: str, fn: Callable[[], Any], error: type[CandleFetchError] = CandleFetchError) -> Any:
        """``fn`` with retries of network errors; any failure raises ``error`` naming ``what`` and the cause."""
        import ccxt

        def note(attempt: int, error: BaseException, delay: float) -> None:
            log.warning(
                "%s: %s failed (%s: %s); retry %d in %.2fs",
                self.name,
                what,
                type(error).__name__,
                error,
                attempt,
                delay,
            )

        try:
            return call_with_retry(fn, policy=self.retry, retry_on=(ccxt.NetworkError,), on_retry=note)
        except ccxt.NetworkError as cause:
            raise error(
                f"{self.name}: {what} failed after {self.retry.max_attempts} attempts ({type(cause).__name__}: {cause})"
            ) from cause
        except ccxt.BaseError as cause:
            raise error(f"{self.name}: {what} failed ({type(cause).__name__}: {cause})") from cause

    def fetch(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> pl.DataFrame:
        pair = to_ccxt(symbol)
        step = timeframe_ms(timeframe)
        # a candle is closed once its whole interval lies in the past
        end_ms = min(_ms(end), self._now_ms() - step + 1)
        what = f"fetch_ohlcv {pair} {timeframe} {start.isoformat()}..{end.isoformat()}"
        self._call(f"load_markets for {what}", self.exchange.load_markets)
        rows: list[list[Any]] = []
        since = _ms(start)
        while since < end_ms:
            page = self._call(
                what, lambda s=since: self.exchange.fetch_ohlcv(pair, timeframe, since=s, limit=self.page_limit)
            )
            page = [row for row in page if row[0] >= since]
            if not page:
                break
            rows.extend(row for row in page if row[0] < end_ms)
            since = page[-1][0] + step
        if not rows:
            return empty_candles()
        frame = pl.DataFrame(
            rows, schema=["timestamp", "open", "high", "low", "close", "volume"], orient="row", strict=False
        )
        return conform(frame.with_columns(pl.col(c).cast(pl.Float64) for c in frame.columns[1:]))

    def symbols(self, timeframe: str) -> list[str]:
        markets = self._call("load_markets", self.exchange.load_markets)
        return sorted(m["symbol"] for m in markets.values() if m.get("spot") and m.get("active", True) is not False)

    def timeframes(self) -> list[str] | None:
        """The exchange class declares its timeframes; no request is needed."""
        declared = getattr(self.exchange, "timeframes", None)
        return sorted(declared) if isinstance(declared, dict) and declared else None

    def first_timestamp(self, symbol: str, timeframe: str) -> datetime | None:
        pair = to_ccxt(symbol)
        self._call("load_markets", self.exchange.load_markets)
        page = self._call(
            f"first candle of {pair}", lambda: self.exchange.fetch_ohlcv(pair, timeframe, since=0, limit=1)
        )
        return datetime.fromtimestamp(page[0][0] / 1000, tz=UTC) if page else None
