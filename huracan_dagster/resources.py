"""Configurable resources: where artifacts live, where candles come from, and which universe a day declares."""

from datetime import date

import dagster as dg

from huracan_core.sources import CandleSource, open_source
from huracan_core.storage import ArtifactStore, LocalArtifactStore
from huracan_core.universe import UniverseConfig, universe_by_day


class ArchiveResource(dg.ConfigurableResource):
    """The artifact store (DESIGN.md §4 layout); a local folder here."""

    root: str

    def store(self) -> ArtifactStore:
        return LocalArtifactStore(self.root)


class CandleSourceResource(dg.ConfigurableResource):
    """``bundled`` (the offline real sample), ``replay:DIR`` or ``ccxt:EXCHANGE_ID``."""

    spec: str = "bundled"

    def open(self) -> CandleSource:
        return open_source(self.spec)


class UniverseResource(dg.ConfigurableResource):
    """The universe that cross-asset features rank against, declared per day: an explicit list, or the top N by
    the quote volume of the 30 days before that day. Part of a feature partition's declared inputs."""

    source: dg.ResourceDependency[CandleSourceResource]
    symbols: list[str] = []
    top_n: int = 5

    def config(self) -> UniverseConfig:
        return UniverseConfig(symbols=tuple(self.symbols), top_n=self.top_n)

    def members_by_day(self, timeframe: str, days: list[date]) -> dict[date, list[str]]:
        return universe_by_day(self.source.open(), timeframe, self.config(), days)
