"""Market regimes (TREND / RANGE / PANIC / UNKNOWN) from feature columns."""

from huracan_core.regimes.config import RegimeConfig
from huracan_core.regimes.detector import REGIMES, RegimeDetector, regime_shares

__all__ = ["REGIMES", "RegimeConfig", "RegimeDetector", "regime_shares"]
