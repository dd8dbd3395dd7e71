"""A home that was copied, moved or restored follows itself: nothing in it goes on pointing at the old place.

Every stored path inside ``HURACAN_HOME`` is a key relative to it, with two exceptions that tools outside
Huracan decide: MLflow records absolute artifact locations (``huracan_core.models.tracking`` moves them when it
opens the store), and the analysts' DuckDB file holds views over absolute paths, because DuckDB resolves a
relative path against the reader's working directory, not the file's. The file holds no data, so a command that
finds it reading another home builds it again from this one.
"""

from __future__ import annotations

from pathlib import Path

from huracan_core.exports.database import DatabaseState, build_database, database_state
from huracan_dagster.defs.resources import ExportsResource
from huracan_dagster.settings import Settings


def analytics_paths(settings: Settings) -> tuple[Path, Path]:
    """The DuckDB file and the folder of the dbt marts its views read (the primary timeframe's)."""
    exports = ExportsResource.for_home(settings.home)
    return Path(exports.database), Path(exports.marts) / settings.timeframe


def follow_home(settings: Settings) -> list[str]:
    """Rebuild the DuckDB file when its views read another home's files; one line per repair."""
    database, marts = analytics_paths(settings)
    state = database_state(database)
    if state is None or not state.reads_outside(settings.archive_root, marts):
        return []
    old = state.reads_outside(settings.archive_root, marts)[0]
    build_database(database, settings.archive_root, marts)
    return [
        f"{database}: its views read {old.split('/exports/')[0]} (the home it was built in); built again from {settings.home}"
    ]


def analytics_state(settings: Settings) -> DatabaseState | None:
    return database_state(analytics_paths(settings)[0])
