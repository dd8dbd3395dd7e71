"""Every blocking rule against a corrupted copy of real candles; real anomalies reported, never hidden.

The halt, the flash crash and the listing day are real events that only the shared candle set holds.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from huracan_core.candles import load_candle_partitions
from huracan_core.sources.replay import ReplaySource
from huracan_core.validation import CandleValidationError, validate_candles

DAY = date(2024, 9, 5)


def key(day: date, symbol: str) -> str:
    return f"{day}|{symbol}"


def replay_with(tmp_path: Path, frame: pl.DataFrame, name: str = "BTC-USDT_15m.parquet") -> ReplaySource:
    frame.write_parquet(tmp_path / name)
    return ReplaySource(tmp_path)


def corrupt(frame: pl.DataFrame, row_ts: str, **values: float) -> pl.DataFrame:
    hit = pl.col("timestamp") == pl.lit(row_ts).str.to_datetime(time_zone="UTC").dt.cast_time_unit("ms")
    return frame.with_columns(pl.when(hit).then(pl.lit(v)).otherwise(pl.col(c)).alias(c) for c, v in values.items())


@pytest.fixture
def day_frame(btc_15m: pl.DataFrame) -> pl.DataFrame:
    return btc_15m.filter(pl.col("timestamp").dt.date().is_between(date(2024, 9, 4), date(2024, 9, 6)))


def problems_of(tmp_path: Path, frame: pl.DataFrame, timeframe: str = "15m") -> list:
    with pytest.raises(CandleValidationError) as raised:
        load_candle_partitions(replay_with(tmp_path, frame), timeframe, {"BTC/USDT": [DAY]}, key)
    message = str(raised.value)
    assert "2024-09-05|BTC-USDT" in message and "nothing written" in message
    return raised.value.problems


@pytest.mark.parametrize(
    ("values", "column", "reason"),
    [
        ({"close": float("nan")}, "close", "NaN or infinite value"),
        ({"high": float("inf")}, "high", "NaN or infinite value"),
        ({"open": 0.0}, "open", "price is not positive"),
        ({"low": -5.0}, "low", "price is not positive"),
        ({"volume": -1.0}, "volume", "negative value"),
        ({"high": 1.0}, "<frame>", "high < low"),
        ({"low": 10**6}, "<frame>", "low above open or close"),
        ({"high": 60_000.0, "low": 59_999.0, "open": 62_000.0}, "<frame>", "high below open or close"),
    ],
)
def test_each_price_rule_names_partition_column_row_and_reason(tmp_path, day_frame, values, column, reason):
    bad = corrupt(day_frame, "2024-09-05 10:15:00", **values)
    problems = problems_of(tmp_path, bad)
    match = [p for p in problems if p.column == column and p.reason == reason]
    assert match, problems
    assert match[0].partition == "2024-09-05|BTC-USDT"
    assert match[0].rows == ("2024-09-05T10:15Z",)


def test_duplicate_timestamps_are_blocked(tmp_path, day_frame):
    bad = pl.concat([day_frame, day_frame.filter(pl.col("timestamp").dt.hour() == 7)]).sort("timestamp")
    reasons = {p.reason for p in problems_of(tmp_path, bad) if p.column == "timestamp"}
    assert {"duplicate timestamp", "timestamp not after the previous row"} <= reasons


def test_misaligned_timestamp_is_blocked(tmp_path, day_frame):
    shifted = day_frame.with_columns(
        pl.when(pl.col("timestamp").dt.hour() == 9)
        .then(pl.col("timestamp") + pl.duration(minutes=7))
        .otherwise(pl.col("timestamp"))
        .alias("timestamp")
    )
    problems = problems_of(tmp_path, shifted)
    assert any(p.reason == "timestamp not aligned to 15m" and len(p.rows) == 4 for p in problems)


def test_wrong_dtype_is_blocked(day_frame):
    """Sources conform dtypes; the rule still guards frames that reach validation another way."""
    bad = day_frame.with_columns(pl.col("trades").cast(pl.Float64), pl.col("close").cast(pl.Float32))
    with pytest.raises(CandleValidationError) as raised:
        validate_candles(bad, timeframe="15m", partition_of=lambda d: key(d, "BTC-USDT"))
    wrong = {p.column: p.reason for p in raised.value.problems if "wrong dtype" in p.reason}
    assert set(wrong) == {"trades", "close"}
    assert "expected Float64" in wrong["close"]


def test_missing_required_column_is_blocked(tmp_path, day_frame):
    problems = problems_of(tmp_path, day_frame.drop("volume"))
    assert [(p.partition, p.column, p.reason) for p in problems] == [
        ("2024-09-05|BTC-USDT", "volume", "required column missing")
    ]


def test_an_empty_day_is_an_error_not_an_empty_partition(tmp_path, day_frame):
    gone = day_frame.filter(pl.col("timestamp").dt.date() != DAY)
    problems = problems_of(tmp_path, gone)
    assert problems[0].reason == "no candles from replay:" + str(tmp_path)


def test_every_bad_partition_is_listed_at_once(tmp_path, day_frame):
    bad = corrupt(corrupt(day_frame, "2024-09-05 01:00:00", close=float("nan")), "2024-09-06 02:00:00", open=-1.0)
    with pytest.raises(CandleValidationError) as raised:
        load_candle_partitions(replay_with(tmp_path, bad), "15m", {"BTC/USDT": [DAY, date(2024, 9, 6)]}, key)
    assert {p.partition for p in raised.value.problems} == {"2024-09-05|BTC-USDT", "2024-09-06|BTC-USDT"}


def test_the_2023_03_24_halt_is_reported_not_filled(shared_candles):
    [part] = load_candle_partitions(ReplaySource(shared_candles), "15m", {"BTC/USDT": [date(2023, 3, 24)]}, key)
    assert part.frame.height == 91  # 96 slots, 5 missing: nothing was filled in
    assert [t.strftime("%H:%M") for t in part.anomalies.missing] == ["12:45", "13:00", "13:15", "13:30", "13:45"]
    assert [t.strftime("%H:%M") for t in part.anomalies.zero_volume] == ["11:30", "11:45", "12:00", "12:15", "12:30"]
    flat = part.frame.filter(pl.col("volume") == 0)
    assert flat.height == 5 and (flat["open"] == flat["close"]).all()  # kept as published


def test_the_link_flash_crash_print_is_reported(shared_candles):
    [part] = load_candle_partitions(ReplaySource(shared_candles), "1h", {"LINK/USDT": [date(2020, 3, 12)]}, key)
    [extreme] = part.anomalies.extreme
    assert extreme.timestamp.strftime("%Y-%m-%dT%H:%M") == "2020-03-12T10:00"
    assert extreme.ratio > 10
    assert part.frame["low"].min() == pytest.approx(0.0001)  # the print stays in the data


def test_a_clean_day_has_no_anomalies(real_candles):
    [part] = load_candle_partitions(ReplaySource(real_candles), "15m", {"ETH/USDT": [date(2024, 9, 12)]}, key)
    assert part.frame.height == 96
    assert part.summary() == {
        "rows": 96,
        "first_timestamp": "2024-09-12T00:00:00+00:00",
        "last_timestamp": "2024-09-12T23:45:00+00:00",
        "missing_candles": 0,
        "zero_volume_candles": 0,
        "extreme_prints": 0,
    }


def test_a_listing_day_is_not_a_gap(shared_candles):
    [part] = load_candle_partitions(ReplaySource(shared_candles), "1h", {"SOL/USDT": [date(2020, 8, 11)]}, key)
    assert part.frame["timestamp"].min().hour == 6
    assert part.anomalies.missing == []


# --- schema and dtype drift go through the blocking rules like any other bad candle --------------------------

TWO_DAYS = [DAY, date(2024, 9, 6)]


def drift_problems(tmp_path: Path, frame: pl.DataFrame) -> tuple[list, str]:
    with pytest.raises(CandleValidationError) as raised:
        load_candle_partitions(replay_with(tmp_path, frame), "15m", {"BTC/USDT": TWO_DAYS}, key)
    return raised.value.problems, str(raised.value)


def test_a_renamed_column_names_every_partition_and_what_came_instead(tmp_path, day_frame):
    problems, message = drift_problems(tmp_path, day_frame.rename({"close": "Close"}))
    assert {(p.partition, p.column) for p in problems} == {
        ("2024-09-05|BTC-USDT", "close"),
        ("2024-09-06|BTC-USDT", "close"),
    }
    assert all(p.reason == "required column missing (the frame has unexpected columns 'Close')" for p in problems)
    # one line for the file-wide problem, both partitions named on it
    assert message.count("required column missing") == 1
    assert "2024-09-05|BTC-USDT, 2024-09-06|BTC-USDT: column 'close': required column missing" in message


def test_prices_stored_as_text_are_rejected_not_cast(tmp_path, day_frame):
    problems, _ = drift_problems(tmp_path, day_frame.with_columns(pl.col("close").cast(pl.String)))
    assert [(p.partition, p.column, p.reason) for p in problems] == [
        (f"{d}|BTC-USDT", "close", "wrong dtype String (expected Float64)") for d in TWO_DAYS
    ]


def test_text_that_is_not_a_number_is_listed_row_by_row(tmp_path, day_frame):
    text = day_frame.with_columns(pl.col("high").cast(pl.String))
    hit = pl.col("timestamp").dt.strftime("%Y-%m-%d %H:%M").is_in(["2024-09-06 07:30", "2024-09-06 07:45"])
    bad = text.with_columns(pl.when(hit).then(pl.lit("n/a")).otherwise(pl.col("high")).alias("high"))
    problems, message = drift_problems(tmp_path, bad)
    [unparseable] = [p for p in problems if p.reason.startswith("text that is not a number")]
    assert unparseable.partition == "2024-09-06|BTC-USDT" and unparseable.column == "high"
    assert unparseable.reason == "text that is not a number: 'n/a'"
    assert unparseable.rows == ("2024-09-06T07:30Z", "2024-09-06T07:45Z")
    assert (
        "2024-09-06|BTC-USDT: column 'high': text that is not a number: 'n/a' (2 rows: 2024-09-06T07:30Z, 2024-09-06T07:45Z)"
        in message
    )


def test_a_timestamp_that_is_no_time_spoils_every_partition(tmp_path, day_frame):
    problems, _ = drift_problems(tmp_path, day_frame.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%d %H:%M:%S")))
    assert {p.partition for p in problems} == {"2024-09-05|BTC-USDT", "2024-09-06|BTC-USDT"}
    assert {p.column for p in problems} == {"timestamp"}
    assert all(p.reason.startswith("wrong dtype String (expected Datetime") for p in problems)


def test_lossless_dtype_differences_are_still_accepted(tmp_path, day_frame):
    """Integer volumes and epoch-ms timestamps are what exchanges send: conformed, not reported as drift."""
    widened = day_frame.with_columns(pl.col("volume").round().cast(pl.Int64), pl.col("timestamp").dt.epoch("ms"))
    parts = load_candle_partitions(replay_with(tmp_path, widened), "15m", {"BTC/USDT": [DAY]}, key)
    assert [p.frame.height for p in parts] == [96]
    assert parts[0].frame.schema["volume"] == pl.Float64
