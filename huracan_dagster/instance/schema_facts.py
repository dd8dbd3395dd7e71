"""What an event log storage found present in its schema, asked once instead of before every event.

Dagster's SQL event log asks whether a table exists before it stores an asset event's tags or a check verdict, and
whether the asset index has its newer columns before it indexes an asset event: each a schema query (on SQLite also
a new engine). Present stays present — Dagster's migrations add tables and columns, never remove them — so a
positive answer is kept; an absent one is asked again, and a ``dagster instance migrate`` in another process is
seen at the next event.
"""

from __future__ import annotations

from collections.abc import Callable


class SchemaFacts:
    def __init__(self) -> None:
        self._tables: set[str] = set()
        self._asset_key_index_cols = False

    def table(self, name: str, ask: Callable[[str], bool]) -> bool:
        if name not in self._tables and ask(name):
            self._tables.add(name)
        return name in self._tables

    def asset_key_index_cols(self, ask: Callable[[], bool]) -> bool:
        self._asset_key_index_cols = self._asset_key_index_cols or ask()
        return self._asset_key_index_cols
