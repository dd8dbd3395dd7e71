"""Asset descriptions read right in the UI, which renders them as markdown: a ``<SYMBOL>`` outside a code span is
taken for an HTML tag and vanishes ("costs//.json")."""

from __future__ import annotations

import re

from huracan_dagster.defs.definitions import build_definitions
from huracan_dagster.settings import Settings

CODE_SPAN = re.compile(r"`[^`]*`")
PLACEHOLDER = re.compile(r"<[A-Za-z_]+>")


def test_placeholders_in_asset_descriptions_are_in_code_spans(huracan_home, monkeypatch):
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "")
    graph = build_definitions(Settings.from_env()).resolve_asset_graph()
    # the dbt models' descriptions too: they come from the dbt project's YAML
    described = {key: graph.get(key).description or "" for key in graph.get_all_asset_keys()}
    assert any("dbt" in key.path for key in described)
    assert any(PLACEHOLDER.search(text) for text in described.values())  # there are placeholders to protect
    bare = {key.to_user_string(): PLACEHOLDER.findall(CODE_SPAN.sub("", text)) for key, text in described.items()}
    assert not {key: found for key, found in bare.items() if found}
