"""Dagster's SQLite run storage, with its connection kept open and commits that do not fsync.

The stock ``SqliteRunStorage`` creates an engine, opens a connection and commits with a full fsync for every read
and write of the runs database: a run's creation (its snapshot looked up, its row, its tags), each status change,
each look-up by the executor and by ``huracan run``. Over a month of the chain that was 7 % of the profile (1.8 s
of 24.8 s, 0.5 s of it opening engines), beside the waits on fsync a profile of CPU time does not see. As the event
log does (``sqlite_storage.py``), this subclass keeps one engine and sets ``synchronous=NORMAL`` on the WAL
database Dagster already uses: a commit is atomic and durable against a process crash, and an OS crash can lose
only the last status changes, which ``huracan run`` and the daemon's run monitoring repair as they do for a killed
run. Schema, file and queries are Dagster's own, so the UI, the daemon and ``dagster instance migrate`` see an
ordinary SQLite instance.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from huracan_dagster.dagster_internals import ConfigurableClassData, SqliteRunStorage
from huracan_dagster.instance.base_dir import base_dir, base_dir_config
from huracan_dagster.instance.sqlite_storage import kept_engine


class PooledSqliteRunStorage(SqliteRunStorage):
    def __init__(self, conn_string: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(conn_string, inst_data=inst_data)
        self._kept = kept_engine(conn_string)

    @classmethod
    def config_type(cls) -> dict:
        return base_dir_config()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: dict) -> PooledSqliteRunStorage:
        # where Dagster's default instance keeps runs.db: $DAGSTER_HOME/history
        storage = cls.from_local(base_dir(config_value, "history", ""), inst_data=inst_data)
        assert isinstance(storage, PooledSqliteRunStorage)  # ``from_local`` builds ``cls``
        return storage

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._kept.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()
        self._kept.dispose()
