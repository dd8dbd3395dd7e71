"""The Dagster instance lives in ``$HURACAN_HOME/dagster``: SQLite by default, PostgreSQL when asked.

The instance config is copied from the repository's ``dagster.yaml`` (or ``dagster.postgres.yaml`` when
``HURACAN_PG_URL`` is set), so the UI, the CLI and the daemon all read the same storage.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from huracan_dagster.settings import Settings


def instance_yaml(use_postgres: bool) -> str:
    name = "dagster.postgres.yaml" if use_postgres else "dagster.yaml"
    return resources.files("huracan_dagster").joinpath("instance_config", name).read_text()


def prepare_dagster_home(settings: Settings) -> Path:
    """Create ``DAGSTER_HOME`` with the right ``dagster.yaml`` and point this process at it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    wanted = instance_yaml(bool(os.environ.get("HURACAN_PG_URL")))
    if not target.exists() or target.read_text() != wanted:
        target.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
