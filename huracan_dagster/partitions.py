"""Date × symbol partitions shared by every per-coin asset.

Dates are UTC days from 2018-01-01 (the start of the real sample) up to the last complete day. Symbols are a
*dynamic* dimension: the universe changes (listings, delistings, top-N by volume) without a code deploy, and a
symbol that leaves the universe keeps its history. ``huracan run`` registers the symbols it runs.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from huracan_core.symbols import to_key

PARTITIONS_START = "2018-01-01"
SYMBOL_DIMENSION = "symbol"

date_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")
symbol_partitions = dg.DynamicPartitionsDefinition(name=SYMBOL_DIMENSION)
date_symbol_partitions = dg.MultiPartitionsDefinition({"date": date_partitions, SYMBOL_DIMENSION: symbol_partitions})


def partition_key(day: date, symbol: str) -> str:
    """The multi-partition key string; dimensions are ordered by name, so ``date`` comes first."""
    return dg.MultiPartitionKey({"date": day.isoformat(), SYMBOL_DIMENSION: to_key(symbol)})


def split_key(key: str | dg.MultiPartitionKey) -> tuple[date, str]:
    day, symbol = str(key).split("|")
    return date.fromisoformat(day), symbol


def days_by_symbol(keys: list[str]) -> dict[str, list[date]]:
    grouped: dict[str, list[date]] = {}
    for key in keys:
        day, symbol = split_key(key)
        grouped.setdefault(symbol, []).append(day)
    return {symbol: sorted(days) for symbol, days in grouped.items()}
