"""Alpha engines. ``DEFAULT_ENGINES`` is every engine candles and the feature recipe can support;
``UNAVAILABLE_ENGINES`` names the ones that need data the platform does not have, so they are listed, not faked."""

from __future__ import annotations

from huracan_core.trading.engines.base import (
    Engine,
    EngineConfig,
    engine_names,
    run_engines,
)
from huracan_core.trading.engines.flow import ANOMALY, CORRELATION, TAPE
from huracan_core.trading.engines.reversion import (
    DIVERGENCE,
    MOMENTUM_REVERSAL,
    RANGE,
    SUPPORT_RESISTANCE,
    SWEEP,
)
from huracan_core.trading.engines.trend import (
    BREAKOUT,
    LEADER,
    TREND,
    VOLATILITY_EXPANSION,
)

DEFAULT_ENGINES: tuple[Engine, ...] = (
    TREND,
    RANGE,
    BREAKOUT,
    TAPE,
    LEADER,
    SWEEP,
    VOLATILITY_EXPANSION,
    CORRELATION,
    MOMENTUM_REVERSAL,
    DIVERGENCE,
    SUPPORT_RESISTANCE,
    ANOMALY,
)

UNAVAILABLE_ENGINES: list[tuple[str, str]] = [
    ("funding_basis", "needs perpetual funding rates and spot–perp basis; only spot candles are collected"),
    ("order_book_imbalance", "needs L2 order-book snapshots; candles carry no book depth"),
    ("cross_venue_arbitrage", "needs synchronised prices from other exchanges; one venue is collected"),
    ("on_chain_flow", "needs exchange in/out-flow and whale-wallet data; no on-chain source"),
    ("liquidation_cascade", "needs liquidation and open-interest feeds from derivatives venues"),
    ("news_sentiment", "needs a news or social-media feed"),
]

__all__ = ["DEFAULT_ENGINES", "UNAVAILABLE_ENGINES", "Engine", "EngineConfig", "engine_names", "run_engines"]
