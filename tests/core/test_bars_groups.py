"""Per-day frames are grouped by their schemas before a concat (``schema_groups``): a group's frames concatenate
exactly as each day's do alone, and the shadow trader keeps a day whose partitions reach outside it apart."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey
from huracan_core.desk import shadow_day
from huracan_core.trading.bars import schema_groups
from huracan_core.trading.costs import CostModel

INT = pl.DataFrame({"timestamp": [1], "close": [1]})
FLOAT = pl.DataFrame({"timestamp": [1], "close": [1.0]})
RENAMED = pl.DataFrame({"timestamp": [1], "price": [1]})


def test_items_of_interleaved_schemas_form_one_group_per_schema_in_first_appearance_order() -> None:
    items = {"a": FLOAT, "b": INT, "c": FLOAT, "d": INT, "e": FLOAT}
    assert schema_groups(items, lambda name: [items[name]]) == [["a", "c", "e"], ["b", "d"]]


def test_every_frame_position_must_share_its_schema_and_a_column_name_is_part_of_it() -> None:
    items = {"a": (INT, INT), "b": (INT, FLOAT), "c": (INT, INT), "d": (RENAMED, INT), "e": (INT, FLOAT)}
    assert schema_groups(items, lambda name: items[name]) == [["a", "c"], ["b", "e"], ["d"]]


def test_a_group_concatenates_without_a_cast() -> None:
    frames = [INT, FLOAT, INT]
    for group in schema_groups(range(len(frames)), lambda n: [frames[n]]):
        joined = pl.concat([frames[n] for n in group])
        assert joined.schema == frames[group[0]].schema


def test_apart_separates_items_of_one_schema() -> None:
    items = [("BTC", 1), ("ETH", 2), ("BTC", 3), ("ETH", 4)]
    groups = schema_groups(items, lambda _: [INT], apart=lambda item: item[0])
    assert groups == [[("BTC", 1), ("BTC", 3)], [("ETH", 2), ("ETH", 4)]]


def test_an_item_apart_as_itself_is_a_group_of_its_own() -> None:
    assert schema_groups([1, 2, 3], lambda _: [INT], apart=lambda n: n if n == 2 else None) == [[1, 3], [2]]


def test_no_items_no_groups() -> None:
    assert schema_groups([], lambda _: [INT]) == []


DAY = date(2024, 12, 4)


def _day(day: date, *, reach: timedelta = timedelta(0)) -> pl.DataFrame:
    """A frame of the day's first and last minute, its last pushed ``reach`` later."""
    first, last = day_start(day), day_start(day) + timedelta(days=1, minutes=-1) + reach
    return pl.DataFrame({"timestamp": [first, last], "close": [1.0, 2.0]})


def _batches(frames: dict[DayKey, pl.DataFrame], monkeypatch: pytest.MonkeyPatch) -> list[list[DayKey]]:
    """The batches ``trade_partitions`` trades ``frames`` in (every input the same frame of each day)."""
    seen: list[list[DayKey]] = []

    def record(keys, *_):
        seen.append(list(keys))
        return dict.fromkeys(keys)

    monkeypatch.setattr(shadow_day, "_trade_batch", record)
    shadow_day.trade_partitions(frames, frames, frames, frames, list(frames), "1m", costs=CostModel())
    return seen


def test_a_symbols_days_of_one_schema_are_one_batch_and_each_symbol_its_own(monkeypatch) -> None:
    frames = {
        (DAY + timedelta(days=n), symbol): _day(DAY + timedelta(days=n))
        for n in range(3)
        for symbol in ("BTC-USDT", "ETH-USDT")
    }
    assert _batches(frames, monkeypatch) == [
        [(DAY + timedelta(days=n), "BTC-USDT") for n in range(3)],
        [(DAY + timedelta(days=n), "ETH-USDT") for n in range(3)],
    ]


def test_a_day_whose_partitions_reach_outside_it_is_a_batch_of_its_own(monkeypatch) -> None:
    days = [DAY + timedelta(days=n) for n in range(4)]
    frames = {
        (day, "BTC-USDT"): _day(day, reach=timedelta(minutes=2) if n == 1 else timedelta(0))
        for n, day in enumerate(days)
    }
    assert _batches(frames, monkeypatch) == [
        [(days[0], "BTC-USDT"), (days[2], "BTC-USDT"), (days[3], "BTC-USDT")],
        [(days[1], "BTC-USDT")],
    ]
