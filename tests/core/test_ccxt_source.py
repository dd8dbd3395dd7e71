"""ccxt against a loopback Binance: pagination, a 429 then success, repeated timeouts, closed candles only."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from huracan_core.sources import CandleFetchError
from huracan_core.sources.ccxt_source import CcxtSource
from huracan_core.sources.retry import RetryPolicy
from tests.fake_binance import FakeBinance, binance_exchange

START, END = datetime(2024, 9, 1, tzinfo=UTC), datetime(2024, 9, 4, tzinfo=UTC)  # 288 candles of 15m


@pytest.fixture
def fake(btc_15m):
    with FakeBinance({"BTCUSDT": btc_15m}, max_limit=100) as server:
        yield server


def source(fake: FakeBinance, *, attempts: int = 4, timeout_ms: int = 2_000, now: datetime | None = None) -> CcxtSource:
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=attempts, base_delay_s=0.01, max_delay_s=0.05, sleep=waits.append)
    src = CcxtSource(
        binance_exchange(fake.url, timeout_ms),
        retry=policy,
        page_limit=100,
        now_ms=(lambda: int(now.timestamp() * 1000)) if now else None,
    )
    src.waits = waits  # type: ignore[attr-defined]
    return src


def test_paginates_a_range_over_several_pages_and_matches_the_real_candles(fake, btc_15m):
    got = source(fake).fetch("BTC/USDT", "15m", START, END)
    want = btc_15m.filter(pl.col("timestamp").is_between(START, END, closed="left"))
    klines = [r for r in fake.requests if r["path"].endswith("/klines")]
    assert len(klines) >= 3
    assert got.height == want.height == 288
    assert got["timestamp"].to_list() == want["timestamp"].to_list()
    assert (got["close"] - want["close"]).abs().max() < 1e-8
    assert got.schema["timestamp"] == pl.Datetime("ms", "UTC")


def test_a_429_is_retried_with_backoff_then_succeeds(fake):
    fake.faults.extend(["429"])
    src = source(fake)
    got = src.fetch("BTC/USDT", "15m", START, END)
    assert got.height == 288
    assert len(src.waits) == 1 and 0 <= src.waits[0] <= 0.01


def test_repeated_timeouts_fail_clearly_naming_symbol_and_range(fake):
    fake.faults.extend(["stall"] * 10)
    fake.stall_s = 0.6
    src = source(fake, attempts=3, timeout_ms=200)
    with pytest.raises(CandleFetchError) as raised:
        src.fetch("BTC/USDT", "15m", START, END)
    message = str(raised.value)
    assert "BTC/USDT 15m 2024-09-01T00:00:00+00:00..2024-09-04T00:00:00+00:00" in message
    assert "after 3 attempts" in message and "RequestTimeout" in message
    assert len(src.waits) == 2


def test_a_timeout_mid_range_returns_nothing_partial(fake):
    fake.faults.extend([None, "stall", "stall", "stall"])  # first page fine, then the exchange stalls
    fake.stall_s = 0.6
    with pytest.raises(CandleFetchError):
        source(fake, attempts=3, timeout_ms=200).fetch("BTC/USDT", "15m", START, END)


def test_only_closed_candles_are_kept(fake):
    now = datetime(2024, 9, 2, 10, 20, tzinfo=UTC)  # the 10:15 candle is still open
    got = source(fake, now=now).fetch("BTC/USDT", "15m", START, END)
    assert got["timestamp"].max() == datetime(2024, 9, 2, 10, 0, tzinfo=UTC)


def test_unknown_symbol_fails_without_retry(fake):
    src = source(fake)
    with pytest.raises(CandleFetchError, match="BadSymbol"):
        src.fetch("DOGE/USDT", "15m", START, END)
    assert src.waits == []


def test_unknown_exchange_is_a_clear_error():
    with pytest.raises(CandleFetchError, match="no exchange 'nope'"):
        CcxtSource.from_id("nope")
