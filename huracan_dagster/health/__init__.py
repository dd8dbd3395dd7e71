"""The platform's health, one row per component, for ``huracan health`` and the ``system_health`` sensor.

The instance comes first: the rows read from it (the daemon, the Engine's runs, stale assets) are ``unknown``
when it cannot be opened, so one dead database is one ``down`` row, not four; so are the rows read from the
Archive (the pattern pauses, Hamilton's breakers) when the Archive is down. Each service is then probed on its
own with a short timeout, so the table is whole even when several are down.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from huracan_core.health import ComponentStatus, Finding, State, probe
from huracan_core.paper import holds
from huracan_core.paper.home import kill_reason
from huracan_core.urls import without_password
from huracan_dagster.health import instance as from_instance
from huracan_dagster.health import services
from huracan_dagster.settings import Settings

#: seconds each probe may wait for a service
PROBE_TIMEOUT_S = 3.0


def system_health(
    settings: Settings,
    open_instance: Callable[[], dg.DagsterInstance],
    repository: Callable[[], dg.RepositoryDefinition],
    timeout_s: float = PROBE_TIMEOUT_S,
) -> list[ComponentStatus]:
    """Every component's status, in the order of the table. ``open_instance`` is called only once the instance's
    database answers; ``repository`` (the definitions of now, for the stale assets) only once it opened."""
    opened: list[dg.DagsterInstance] = []

    def storage() -> Finding:
        if settings.pg_url:
            answer = services.instance_database(settings, timeout_s)
            if answer.state is State.DOWN:
                return answer
        opened.append(open_instance())
        where = (
            f"PostgreSQL {without_password(settings.pg_url)}"
            if settings.pg_url
            else f"SQLite in {settings.dagster_home}"
        )
        return Finding(State.OK, f"{where}: {opened[0].get_runs_count()} runs")

    rows = [probe("instance storage", storage)]
    if opened:
        instance = opened[0]
        rows.append(probe("daemon", lambda: from_instance.daemon(instance, settings.automation)))
        rows += [
            probe(f"engine {tf}", lambda tf=tf: from_instance.engine(instance, settings, tf))
            for tf in settings.timeframes
        ]
        rows.append(
            probe(
                "stale assets",
                lambda: from_instance.stale_assets(instance, from_instance.code_versions(repository())),
            )
        )
    else:
        rows += [
            ComponentStatus(name, State.UNKNOWN, "not checked: the instance storage is down", None)
            for name in from_instance.instance_components(settings)
        ]
    archive = probe("archive", lambda: services.archive(settings, timeout_s))
    rows.append(archive)
    if archive.state is State.DOWN:
        rows += [
            ComponentStatus(name, State.UNKNOWN, "not checked: the archive is down", None)
            for name in ("patterns", "hamilton")
        ]
    else:
        store = services.archive_store(settings, timeout_s)
        rows.append(probe("patterns", lambda: holds.pattern_pauses(store, settings.timeframes)))
        rows.append(
            probe(
                "hamilton", lambda: holds.hamilton(store, settings.timeframe, settings.risk, kill_reason(settings.home))
            )
        )
    return [
        *rows,
        probe("mlflow store", lambda: services.mlflow_store(settings, timeout_s)),
        probe("exchange", lambda: services.exchange(settings, timeout_s)),
        probe("telegram", lambda: services.telegram(settings, timeout_s)),
    ]
