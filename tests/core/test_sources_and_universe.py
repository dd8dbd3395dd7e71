"""Replay and bundled sources serve real candles for any range; the universe ranks by quote volume."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from huracan_core.sources import CandleFetchError, open_source
from huracan_core.sources.replay import ReplaySource
from huracan_core.symbols import is_pair, to_ccxt, to_key
from huracan_core.timeframes import bars_per_day, timeframe_seconds
from huracan_core.universe import UniverseConfig, rank_universe, resolve_universe, universe_by_day


def test_symbol_and_timeframe_spellings():
    assert to_key("btc/usdt") == "BTC-USDT" and to_ccxt("BTC-USDT") == "BTC/USDT"
    assert timeframe_seconds("15m") == 900 and bars_per_day("1h") == 24
    for bad in ("BTCUSDT", "A/B/C"):
        with pytest.raises(ValueError):
            to_key(bad)
    with pytest.raises(ValueError, match="unknown timeframe"):
        timeframe_seconds("7x")


def test_replay_serves_a_half_open_range(real_candles):
    src = ReplaySource(real_candles)
    got = src.fetch("ETH/USDT", "15m", datetime(2024, 9, 19, tzinfo=UTC), datetime(2024, 9, 20, tzinfo=UTC))
    assert got.height == 96 and got["timestamp"].min() == datetime(2024, 9, 19, tzinfo=UTC)
    assert got["timestamp"].max() == datetime(2024, 9, 19, 23, 45, tzinfo=UTC)
    with pytest.raises(CandleFetchError, match="no 4h candles for BTC/USDT"):
        src.fetch("BTC/USDT", "4h", datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 1, 2, tzinfo=UTC))


def test_bundled_sample_is_real_binance_data(shared_candles):
    bundled = open_source("bundled")
    assert bundled.symbols("15m") == ["BNB/USDT", "BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]
    start, end = datetime(2024, 8, 5, tzinfo=UTC), datetime(2024, 8, 6, tzinfo=UTC)
    shipped = bundled.fetch("BTC/USDT", "15m", start, end)
    shared = ReplaySource(shared_candles).fetch("BTC/USDT", "15m", start, end)
    assert shipped.equals(shared)


def test_open_source_rejects_unknown_specs():
    with pytest.raises(ValueError, match="unknown candle source"):
        open_source("kraken")


def test_first_timestamp_is_the_listing(shared_candles):
    """SOL/USDT was listed 2020-08-11 06:00 UTC (shared set's 1h file)."""
    assert ReplaySource(shared_candles).first_timestamp("SOL/USDT", "1h") == datetime(2020, 8, 11, 6, tzinfo=UTC)


def test_top_n_by_trailing_quote_volume_with_listing_age(shared_candles):
    src = ReplaySource(shared_candles)
    ranked = rank_universe(src, "1h", UniverseConfig(top_n=3, min_listing_days=60), as_of=date(2020, 10, 1))
    assert [r.symbol for r in ranked] == ["BTC/USDT", "ETH/USDT", "LINK/USDT"]  # summer-2020 DeFi: LINK out-traded BNB
    assert all(r.listed_days >= 60 for r in ranked)
    young = rank_universe(src, "1h", UniverseConfig(top_n=20, min_listing_days=30), as_of=date(2020, 10, 1))
    assert "AVAX/USDT" not in [r.symbol for r in young]  # listed 2020-09-22: too young
    assert "SOL/USDT" in [r.symbol for r in young]  # listed 2020-08-11
    volumes = [r.quote_volume for r in young]
    assert volumes == sorted(volumes, reverse=True)


def test_a_days_universe_is_the_same_ranked_alone_or_in_a_range(shared_candles):
    """Each day's ranking reads only its own trailing window (the days before it), whichever range asked."""
    src, cfg = ReplaySource(shared_candles), UniverseConfig(top_n=4, lookback_days=10, min_listing_days=30)
    days = [date(2020, 9, 20) + timedelta(days=n) for n in range(12)]  # AVAX/USDT comes of age on the way
    ranged = universe_by_day(src, "1h", cfg, days)
    alone = {day: [r.symbol for r in rank_universe(src, "1h", cfg, as_of=day)] for day in days}
    assert ranged == alone and len({tuple(v) for v in ranged.values()}) > 1
    start = datetime(2020, 9, 21, tzinfo=UTC)
    window = src.fetch("ETH/USDT", "1h", start - timedelta(days=10), start)
    (eth,) = [r for r in rank_universe(src, "1h", cfg, as_of=start.date()) if r.symbol == "ETH/USDT"]
    assert eth.quote_volume == pytest.approx(float(window["quote_volume"].sum()), rel=1e-12)


def test_explicit_symbols_win_over_ranking(real_candles):
    cfg = UniverseConfig(symbols=("SOL-USDT", "btc/usdt"), top_n=1)
    assert resolve_universe(ReplaySource(real_candles), "15m", cfg, date(2024, 9, 1)) == ["SOL/USDT", "BTC/USDT"]


# --- files that cannot be read name the file and the symbol ------------------------------------------------


def sample_copy(tmp_path, pair: str = "BTC-USDT"):
    from huracan_core.sources.bundled import SAMPLE_DIR

    target = tmp_path / f"{pair}_15m.parquet"
    target.write_bytes((SAMPLE_DIR / f"{pair}_15m.parquet").read_bytes())
    return target


DEC = (datetime(2024, 12, 5, tzinfo=UTC), datetime(2024, 12, 6, tzinfo=UTC))


def test_a_truncated_replay_file_names_file_and_symbol(tmp_path):
    path = sample_copy(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    src = ReplaySource(tmp_path)
    for read in (lambda: src.fetch("BTC/USDT", "15m", *DEC), lambda: src.first_timestamp("BTC/USDT", "15m")):
        with pytest.raises(CandleFetchError) as raised:
            read()
        message = str(raised.value)
        assert str(path) in message and "BTC/USDT 15m" in message and "cannot read" in message
        assert "PAR1" in message  # polars' own reason, on the same line


def test_a_missing_replay_file_names_file_and_symbol(tmp_path):
    sample_copy(tmp_path, "ETH-USDT")
    src = ReplaySource(tmp_path)
    with pytest.raises(
        CandleFetchError, match="no 15m candles for BTC/USDT: file .*BTC-USDT_15m.parquet does not exist"
    ):
        src.fetch("BTC/USDT", "15m", *DEC)
    assert src.first_timestamp("BTC/USDT", "15m") is None


def test_a_fetch_error_names_the_partitions_it_was_for(tmp_path):
    from datetime import date

    from huracan_core.candles import load_candle_partitions

    sample_copy(tmp_path).write_bytes(b"not parquet at all")
    with pytest.raises(CandleFetchError) as raised:
        load_candle_partitions(
            ReplaySource(tmp_path), "15m", {"BTC/USDT": [date(2024, 12, 5), date(2024, 12, 6)]}, lambda d, s: f"{d}|{s}"
        )
    assert str(raised.value).startswith("2024-12-05|BTC-USDT, 2024-12-06|BTC-USDT: replay:")


def test_replay_offers_only_pair_files(tmp_path):
    sample_copy(tmp_path)
    (tmp_path / "notes_15m.parquet").write_bytes(b"")  # no BASE-QUOTE name: not a candle file
    src = ReplaySource(tmp_path)
    assert src.symbols("15m") == ["BTC/USDT"] and src.timeframes() == ["15m"]
    assert is_pair("btc-usdt") and is_pair("BTC/USDT") and not is_pair("BTCUSDT") and not is_pair("A/B/C")
