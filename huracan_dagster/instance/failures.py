"""Why a run failed, in the words of the code that failed — not Dagster's wrapper around it (docs/architecture.md#errors).

Dagster reports a failing asset as ``Error occurred while executing op "candles"`` and keeps the real error in
the ``cause`` chain. People need the cause: the partition, file or symbol, and the reason. Both the run summary
of ``huracan run`` and the run list of ``huracan status`` print it from here, so they say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import dagster as dg
from dagster import DagsterEvent

if TYPE_CHECKING:
    from huracan_dagster.dagster_internals import SerializableErrorInfo

#: where Dagster's public ``Failure`` lives, as a raised error names it
FAILURE_CLASS = f"{dg.Failure.__module__}.{dg.Failure.__qualname__}"
#: events whose error explains a failed run
FAILURE_EVENTS = {
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.RUN_FAILURE,
    dg.DagsterEventType.RESOURCE_INIT_FAILURE,
}
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def root_cause(error: SerializableErrorInfo) -> str:
    """The first error below Dagster's wrappers: its message alone when it is one of ours (they name partition
    and reason) or a ``Failure``; ``Class: message`` for anything else, so an unexpected error still says what
    it is. Only the first paragraph is kept (polars appends the query plan after a blank line)."""
    current = error
    while current.cause is not None and _is_wrapper(current):
        current = current.cause
    qualified, text = _split_message(current)
    text = _first_paragraph(text) or current.cls_name or ""
    if qualified.startswith(("huracan_", FAILURE_CLASS)):
        return text
    return f"{current.cls_name}: {text}"


def failure_causes(events: Iterable[DagsterEvent], tags: Mapping[str, str]) -> list[str]:
    """One line per failed step (``15m/candles: …``); the run's own failure when no step failed (a resource, the
    process gone). A step's cause that names no partition gets the run's partition range appended."""
    steps: list[str] = []
    run: list[str] = []
    for event in events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE and event.step_failure_data.error:
            step = (event.step_key or "step").replace("__", "/")  # 15m__candles is the asset 15m/candles
            steps.append(f"{step}: {_with_range(root_cause(event.step_failure_data.error), tags)}")
        elif event.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE and event.engine_event_data.error:
            steps.append(f"resource: {_with_range(root_cause(event.engine_event_data.error), tags)}")
        elif event.event_type == dg.DagsterEventType.RUN_FAILURE:
            error = getattr(event.event_specific_data, "error", None)
            run.append(root_cause(error) if error else (event.message or "run failed"))
    return steps or run


def _is_wrapper(error: SerializableErrorInfo) -> bool:
    qualified, _ = _split_message(error)
    return qualified.startswith("dagster") and error.cls_name != "Failure"


def _split_message(error: SerializableErrorInfo) -> tuple[str, str]:
    """``('module.Class', 'message')`` from ``"module.Class: message"`` (how Python formats an exception)."""
    head, sep, rest = error.message.partition(": ")
    if sep and head.split(".")[-1] == error.cls_name:
        return head, rest
    return error.cls_name or "", error.message  # no class: an error Dagster wrote itself (a truncated cause)


def _first_paragraph(text: str) -> str:
    lines: list[str] = []
    for line in text.strip().splitlines():
        if not line.strip():
            break
        lines.append(line.rstrip())
    return "\n".join(lines)


def _with_range(cause: str, tags: Mapping[str, str]) -> str:
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if "|" in cause or not start:
        return cause
    return f"{cause} (partitions {start}..{end})" if end and end != start else f"{cause} (partition {start})"
