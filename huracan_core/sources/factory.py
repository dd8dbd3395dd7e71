"""Turn the ``--source`` spelling (``bundled``, ``replay:DIR``, ``ccxt:EXCHANGE_ID``) into a source."""

from __future__ import annotations

from huracan_core.sources.base import CandleSource


def open_source(spec: str) -> CandleSource:
    kind, _, arg = spec.partition(":")
    if kind == "bundled" and not arg:
        from huracan_core.sources.bundled import bundled_source

        return bundled_source()
    if kind == "replay" and arg:
        from huracan_core.sources.replay import ReplaySource

        return ReplaySource(arg)
    if kind == "ccxt" and arg:
        from huracan_core.sources.ccxt_source import CcxtSource

        return CcxtSource.from_id(arg)
    raise ValueError(f"unknown candle source {spec!r}; expected bundled, replay:DIR or ccxt:EXCHANGE_ID")
