"""The Dagster instance lives in ``$HURACAN_HOME/dagster``: SQLite by default, PostgreSQL when asked.

The instance config is copied from the repository's ``dagster.yaml`` (or ``dagster.postgres.yaml`` when
``HURACAN_PG_URL`` is set), so the UI, the CLI and the daemon all read the same storage.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from huracan_core.storage.leftovers import temporary_name
from huracan_dagster.settings import Settings


def instance_yaml(use_postgres: bool) -> str:
    name = "dagster.postgres.yaml" if use_postgres else "dagster.yaml"
    return resources.files("huracan_dagster").joinpath("instance", "config", name).read_text()


def prepare_dagster_home(settings: Settings) -> Path:
    """Create ``DAGSTER_HOME`` with the right ``dagster.yaml`` and point this process (and what it starts) at it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    wanted = instance_yaml(bool(os.environ.get("HURACAN_PG_URL")))
    if not target.exists() or target.read_text() != wanted:
        # atomically: a second ``huracan`` starting at the same moment must never read a half-written file
        partial = target.with_name(temporary_name(target.name))
        partial.write_text(wanted)
        os.replace(partial, target)
    os.environ["DAGSTER_HOME"] = str(home)
    # a ranged run's materializations go to the event log in batches (one transaction for a step's partitions, not
    # one each): on PostgreSQL a 10-day window took 47.5 s instead of 57.7; run workers and the UI inherit it
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")
    _create_storage_once(home, wanted)
    return home


def _create_storage_once(home: Path, config: str) -> None:
    """Create the instance's databases in one process at a time, the first time only.

    Two ``huracan`` commands starting on a fresh home would both create the SQLite schemas and both stamp the
    alembic revision: the second row in ``alembic_version`` makes every later load of the instance fail ("more
    than one head"). A lock file serialises the creation; a marker holding the config skips it afterwards.
    """
    marker = home / ".storage_created"
    if marker.exists() and marker.read_text() == config:
        return
    import fcntl

    import dagster as dg

    with open(home / ".storage.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if marker.exists() and marker.read_text() == config:
            return
        dg.DagsterInstance.get().dispose()
        marker.write_text(config)
