"""``huracan health``: every component's state as a table (or JSON), exit status 1 when one is down.

It reaps no run, repairs nothing and sends no message (on a fresh home it creates the instance's empty storage, as
every command does). The instance is opened only once its database answers, so a dead PostgreSQL is one ``down``
row at once, not Dagster's retries ending in a traceback.
"""

from __future__ import annotations

import dagster as dg

from huracan_core.health import any_down
from huracan_core.health.status import format_table, to_json
from huracan_dagster.defs.definitions import build_definitions
from huracan_dagster.health import system_health
from huracan_dagster.instance.prepare import prepare_dagster_home
from huracan_dagster.settings import Settings


def show_health(settings: Settings, as_json: bool, timeout_s: float) -> int:
    def open_instance() -> dg.DagsterInstance:
        prepare_dagster_home(settings)
        return dg.DagsterInstance.get()

    statuses = system_health(
        settings, open_instance, lambda: build_definitions(settings).get_repository_def(), timeout_s
    )
    print(to_json(statuses) if as_json else format_table(statuses), flush=True)
    return 1 if any_down(statuses) else 0
