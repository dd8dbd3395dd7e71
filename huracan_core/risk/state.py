"""The risk manager's whole memory as a plain record: what a restart must find to decide as if never stopped.

``RiskState.to_dict`` gives JSON-ready data (numbers, strings, ISO times) and ``RiskState.from_dict`` reads it
back exactly, so the state can be written in one atomic file replace and a process killed at any point resumes
with the same positions, day, streak and breakers. Equity is never stored: it is the cash plus every open
position marked at its last price, so it cannot disagree with the positions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from huracan_core.trading.costs import BPS

STATE_VERSION = 1


@dataclass(frozen=True)
class Position:
    """One open position: ``quantity`` units of the coin bought (``direction`` +1) or sold (−1) at
    ``entry_price``, wrong at ``stop_price``."""

    id: str
    symbol: str
    direction: int
    quantity: float
    entry_price: float
    stop_price: float
    #: the last price it was marked at (the entry's until the next mark)
    mark_price: float
    opened_at: datetime
    #: what the entry leg paid (already out of the cash)
    entry_cost: float
    #: what the exit leg is expected to pay, in bps of the entry notional (as the ledger charges both legs)
    exit_cost_bps: float

    @property
    def notional(self) -> float:
        """What it is worth at its mark."""
        return self.quantity * self.mark_price

    @property
    def unrealised(self) -> float:
        return self.direction * self.quantity * (self.mark_price - self.entry_price)

    @property
    def open_risk(self) -> float:
        """What it still loses from its mark if its stop fills, the exit leg's cost in (the move alone is 0 once
        the mark is past the stop)."""
        move = max(0.0, self.direction * self.quantity * (self.mark_price - self.stop_price))
        return move + self.exit_cost_bps / BPS * self.quantity * self.entry_price

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "opened_at": self.opened_at.isoformat()}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Position:
        return cls(**{**doc, "opened_at": datetime.fromisoformat(doc["opened_at"])})


@dataclass(frozen=True)
class Mark:
    """A coin's newest closed bar as the manager last saw it: the price and its volatility rank."""

    price: float
    #: the coin's ``volatility_percentile`` at that bar (None: unknown, which trips the breaker)
    volatility_percentile: float | None
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Mark:
        return cls(**{**doc, "at": datetime.fromisoformat(doc["at"])})


@dataclass
class RiskState:
    #: starting equity plus every realised P&L, less every cost paid
    cash: float
    #: the closed bar being decided (None before the first)
    bar_time: datetime | None = None
    #: the UTC day of ``bar_time`` and the equity it started with (the daily loss stop's base)
    day: date | None = None
    day_start_equity: float = 0.0
    positions: dict[str, Position] = field(default_factory=dict)
    marks: dict[str, Mark] = field(default_factory=dict)
    #: losing trades in a row, the newest last (a winner resets it)
    losing_streak: int = 0
    #: the day the daily loss stop tripped (entries blocked until the next UTC day)
    daily_stop_day: date | None = None
    killed: bool = False
    kill_reason: str = ""

    @property
    def equity(self) -> float:
        return self.cash + sum(p.unrealised for p in self.positions.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "cash": self.cash,
            "bar_time": _iso(self.bar_time),
            "day": _iso(self.day),
            "day_start_equity": self.day_start_equity,
            "positions": [p.to_dict() for p in self.positions.values()],
            "marks": {s: m.to_dict() for s, m in self.marks.items()},
            "losing_streak": self.losing_streak,
            "daily_stop_day": _iso(self.daily_stop_day),
            "killed": self.killed,
            "kill_reason": self.kill_reason,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> RiskState:
        if doc.get("version") != STATE_VERSION:
            raise ValueError(
                f"risk state version {doc.get('version')!r}: this code reads version {STATE_VERSION} "
                "(a state written by other code must be migrated, not guessed at)"
            )
        positions = [Position.from_dict(p) for p in doc["positions"]]
        return cls(
            cash=float(doc["cash"]),
            bar_time=None if doc["bar_time"] is None else datetime.fromisoformat(doc["bar_time"]),
            day=None if doc["day"] is None else date.fromisoformat(doc["day"]),
            day_start_equity=float(doc["day_start_equity"]),
            positions={p.id: p for p in positions},
            marks={s: Mark.from_dict(m) for s, m in doc["marks"].items()},
            losing_streak=int(doc["losing_streak"]),
            daily_stop_day=None if doc["daily_stop_day"] is None else date.fromisoformat(doc["daily_stop_day"]),
            killed=bool(doc["killed"]),
            kill_reason=str(doc["kill_reason"]),
        )


def _iso(moment: date | datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
