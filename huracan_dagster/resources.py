"""Configurable resources: where artifacts live and where candles come from."""

import dagster as dg

from huracan_core.sources import CandleSource, open_source
from huracan_core.storage import ArtifactStore, LocalArtifactStore


class ArchiveResource(dg.ConfigurableResource):
    """The artifact store (DESIGN.md §4 layout); a local folder here."""

    root: str

    def store(self) -> ArtifactStore:
        return LocalArtifactStore(self.root)


class CandleSourceResource(dg.ConfigurableResource):
    """``bundled`` (the offline real sample), ``replay:DIR`` or ``ccxt:EXCHANGE_ID``."""

    spec: str = "bundled"
    timeframe: str = "15m"

    def open(self) -> CandleSource:
        return open_source(self.spec)
