"""The champion book: every decision in ``champions/promotions.jsonl`` and each coin's pointer
``champion/<SYMBOL>/latest.json``, kept in step.

The history is the truth; the pointer is its newest answer, written after the history line that decided it. Both
change only under the store's lock, so two decisions racing for one coin are serialized, and a process killed
between the two writes is repaired by the next decision (``reconcile``): the pointer never names a model that the
history does not hold in force, and never a folder that failed its checksums (verified before it is recorded).

Which champion is in force at a moment: the newest decision (by ``effective_from``, then by order written) whose
``effective_from`` is at or before it. A decision taken again (a partition materialized again) supersedes its
earlier line with the same ``decision_key``, so history can be replayed without counting twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from huracan_core.models.artifacts import read_model_folder
from huracan_core.storage.keys import PROMOTIONS_KEY, champion_pointer_key
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore
from huracan_core.symbols import to_key

#: what a history line must carry
LINE_FIELDS = ("decision_key", "symbol", "timeframe", "source", "effective_from", "promoted", "champion_before",
               "champion_after", "champion", "reason")


class HistoryError(ValueError):
    """``champions/promotions.jsonl`` cannot be read as the book; names the line."""


class ChampionBook:
    """One book over a store. It parses each committed line once: the history only grows (a line is committed
    when its newline is written), so a later read parses just the bytes added since."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self._parsed: tuple[bytes, list[dict[str, Any]]] = (b"", [])

    def history(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """Every committed line in the order written (of one coin when ``symbol`` is given). A last line without
        its newline is an append still in progress (or cut short by a crash), not part of the history yet."""
        try:
            data = self.store.read_bytes(PROMOTIONS_KEY)
        except ArtifactNotFound:
            data = b""
        committed = data[: data.rfind(b"\n") + 1]
        seen, lines = self._parsed
        if not committed.startswith(seen):  # rewritten (repaired): parse it all again
            seen, lines = b"", []
        lines = lines + self._parse(committed[len(seen):], first_number=len(lines) + 1)
        self._parsed = (committed, lines)
        return [line for line in lines if symbol is None or line["symbol"] == to_key(symbol)]

    def _parse(self, data: bytes, first_number: int) -> list[dict[str, Any]]:
        lines = []
        for number, raw in enumerate(data.decode().splitlines(), start=first_number):
            try:
                line = json.loads(raw)
            except json.JSONDecodeError as error:
                raise HistoryError(f"{self.store.uri(PROMOTIONS_KEY)} line {number} is not JSON: {error}") from None
            missing = [f for f in LINE_FIELDS if f not in line]
            if missing:
                raise HistoryError(f"{self.store.uri(PROMOTIONS_KEY)} line {number} lacks {', '.join(missing)}")
            lines.append(line)
        return lines

    def in_force(self, symbol: str, at: datetime | None, *, exclude_key: str | None = None) -> dict[str, Any] | None:
        """The deciding line in force at ``at`` (None: the newest line), or None before any decision; its
        ``champion`` may be None (no model earned the coin yet). ``exclude_key``: a decision being taken again does
        not see its own last word."""
        return _in_force(self.history(symbol), at, exclude_key)

    def pointer(self, symbol: str) -> dict[str, Any] | None:
        try:
            return self.store.read_json(champion_pointer_key(symbol))
        except ArtifactNotFound:
            return None

    def record(self, line: Mapping[str, Any]) -> dict[str, Any]:
        """Append one decision and move the coin's pointer to what the history now holds in force.

        A promotion's model folder is verified first (``CorruptModelError`` names the folder and file): a
        champion that could not be loaded is never recorded, let alone pointed at.
        """
        missing = [f for f in LINE_FIELDS if f not in line]
        if missing:
            raise ValueError(f"champion decision lacks {', '.join(missing)}")
        line = _json_safe({**line, "symbol": to_key(line["symbol"])})
        if line["promoted"]:
            read_model_folder(self.store, line["champion_after"])
        with self.store.lock(PROMOTIONS_KEY):
            history = self.history()
            self._drop_torn_tail()
            self.store.append_bytes(PROMOTIONS_KEY, (json.dumps(line, sort_keys=True, allow_nan=False) + "\n").encode())
            self._move_pointer(line["symbol"], [*history, line])
        return line

    def _drop_torn_tail(self) -> None:
        """A process killed in the middle of an append left a line without its newline: cut it before the next
        append, or the two would run together (held under the lock, so no append is in progress)."""
        committed, _ = self._parsed
        try:
            size = len(self.store.read_bytes(PROMOTIONS_KEY))
        except ArtifactNotFound:
            return
        if size != len(committed):
            self.store.write_bytes(PROMOTIONS_KEY, committed)

    def reconcile(self, symbols: Sequence[str]) -> list[str]:
        """Point each coin where its history says (after a process died between the two writes); returns the
        coins whose pointer was moved."""
        moved = []
        with self.store.lock(PROMOTIONS_KEY):
            history = self.history()
            for symbol in symbols:
                if self._move_pointer(to_key(symbol), history):
                    moved.append(to_key(symbol))
        return moved

    def _move_pointer(self, symbol: str, history: list[dict[str, Any]]) -> bool:
        newest = _in_force([h for h in history if h["symbol"] == symbol], None, None)
        wanted = newest["champion"] if newest else None
        current = self.pointer(symbol)
        if current == wanted:
            return False
        if wanted is None:  # a decision taken again left the coin without a champion: nothing may point anywhere
            self.store.delete(champion_pointer_key(symbol))
        else:
            self.store.write_json(champion_pointer_key(symbol), wanted)
        return True


def _json_safe(value: Any) -> Any:
    """Strict JSON: a non-finite figure (an infinite profit factor …) is recorded as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _in_force(lines: list[dict[str, Any]], at: datetime | None, exclude_key: str | None) -> dict[str, Any] | None:
    """``at`` None: the newest decision of all."""
    latest: dict[str, tuple[int, dict[str, Any]]] = {}
    for order, line in enumerate(lines):
        if line["decision_key"] != exclude_key:
            latest[line["decision_key"]] = (order, line)  # a decision taken again supersedes its earlier line
    eligible = [(datetime.fromisoformat(line["effective_from"]), order, line) for order, line in latest.values()]
    eligible = [item for item in eligible if at is None or item[0] <= at]
    return max(eligible, key=lambda item: item[:2])[2] if eligible else None
