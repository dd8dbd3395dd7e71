"""The champion book: every decision in ``champions/promotions.jsonl`` and each coin's pointer
``champion/<SYMBOL>/<tf>/latest.json``, kept in step.

The history is the truth; the pointer is derived state, its newest answer, written after the history line that
decided it. Both change only under the store's lock, so two decisions racing for one coin are serialized. What a
killed process or a damaged copy leaves — a pointer missing, cut short or disagreeing, a history line that cannot
be read — is repaired under the lock by ``reconcile`` (at the start of every champion step), saying so: the
pointer is rebuilt from the history, and an unreadable line is moved to the quarantine file with its number and
the reason, never silently dropped. The pointer never names a model that the history does not hold in force, and
never a folder that failed its checksums (verified before it is recorded).

Which champion is in force at a moment: the newest decision (by ``effective_from``, then by order written) whose
``effective_from`` is at or before it. A decision taken again (a partition materialized again) supersedes its
earlier line with the same ``decision_key``, so history can be replayed without counting twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from huracan_core.models.artifacts import read_model_folder
from huracan_core.storage.keys import PROMOTIONS_KEY, QUARANTINE_KEY, champion_pointer_key
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore
from huracan_core.symbols import to_key

#: what a history line must carry
LINE_FIELDS = (
    "decision_key",
    "symbol",
    "timeframe",
    "source",
    "effective_from",
    "promoted",
    "champion_before",
    "champion_after",
    "champion",
    "reason",
)


class HistoryError(ValueError):
    """``champions/promotions.jsonl`` cannot be read as the book; names the line."""


class ChampionBook:
    """The book of one timeframe over a store: every look-up reads that timeframe's lines and pointers only, so a
    1h decision never becomes the 15m champion in force (the history file holds every timeframe's lines).

    It parses each committed line once: the history only grows (a line is committed when its newline is written),
    so a later read parses just the bytes added since. ``notes`` collects, in words, every repair this book made
    (a pointer rebuilt, a line quarantined), for the caller to report."""

    def __init__(self, store: ArtifactStore, timeframe: str) -> None:
        self.store = store
        self.timeframe = timeframe
        self._parsed: tuple[bytes, list[dict[str, Any]]] = (b"", [])
        self.notes: list[str] = []

    def history(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """This timeframe's committed lines in the order written (of one coin when ``symbol`` is given). A last
        line without its newline is an append still in progress (or cut short by a crash), not history yet."""
        return [
            line
            for line in self._every_line()
            if line["timeframe"] == self.timeframe and (symbol is None or line["symbol"] == to_key(symbol))
        ]

    def _every_line(self) -> list[dict[str, Any]]:
        committed = self._committed(self._read())
        seen, lines = self._parsed
        if not committed.startswith(seen):  # rewritten (repaired): parse it all again
            seen, lines = b"", []
        lines = lines + self._parse(committed[len(seen) :], first_number=len(lines) + 1)
        self._parsed = (committed, lines)
        return lines

    def _read(self) -> bytes:
        try:
            return self.store.read_bytes(PROMOTIONS_KEY)
        except ArtifactNotFound:
            return b""

    @staticmethod
    def _committed(data: bytes) -> bytes:
        return data[: data.rfind(b"\n") + 1]

    def _parse(self, data: bytes, first_number: int) -> list[dict[str, Any]]:
        lines = []
        for number, raw in enumerate(data.splitlines(), start=first_number):
            line, problem = _read_line(raw)
            if problem:
                raise HistoryError(
                    f"{self.store.uri(PROMOTIONS_KEY)} line {number} {problem}; the next champion step moves it to "
                    f"{QUARANTINE_KEY} (ChampionBook.reconcile)"
                )
            lines.append(line)
        return lines

    def in_force(
        self,
        symbol: str,
        at: datetime | None,
        *,
        exclude_key: str | None = None,
        pending: Sequence[Mapping[str, Any]] = (),
    ) -> Mapping[str, Any] | None:
        """The deciding line in force at ``at`` (None: the newest line), or None before any decision; its
        ``champion`` may be None (no model earned the coin yet). ``exclude_key``: a decision being taken again does
        not see its own last word. ``pending``: decisions taken but not recorded yet (a step records its decisions
        together, once all were taken), seen as if they followed the history."""
        key = to_key(symbol)
        return _in_force([*self.history(symbol), *(p for p in pending if p["symbol"] == key)], at, exclude_key)

    def pointer(self, symbol: str) -> dict[str, Any] | None:
        """The coin's pointer; a pointer that is not JSON (damaged) reads as none: ``reconcile`` rebuilds it."""
        try:
            return self.store.read_json(champion_pointer_key(symbol, self.timeframe))
        except (ArtifactNotFound, ValueError):
            return None

    def prepare(self, line: Mapping[str, Any]) -> dict[str, Any]:
        """A decision as it will be recorded (strict JSON, the symbol as a key), refused when it lacks a field or
        promotes a folder that fails its checksums (``CorruptModelError`` names the folder and file): a champion
        that could not be loaded is never recorded, let alone pointed at."""
        missing = [f for f in LINE_FIELDS if f not in line]
        if missing:
            raise ValueError(f"champion decision lacks {', '.join(missing)}")
        if line["timeframe"] != self.timeframe:
            raise ValueError(f"a {line['timeframe']} decision offered to the {self.timeframe} champion book")
        safe: dict[str, Any] = _json_safe({**line, "symbol": to_key(line["symbol"])})
        if safe["promoted"]:
            read_model_folder(self.store, safe["champion_after"])
        return safe

    def record(self, line: Mapping[str, Any]) -> dict[str, Any]:
        """Append one decision and move the coin's pointer to what the history now holds in force."""
        [recorded] = self.record_all([line])
        return recorded

    def record_all(self, lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Append decisions in one write and move their coins' pointers, under the lock; every line is checked
        (``prepare``) before anything is written, so a refused one leaves the book as it was."""
        prepared = [self.prepare(line) for line in lines]
        if not prepared:
            return []
        with self.store.lock(PROMOTIONS_KEY):
            self._quarantine_damage()
            data = b"".join((json.dumps(line, sort_keys=True, allow_nan=False) + "\n").encode() for line in prepared)
            self.store.append_bytes(PROMOTIONS_KEY, data)
            history = self.history()
            for symbol in dict.fromkeys(line["symbol"] for line in prepared):
                self._move_pointer(symbol, history)
        return prepared

    def reconcile(self, symbols: Sequence[str]) -> list[str]:
        """Make the book whole again after whatever a killed process or a damaged copy left, under the lock: lines
        that cannot be read (damaged, or an append cut short) are moved to the quarantine file, and each coin's
        pointer is rebuilt from the history where it is missing, damaged or disagrees. Returns one line per repair
        (also kept in ``notes``)."""
        with self.store.lock(PROMOTIONS_KEY):
            notes = self._quarantine_damage()
            history = self.history()
            for symbol in dict.fromkeys([*(to_key(s) for s in symbols), *(h["symbol"] for h in history)]):
                note = self._move_pointer(symbol, history)
                if note:
                    notes.append(note)
                    self.notes.append(note)
        return notes

    def _quarantine_damage(self) -> list[str]:
        """Move the lines that are not history (not JSON, missing fields, a last line without its newline) to the
        quarantine file with their number and the reason, and rewrite the history without them. Held under the lock,
        so no append is in progress: a torn last line is one that will never be finished."""
        data = self._read()
        committed = self._committed(data)
        kept, moved = [], []
        for number, raw in enumerate(committed.splitlines(), start=1):
            _, problem = _read_line(raw)
            (moved if problem else kept).append((number, raw, problem))
        if len(committed) < len(data):
            moved.append((len(kept) + len(moved) + 1, data[len(committed) :], "has no newline: an append cut short"))
        if not moved:
            return []
        now = datetime.now(UTC).isoformat()
        record = b"".join(
            (
                json.dumps({"line": n, "text": raw.decode("utf-8", "replace"), "reason": why, "quarantined_at": now})
                + "\n"
            ).encode()
            for n, raw, why in moved
        )
        self.store.append_bytes(QUARANTINE_KEY, record)
        self.store.write_bytes(PROMOTIONS_KEY, b"".join(raw + b"\n" for _, raw, _ in kept))
        notes = [f"{self.store.uri(PROMOTIONS_KEY)} line {n} {why}: moved to {QUARANTINE_KEY}" for n, _, why in moved]
        self.notes.extend(notes)
        return notes

    def _move_pointer(self, symbol: str, history: list[dict[str, Any]]) -> str | None:
        """Point the coin where its history says. None when it already did; else what the pointer was (after a new
        decision that is the ordinary move; in ``reconcile`` it is the damage repaired)."""
        newest = _in_force([h for h in history if h["symbol"] == symbol], None, None)
        wanted = newest["champion"] if newest else None
        key = champion_pointer_key(symbol, self.timeframe)
        try:
            current = self.store.read_json(key)
            was = f"named {current['model_folder'] if _is_pointer(current) else repr(current)}"
        except ArtifactNotFound:
            current, was = None, "was missing"
        except ValueError:  # cut short or damaged: never equal to what is wanted
            current, was = _DAMAGED, "was not JSON (damaged)"
        if current == wanted:
            return None
        if wanted is None:  # a decision taken again left the coin without a champion: nothing may point anywhere
            self.store.delete(key)
        else:
            self.store.write_json(key, wanted)
        now = wanted["model_folder"] if wanted else "no champion (pointer removed)"
        return f"champion pointer {self.store.uri(key)} {was}; rebuilt from the history: {now}"


_DAMAGED = object()


def _is_pointer(value: Any) -> bool:
    return isinstance(value, Mapping) and "model_folder" in value


def _read_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """One history line and None, or None and what is wrong with it."""
    try:
        line = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return None, f"is not JSON ({error})"
    if not isinstance(line, dict):
        return None, "is not a JSON object"
    missing = [f for f in LINE_FIELDS if f not in line]
    return (None, f"lacks {', '.join(missing)}") if missing else (line, None)


def _json_safe(value: Any) -> Any:
    """Strict JSON: a non-finite figure (an infinite profit factor …) is recorded as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _in_force(
    lines: Sequence[Mapping[str, Any]], at: datetime | None, exclude_key: str | None
) -> Mapping[str, Any] | None:
    """``at`` None: the newest decision of all."""
    latest: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for order, line in enumerate(lines):
        if line["decision_key"] != exclude_key:
            latest[line["decision_key"]] = (order, line)  # a decision taken again supersedes its earlier line
    eligible = [(datetime.fromisoformat(line["effective_from"]), order, line) for order, line in latest.values()]
    eligible = [item for item in eligible if at is None or item[0] <= at]
    return max(eligible, key=lambda item: item[:2])[2] if eligible else None
