"""One verdict said once: the coins that got the same decision, for the same reason, on one row.

Every coin's model usually fails the same gates for the same reason on a quiet sample, and a row per coin repeats
one long sentence (with only the coin's model folder changed) as many times as there are coins. Here a reason is
read with the coin's own model folder said as "its model", and the rows that then agree on everything but the coin
become one row naming every coin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any


def coin_free(reason: str | None, symbol: str) -> str | None:
    """``reason`` with the coin's own model folders (``models/<SYMBOL>/...``) said as "its model"."""
    if reason is None:
        return None
    return re.sub(rf"\bmodels/{re.escape(symbol)}/[^\s():;,]+", "its model", reason)


def grouped_by_verdict(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], reason: str = "reason"
) -> list[dict[str, Any]]:
    """``rows`` (each with a ``symbol``) merged where ``columns`` and the coin-free ``reason`` agree, in the order
    their first row came; a merged row's ``symbol`` lists the coins ("BTC-USDT, ETH-USDT"), ``symbols`` holds them
    and its reason is the coin-free one (a coin alone keeps its own words)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        key = (coin_free(row.get(reason), row["symbol"]), *(row.get(c) for c in columns))
        groups.setdefault(key, []).append(row)
    merged = []
    for (said, *_), same in groups.items():
        symbols = [r["symbol"] for r in same]
        words = same[0].get(reason) if len(same) == 1 else said
        merged.append({**same[0], reason: words, "symbol": ", ".join(symbols), "symbols": symbols})
    return merged
