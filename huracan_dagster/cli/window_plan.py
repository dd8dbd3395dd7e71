"""Which days each asset of a selection must have before a window of days can run: read from the look-backs the
partition mappings declare (``day_window`` in ``defs/partitions.py``), never restated here.

A selected asset of the window's days reads its parents over the offsets its mapping declares (the signals 3 days
back, the coin models 150 days back ending the day before …), and each selected parent must then exist over those
days, recursively. Only history is planned: a forward read (the labels' next day) is read when it exists, and the
partition waits for it otherwise (its automation condition runs it again). An asset that computes from whatever
history exists (the features: nulls with their reasons; the champion: an evaluation window that may be short)
says so in its metadata (``PARTIAL_HISTORY``); every other look-back is required, so a window that reaches before
the source's first day is refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from huracan_dagster.defs.partitions import PARTIAL_HISTORY


@dataclass(frozen=True)
class Need:
    """``asset`` of ``day`` reads ``parent`` from ``first`` on, and cannot do without it."""

    asset: dg.AssetKey
    day: date
    parent: dg.AssetKey
    first: date

    def __str__(self) -> str:
        return f"{self.asset.path[-1]} of {self.day} reads {self.parent.path[-1]} from {self.first}"


@dataclass(frozen=True)
class WindowPlan:
    #: the days each selected asset must have: its own window, and the history its selected children read
    spans: Mapping[dg.AssetKey, tuple[date, date]]
    #: for each asset with history, the read that reaches furthest back into it
    readers: Mapping[dg.AssetKey, Need]
    #: the earliest required read (a look-back that is not ``PARTIAL_HISTORY``), or None
    earliest_need: Need | None

    def history_phases(self, start: date) -> list[tuple[date, list[dg.AssetKey]]]:
        """The assets that must also exist before the window, grouped by their first day, furthest back first (an
        asset read by another is planned at least as far back as its reader)."""
        phases: dict[date, list[dg.AssetKey]] = {}
        for key, (first, _) in self.spans.items():
            if first < start:
                phases.setdefault(first, []).append(key)
        return [(first, sorted(keys, key=str)) for first, keys in sorted(phases.items())]


def date_offsets(mapping: dg.PartitionMapping | None) -> tuple[int, int]:
    """The (first, last) day offsets of a child's day in its parent's days that ``mapping`` declares."""
    if isinstance(mapping, dg.MultiPartitionMapping):
        dimension = mapping.downstream_mappings_by_upstream_dimension.get("date")
        return date_offsets(dimension.partition_mapping if dimension else None)
    if isinstance(mapping, dg.TimeWindowPartitionMapping):
        return mapping.start_offset, mapping.end_offset
    return 0, 0  # identity, the same date across definitions, or Dagster's default: the same day


def plan_window(graph, selected: Collection[dg.AssetKey], start: date, end: date) -> WindowPlan:
    """The spans of ``selected`` (date-partitioned assets of one asset graph) for the window ``start..end``."""
    wanted = {key for key in selected if graph.get(key).partitions_def is not None}
    spans: dict[dg.AssetKey, tuple[date, date]] = {key: (start, end) for key in wanted}

    def reads(key: dg.AssetKey):
        """(parent, first day read, required) for each parent of ``key`` over its span."""
        node = graph.get(key)
        for parent in sorted(node.parent_keys, key=str):
            back = min(date_offsets(node.partition_mappings.get(parent))[0], 0)
            yield parent, spans[key][0] + timedelta(days=back), back < 0 and not node.metadata.get(PARTIAL_HISTORY)

    readers: dict[dg.AssetKey, Need] = {}
    changed = True
    while changed:  # a fixed point: the chain is short, and every pass only widens spans backwards
        changed = False
        for key in sorted(wanted, key=str):
            for parent, first, _ in reads(key):
                if parent in wanted and first < spans[parent][0]:
                    spans[parent] = (first, spans[parent][1])
                    readers[parent] = Need(key, spans[key][0], parent, first)
                    changed = True
    needs = [
        Need(key, spans[key][0], parent, first) for key in wanted for parent, first, required in reads(key) if required
    ]
    return WindowPlan(spans, readers, min(needs, key=lambda n: (n.first, str(n.asset)), default=None))
