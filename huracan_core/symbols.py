"""Symbol spelling: ccxt writes ``BTC/USDT``; storage keys and partitions write ``BTC-USDT``.

A slash cannot appear in a path segment or a Dagster partition key, so the dash form is the one on disk.
"""

from __future__ import annotations


def to_key(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTC-USDT`` (already-dashed input passes through)."""
    base, quote = _split(symbol)
    return f"{base}-{quote}"


def to_ccxt(symbol: str) -> str:
    """``BTC-USDT`` -> ``BTC/USDT`` (already-slashed input passes through)."""
    base, quote = _split(symbol)
    return f"{base}/{quote}"


def is_pair(symbol: str) -> bool:
    """True for ``BASE/QUOTE`` or ``BASE-QUOTE`` (any case); ``BTCUSDT`` cannot be split without a market list."""
    try:
        _split(symbol)
    except ValueError:
        return False
    return True


def _split(symbol: str) -> tuple[str, str]:
    for sep in ("/", "-"):
        if sep in symbol:
            base, _, quote = symbol.partition(sep)
            if base and quote and "/" not in quote and "-" not in quote:
                return base.upper(), quote.upper()
    raise ValueError(f"symbol {symbol!r} is not BASE/QUOTE or BASE-QUOTE")
