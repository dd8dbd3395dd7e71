"""``--select``: a Dagster asset selection written with names inside one timeframe (``+features``)."""

from __future__ import annotations

import re

import dagster as dg

#: ``--select analytics``: the analytics job alone (the dbt marts and the DuckDB file), over what is exported
ANALYTICS_SELECTION = "analytics"
#: assets outside any window of days: the Mechanic's ``challengers`` runs from its sensor (or the UI), not ``huracan run``
NOT_IN_WINDOWS = frozenset({"challengers"})


def window_asset_names(graph, timeframe: str) -> set[str]:
    """What ``huracan run`` can materialize over a window of days (the dbt models, ``<tf>/dbt/<model>``, follow a
    whole run in the analytics job)."""
    return {
        key.path[-1] for key in graph.get_all_asset_keys() if key.path[0] == timeframe and len(key.path) == 2
    } - NOT_IN_WINDOWS


def resolve_selection(graph, timeframe: str, select: str | None) -> list[dg.AssetKey] | None:
    """The asset keys ``select`` names within ``timeframe`` (``features`` → ``15m/features``, ``*regimes`` → every
    asset upstream of ``15m/regimes``); None for everything.

    Raises ``ValueError`` when it names nothing, and Dagster's own error when it does not parse.
    """
    if not select:
        return None
    names = window_asset_names(graph, timeframe)
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    # Dagster's legacy syntax: ``*name`` is every asset upstream of it, ``name*`` every one downstream; the current
    # syntax writes them ``+name`` and ``name+`` (a bare ``*`` stays: every asset)
    select = re.sub(rf"(?<![\w:/\"*])\*(?=({alternatives})(?![\w/\"]))", "+", select)
    select = re.sub(rf"(?<![\w:/\"])({alternatives})\*", r"\1+", select)
    pattern = re.compile(rf"(?<![\w:/\"])({alternatives})(?![\w/\"])")
    prefixed = pattern.sub(lambda m: f'key:"{timeframe}/{m.group(1)}"', select)
    keys = {k for k in dg.AssetSelection.from_string(prefixed).resolve(graph) if k.path[-1] in names}
    if not keys:
        raise ValueError(f"--select {select!r} matches no asset")
    return sorted(keys)
