"""Order books, ticks and funding read by ccxt from a loopback Binance: spreads and impacts equal a hand computation
on the book served, a thin book and a stalled exchange fail naming what they were asked, funding keeps its sign
and times; samples are stored one object each and the day's quote is their median."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from statistics import median

import polars as pl
import pytest

from huracan_core.quote_days import day_quotes, read_samples, sample_books
from huracan_core.sources.ccxt_source import CcxtSource
from huracan_core.sources.market_data import CcxtMarketData, MarketDataError, ThinBookError, average_fill
from huracan_core.sources.retry import RetryPolicy
from huracan_core.storage import LocalArtifactStore
from huracan_core.trading.measured_quotes import quote_book, quote_frame, quote_from_frame, quote_problems
from huracan_core.trading.recorded_quotes import RecordedQuotes
from tests.fake_binance import FakeBinance, binance_exchange

DAY = date(2024, 9, 2)
MIDNIGHT = datetime(2024, 9, 2, tzinfo=UTC)


def book_around(price: float, tick: float, levels: int = 5, amount: float = 0.004) -> dict:
    """A book one tick wide at ``price`` whose levels hold ``amount`` BTC each, growing by half a level a step."""
    bids = [(round(price - n * tick, 2), amount * (1 + n / 2)) for n in range(levels)]
    asks = [(round(price + (n + 1) * tick, 2), amount * (1 + n / 2)) for n in range(levels)]
    return {"bids": bids, "asks": asks}


def hand_fill(levels: list[tuple[float, float]], notional: float) -> float:
    """Spend ``notional`` level by level, written out the long way: notional / base bought."""
    left, base = notional, 0.0
    for price, amount in levels:
        cost = price * amount
        if cost >= left:
            return notional / (base + left / price)
        left, base = left - cost, base + amount
    raise AssertionError("the test's book must hold the order")


@pytest.fixture
def fake(btc_15m):
    with FakeBinance({"BTCUSDT": btc_15m}) as server:
        close = float(btc_15m["close"][-1])
        server.books["BTCUSDT"] = book_around(round(close, 2), 0.01)
        yield server


def market(fake: FakeBinance, *, attempts: int = 4, timeout_ms: int = 2_000, now: datetime = MIDNIGHT):
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=attempts, base_delay_s=0.01, max_delay_s=0.05, sleep=waits.append)
    source = CcxtSource(
        binance_exchange(fake.url, timeout_ms), retry=policy, now_ms=lambda: int(now.timestamp() * 1000)
    )
    return CcxtMarketData(source), waits


def test_spread_and_impacts_equal_a_hand_computation_on_the_book_served(fake):
    book = fake.books["BTCUSDT"]
    size = 1_000.0
    sample = market(fake)[0].sample("BTC/USDT", size, depth=20)
    bid, ask = book["bids"][0][0], book["asks"][0][0]
    mid = (bid + ask) / 2
    assert (sample.bid, sample.ask) == (bid, ask)
    assert sample.spread_bps == pytest.approx((ask - bid) / mid * 1e4, rel=1e-12)
    buy, sell = hand_fill(book["asks"], size), hand_fill(book["bids"], size)
    assert buy > ask and sell < bid  # the order walks past the touch on both sides
    assert sample.buy_impact_bps == pytest.approx((buy - mid) / mid * 1e4, rel=1e-9)
    assert sample.sell_impact_bps == pytest.approx((mid - sell) / mid * 1e4, rel=1e-9)
    assert sample.buy_impact_bps > sample.spread_bps / 2 and sample.sell_impact_bps > sample.spread_bps / 2
    assert sample.time == MIDNIGHT  # Binance's spot depth carries no time: the source's clock
    depth = [r for r in fake.requests if r["path"].endswith("/depth")]
    assert depth == [{"path": "/api/v3/depth", "symbol": "BTCUSDT", "limit": "20"}]


def test_an_order_inside_the_best_level_fills_at_the_touch():
    assert average_fill([(100.0, 2.0), (101.0, 5.0)], 150.0) == 100.0
    assert average_fill([(100.0, 1.0)], 150.0) is None


def test_a_book_too_thin_for_the_order_fails_naming_symbol_side_and_size(fake):
    with pytest.raises(ThinBookError) as raised:
        market(fake)[0].sample("BTC/USDT", 10_000_000.0, depth=5)
    message = str(raised.value)
    assert "BTC/USDT" in message and "10,000,000.00 to buy" in message and "5 ask levels" in message


def test_a_429_on_depth_is_retried_and_repeated_stalls_fail_clearly(fake):
    fake.faults.extend(["429"])
    data, waits = market(fake)
    assert data.sample("BTC/USDT", 1_000.0).ask > 0 and len(waits) == 1
    fake.faults.extend(["stall"] * 5)
    fake.stall_s = 0.6
    data, waits = market(fake, attempts=3, timeout_ms=200)
    with pytest.raises(MarketDataError) as raised:
        data.sample("BTC/USDT", 1_000.0)
    message = str(raised.value)
    assert "fetch_order_book BTC/USDT limit 100" in message and "after 3 attempts" in message
    assert "RequestTimeout" in message and len(waits) == 2


def test_funding_history_keeps_the_day_its_times_and_its_sign(fake):
    hours = [-8, 0, 8, 16, 24]  # the day before's last settlement and the next day's first are not the day's
    rates = [0.0003, 0.0001, -0.00025, 0.00005, 0.0004]
    fake.funding["BTCUSDT"] = [
        (int((MIDNIGHT + timedelta(hours=h)).timestamp() * 1000), r) for h, r in zip(hours, rates, strict=True)
    ]
    data, _ = market(fake)
    got = data.funding("BTC/USDT", DAY)
    assert got == tuple((MIDNIGHT + timedelta(hours=h), r) for h, r in zip(hours[1:4], rates[1:4], strict=True))
    assert all(t.tzinfo is not None for t, _ in got)
    call = next(r for r in fake.requests if r["path"].endswith("/fundingRate"))
    assert call["symbol"] == "BTCUSDT" and int(call["startTime"]) == int(MIDNIGHT.timestamp() * 1000)
    assert data.funding("BTC/BUSD", DAY) is None  # no such perpetual listed
    data.source.exchange.has["fetchFundingRateHistory"] = False
    assert data.funding("BTC/USDT", DAY) is None


def test_the_tick_is_the_markets_price_increment(fake):
    assert market(fake)[0].tick_size("ETH/USDT") == 0.01


def test_samples_are_stored_one_object_each_and_the_day_quote_is_their_median(fake, tmp_path):
    store = LocalArtifactStore(tmp_path / "archive")
    spreads, impacts = [], []
    for n, widen in enumerate((1, 3, 2)):  # three looks at books of different widths
        fake.books["BTCUSDT"] = book_around(60_000.0, 0.01 * widen, amount=0.003 * widen)
        data, _ = market(fake, now=MIDNIGHT + timedelta(minutes=15 * n))
        done = sample_books(data, store, ["BTC-USDT", "DOGE-USDT"], 1_000.0, 50)
        assert list(done.failed) == ["DOGE/USDT"] and "DOGE/USDT" in done.failed["DOGE/USDT"]
        assert done.written == [f"quotes/BTC-USDT/2024-09-02/00{15 * n:02d}00.parquet"]
        sample = read_samples(store, "BTC-USDT", DAY).row(-1, named=True)
        spreads.append(sample["spread_bps"])
        impacts.append((sample["buy_impact_bps"] + sample["sell_impact_bps"]) / 2 - sample["spread_bps"] / 2)
    files = sorted(p.name for p in (tmp_path / "archive" / "quotes" / "BTC-USDT" / "2024-09-02").iterdir())
    assert files == ["000000.parquet", "001500.parquet", "003000.parquet"]  # no temporary file left behind
    data, _ = market(fake)
    [frame] = day_quotes(data.source, store, [(DAY, "BTC-USDT")], RecordedQuotes(), perpetual=False).values()
    quote = quote_from_frame(frame, "test")
    assert frame["samples"].item() == 3
    assert quote.spread_bps == pytest.approx(median(spreads)) and quote.impact_bps == pytest.approx(median(impacts))
    assert quote.tick_size == 0.01 and quote.funding == () and "median of 3 order-book samples" in quote.source


def test_a_day_without_samples_falls_back_and_says_so(fake, tmp_path):
    store = LocalArtifactStore(tmp_path / "archive")
    fake.funding["BTCUSDT"] = [(int((MIDNIGHT + timedelta(hours=8)).timestamp() * 1000), -0.0002)]
    data, _ = market(fake)
    recorded = RecordedQuotes()
    [frame] = day_quotes(data.source, store, [(DAY, "BTC-USDT")], recorded, perpetual=True).values()
    quote = quote_from_frame(frame, "test")
    assert quote.source.startswith("FALLBACK no order-book samples of 2024-09-02")
    assert quote.spread_bps == recorded.quote("BTC/USDT", DAY).spread_bps and frame["samples"].item() == 0
    assert quote.funding == ((MIDNIGHT + timedelta(hours=8), -0.0002),)  # funding is still measured


def test_a_quote_book_reads_partitions_back_and_falls_back_by_name():
    recorded = RecordedQuotes()
    measured = recorded.quote("ETH/USDT", DAY)
    frames = {(DAY, "ETH-USDT"): quote_frame(measured, samples=0)}
    book = quote_book(frames, recorded)
    assert book.quote("ETH/USDT", DAY) == measured == book.quote("ETH-USDT", DAY)
    other = book.quote("ETH/USDT", DAY + timedelta(days=1))
    assert other.source.startswith("FALLBACK no market_quotes partition of 2024-09-03 ETH-USDT")
    assert other.spread_bps == recorded.quote("ETH/USDT", DAY + timedelta(days=1)).spread_bps
    with pytest.raises(ValueError, match=re.escape("market_quotes 2024-09-02|ETH-USDT: 2 rows")):
        quote_book({(DAY, "ETH-USDT"): pl.concat([frames[(DAY, "ETH-USDT")]] * 2)}, recorded)


def test_an_impossible_quote_is_named_and_a_sane_one_passes() -> None:
    """The blocking check's verdict: a negative spread or impact, or an ask at or below the bid, each named."""
    sane = RecordedQuotes().quote("BTC/USDT", date(2024, 12, 31))
    assert quote_problems(quote_frame(sane, 3, 100.0, 100.01)) == []
    bad = replace(sane, spread_bps=-0.5, impact_bps=-1.0)
    assert quote_problems(quote_frame(bad, 3, 100.0, 100.0)) == [
        "spread -0.5 bps < 0",
        "impact -1.0 bps < 0",
        "median ask 100.0 ≤ median bid 100.0",
    ]
