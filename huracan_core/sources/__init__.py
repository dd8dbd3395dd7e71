"""Where candles come from: any ccxt exchange, a replay folder, or the sample bundled with the package."""

from huracan_core.sources.base import CandleFetchError, CandleSource
from huracan_core.sources.factory import open_source

__all__ = ["CandleFetchError", "CandleSource", "open_source"]
