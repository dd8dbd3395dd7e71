"""An approved entry as Hamilton remembers it: everything its fills and exits are computed from, bar after bar."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from huracan_core.risk import Decision


@dataclass(frozen=True)
class Signal:
    """The champion's call on the signal bar and the risk manager's approval of it: the entry fills at the next
    bar (the shadow trader's rule), the exits follow the signal bar's regime (stop, max hold) and confidence (take
    profit)."""

    symbol: str
    #: the signal bar's open time
    signal_time: datetime
    direction: int
    #: the approved entry notional (quote currency)
    notional: float
    regime: str
    confidence: float
    engines_agreeing: str
    expected_edge_bps: float
    #: the champion that called it (its model folder) and its MLflow version
    model_folder: str
    mlflow_version: str
    #: the risk manager's approval (``Decision.to_dict``)
    decision: dict[str, Any]

    @property
    def approval(self) -> Decision:
        return Decision.from_dict(self.decision)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "signal_time": self.signal_time.isoformat()}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Signal:
        return cls(**{**doc, "signal_time": datetime.fromisoformat(doc["signal_time"])})
