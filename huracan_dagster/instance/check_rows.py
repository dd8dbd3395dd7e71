"""The check executions rows written as Dagster writes them, with less work: one class for both pooled event logs.

A planned check's per-partition rows (``check_planned``) and a verdict's row (``check_verdict``) carry the text the
event's own row was written with (``event_text``). The SQLite and PostgreSQL event logs both put this class before
their Dagster base, so ``super()`` here reaches that base's own methods.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from huracan_dagster.dagster_internals import SqlEventLogStorage
from huracan_dagster.instance.check_planned import store_planned_check
from huracan_dagster.instance.check_verdict import update_verdict
from huracan_dagster.instance.event_text import remember


class CheckRows(SqlEventLogStorage):
    def _event_to_row(self, event: dg.EventLogEntry) -> dict[str, Any]:
        row = super()._event_to_row(event)
        remember(event, row["event"])  # the same text for the event's check rows
        return row

    def _store_asset_check_evaluation_planned(self, event: dg.EventLogEntry, event_id: int | None) -> None:
        store_planned_check(self, event, event_id)

    def _update_asset_check_evaluation(self, event: dg.EventLogEntry, event_id: int | None) -> None:
        update_verdict(self.index_connection, event, event_id, super()._update_asset_check_evaluation)
