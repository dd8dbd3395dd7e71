"""Hamilton's whole memory between bars, one JSON document written in one atomic replace after each bar's logs.

It is the risk manager's state (cash, positions, day, streak, breakers, kill switch), the entries approved at the
last bar and waiting for their fill, each open position's signal (what its exits are computed from) and the last
bar done. A restart reads it and redoes the bar after ``last_bar``: nothing of a bar counts until its state is
written, and everything a bar wrote before is written again the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from huracan_core.paper.signals import Signal
from huracan_core.risk import RiskState
from huracan_core.storage.keys import live_state_key
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore

STATE_VERSION = 1


@dataclass
class PaperState:
    risk: RiskState
    last_bar: datetime | None = None
    #: approved at ``last_bar``, by symbol: they fill at the next bar (or are missed, or dropped)
    pending: dict[str, Signal] = field(default_factory=dict)
    #: the signal of each open position, by position id (the risk state holds its size and marks)
    held: dict[str, Signal] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "risk": self.risk.to_dict(),
            "last_bar": None if self.last_bar is None else self.last_bar.isoformat(),
            "pending": {s: signal.to_dict() for s, signal in self.pending.items()},
            "held": {p: signal.to_dict() for p, signal in self.held.items()},
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> PaperState:
        if doc.get("version") != STATE_VERSION:
            raise ValueError(f"Hamilton state version {doc.get('version')!r}: this code reads version {STATE_VERSION}")
        return cls(
            risk=RiskState.from_dict(doc["risk"]),
            last_bar=None if doc["last_bar"] is None else datetime.fromisoformat(doc["last_bar"]),
            pending={s: Signal.from_dict(d) for s, d in doc["pending"].items()},
            held={p: Signal.from_dict(d) for p, d in doc["held"].items()},
        )


def load_state(store: ArtifactStore, timeframe: str) -> PaperState | None:
    """The state the last bar committed; None before the first."""
    try:
        return PaperState.from_dict(store.read_json(live_state_key(timeframe)))
    except ArtifactNotFound:
        return None


def save_state(store: ArtifactStore, timeframe: str, state: PaperState) -> None:
    store.write_json(live_state_key(timeframe), state.to_dict())
