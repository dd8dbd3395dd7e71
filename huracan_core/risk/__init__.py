"""Risk: position sizing, the portfolio's caps, circuit breakers and the kill switch (pure; Hamilton drives it)."""

from huracan_core.risk.decision import RULES, Decision, EntryRequest
from huracan_core.risk.manager import RiskManager
from huracan_core.risk.settings import RiskSettings
from huracan_core.risk.sizing import Edge, Sizing, size_position
from huracan_core.risk.state import Mark, Position, RiskState

__all__ = [
    "RULES",
    "Decision",
    "Edge",
    "EntryRequest",
    "Mark",
    "Position",
    "RiskManager",
    "RiskSettings",
    "RiskState",
    "Sizing",
    "size_position",
]
