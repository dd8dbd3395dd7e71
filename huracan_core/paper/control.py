"""What a person told Hamilton to trade (``/trade N``, ``/pause SYMBOL``) and how far its Telegram chat was read,
kept in the home beside the lock and the kill switch: ``hamilton.control.json``, replaced whole and atomically.

The commands' effects and the chat's offset (the next Telegram update id to read) are one document, written in one
replace before a command is answered: a process killed at any point either applied a command and moved past it,
or did neither, so a restart never applies a command twice nor loses one. Hamilton reads it at every bar, as it
reads the kill switch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from huracan_core.symbols import to_key

CONTROL_FILE = "hamilton.control.json"
#: the decisions' outcomes of a coin this control keeps from entering
PAUSED, OUTSIDE_TOP_N = "paused", "outside_top_n"


@dataclass(frozen=True)
class Control:
    #: trade only the roster's first ``top_n`` coins by rank (None: every coin the roster lets trade)
    top_n: int | None = None
    #: coins (``BTC-USDT``) that take no new entry; their open positions run to their exits
    paused: frozenset[str] = field(default_factory=frozenset)
    #: the next Telegram update id to read (None: nothing read yet)
    telegram_offset: int | None = None

    def with_offset(self, offset: int) -> Control:
        return replace(self, telegram_offset=offset)

    def to_dict(self) -> dict[str, Any]:
        return {"top_n": self.top_n, "paused": sorted(self.paused), "telegram_offset": self.telegram_offset}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Control:
        return cls(
            top_n=doc.get("top_n"),
            paused=frozenset(doc.get("paused") or ()),
            telegram_offset=doc.get("telegram_offset"),
        )

    def excluded(self, roster: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, str]]:
        """The roster's tradeable coins this control keeps from entering, each with its outcome (``paused`` or
        ``outside_top_n``) and why; ``roster`` in rank order."""
        out = {}
        for position, entry in enumerate(roster, 1):
            symbol = to_key(entry["symbol"])
            if not entry.get("trade_ok"):
                continue
            if symbol in self.paused:
                out[symbol] = (PAUSED, f"{symbol} is paused (Telegram /pause): no new entry until /resume")
            elif self.top_n is not None and position > self.top_n:
                out[symbol] = (
                    OUTSIDE_TOP_N,
                    f"{symbol} is ranked {position} on the roster, outside the top {self.top_n} that trade (Telegram /trade)",
                )
        return out


def load_control(home: Path) -> Control:
    """The home's control; the default (everything trades, nothing read) when none was written."""
    path = home / CONTROL_FILE
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return Control()
    except ValueError as error:
        raise ValueError(f"Hamilton's control {path} is not JSON ({error}): fix or remove it") from None
    return Control.from_dict(doc)


def save_control(home: Path, control: Control) -> None:
    """Replace the home's control whole (a reader sees the old document or the new one, never half of one)."""
    path = home / CONTROL_FILE
    home.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    with open(temporary, "w") as handle:
        json.dump(control.to_dict(), handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
