"""What an entry asks the risk manager, and the answer: a size, or a refusal naming the rule and its figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from huracan_core.risk.sizing import Edge

Figure = float | int | str | bool | None

#: every rule that can set a size or refuse one, in the order the manager asks them
RULES = (
    "kill_switch",  # refuses while the kill switch is on
    "daily_loss_stop",  # refuses for the rest of a UTC day whose loss reached the stop
    "volatility_breaker",  # refuses (``block``) or shrinks (``defensive``) above the coin's volatility rank
    "kelly",  # refuses without an out-of-sample edge; caps the size at a fraction of Kelly
    "per_trade_risk",  # the volatility-scaled size: the equity share risked per trade over the stop distance
    "position_cap",  # one position's notional at most
    "coin_exposure",  # the coin's notional at most
    "gross_leverage",  # every position's notional together at most
    "open_risk",  # every open position's loss to its stop within what is left of the daily loss stop
)


@dataclass(frozen=True)
class EntryRequest:
    """A champion's call to enter ``symbol`` after the current bar."""

    symbol: str
    #: +1 long, −1 short
    direction: int
    #: the exits' stop distance for this entry (bps of the entry price)
    stop_bps: float
    #: what one leg is expected to cost (fee + half spread + slippage, bps of the notional) at this bar
    cost_bps: float
    #: the signal bar's regime (the size's regime factor)
    regime: str | None
    #: the champion's out-of-sample record; None when it has none (refused: nothing to size by) …
    edge: Edge | None
    #: … and why it has none, for the refusal
    no_edge_because: str = ""


@dataclass(frozen=True)
class Decision:
    """The manager's answer to one ``EntryRequest`` at one bar.

    Approved: ``notional`` is the size to enter and ``rule`` the rule that set it (the smallest bound). Refused:
    ``notional`` is 0 and ``rule`` the rule that refused. ``figures`` holds every figure the rules were judged
    by (equity, the day's loss and its limit, each bound, the factors), ``why`` says it in words."""

    symbol: str
    direction: int
    stop_bps: float
    cost_bps: float
    bar_time: datetime
    approved: bool
    notional: float
    rule: str
    why: str
    figures: Mapping[str, Figure] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Decision:
        return cls(**{**doc, "bar_time": datetime.fromisoformat(doc["bar_time"]), "figures": dict(doc["figures"])})

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "direction": self.direction,
            "stop_bps": self.stop_bps,
            "cost_bps": self.cost_bps,
            "bar_time": self.bar_time.isoformat(),
            "approved": self.approved,
            "notional": self.notional,
            "rule": self.rule,
            "why": self.why,
            "figures": dict(self.figures),
        }
