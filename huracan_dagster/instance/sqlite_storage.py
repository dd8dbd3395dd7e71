"""Dagster's SQLite event log, with connections kept open and commits that do not fsync.

The stock ``SqliteEventLogStorage`` creates an engine, opens a connection, commits with a full fsync and closes,
for every event, and mirrors asset events into the index shard the same way: ~11 ms an event here, ~40 % of a
``huracan run`` (profiled). This subclass keeps one engine per shard (the index and the few newest run shards)
and sets ``synchronous=NORMAL`` on the WAL databases Dagster already uses: a commit is still atomic and
durable against a process crash, and only an OS crash can lose the last commits, which a re-run repairs because
every partition write is idempotent. Schema, files and queries are Dagster's own, so the UI, the daemon and
``dagster instance migrate`` see an ordinary SQLite instance. PostgreSQL (``HURACAN_PG_URL``) does not need this.

Two more costs are per run and per batch, measured with cProfile over a week × 5 coins of the chain (15 runs,
1,585 events): each run's new shard was created by Dagster's ``_initdb`` (tables, WAL, alembic stamp: ~95 ms a
run), and a batch of events (a run's planned materializations; a ranged step's materializations under
``DAGSTER_EVENT_BATCH_SIZE``) was stored as that many separate transactions on each shard. A new run shard is now
a copy of a shard initialized once per Dagster version, and a batch is one transaction per shard.

Dagster also asks the schema, for every asset event and every check verdict, whether a table or a column exists
(a new engine and a schema query each time here: 1.3 ms, ~4 s of a week × 5 coins profiled): ``SchemaFacts``
remembers what was found present, which a migration can add to but never take away. A run's planned
materializations are one event per asset carrying its partitions, not one per partition (``planned_ranges``, which
keeps the failed and in-progress partitions as Dagster's own log tells them), a planned check's per-partition
rows carry its event serialized once, not once per row (``check_planned``), a verdict's row is written with a
statement built once and its event row's text (``check_verdict``), and a ranged step's materializations are
stored as dagster-postgres stores them, the asset's index row written once (``asset_event_batch``).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager

import dagster as dg
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from huracan_dagster.dagster_internals import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    ConfigurableClassData,
    SqliteEventLogStorage,
)
from huracan_dagster.instance.asset_event_batch import store_asset_event_batch
from huracan_dagster.instance.base_dir import base_dir, base_dir_config
from huracan_dagster.instance.check_rows import CheckRows
from huracan_dagster.instance.planned_ranges import unfinished_attempts
from huracan_dagster.instance.schema_facts import SchemaFacts
from huracan_dagster.instance.verdict_batch import store_verdict_batch

#: open engines kept: the index shard plus the run shards of the runs in flight
OPEN_SHARDS = 8


def _pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def kept_engine(conn_string: str) -> Engine:
    """An engine whose connections stay open between uses (one, more while threads overlap), committing without
    an fsync on the WAL database: what both pooled SQLite storages use."""
    engine = create_engine(
        conn_string,
        pool_size=1,
        max_overflow=4,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    event.listen(engine, "connect", _pragmas)
    return engine


class PooledSqliteEventLogStorage(CheckRows, SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._schema = SchemaFacts()
        #: connections of a batch in progress, by shard: ``_connect`` in the same thread joins their transaction
        self._batch = threading.local()
        super().__init__(base_dir, inst_data=inst_data)
        self._db_lock = threading.RLock()  # a batch holds the index shard while it stores into the run's shard

    @classmethod
    def config_type(cls) -> dict:
        return base_dir_config()

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: dict
    ) -> PooledSqliteEventLogStorage:
        return cls(base_dir(config_value, "history", "runs"), inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = kept_engine(self.conn_string_for_shard(shard))
        self._engines[shard] = engine  # most recently used last
        while len(self._engines) > OPEN_SHARDS:
            _, old = self._engines.popitem(last=False)
            old.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        joined = self._open_in_batch().get(shard)
        if joined is not None:
            yield joined
            return
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                if shard == INDEX_SHARD_NAME or not self._copy_template(shard):
                    self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        return True  # one planned event per asset and run (instance/planned_ranges.py)

    def get_latest_asset_partition_materialization_attempts_without_materializations(
        self, asset_key: dg.AssetKey, after_storage_id: int | None = None
    ) -> Mapping[str, tuple[str, int]]:
        own = super().get_latest_asset_partition_materialization_attempts_without_materializations(
            asset_key, after_storage_id
        )
        return unfinished_attempts(self, asset_key, after_storage_id, own)

    def has_table(self, table_name: str) -> bool:
        return self._schema.table(table_name, super().has_table)

    def _has_asset_key_index_cols_on_connection(self, conn: Connection) -> bool:
        return self._schema.asset_key_index_cols(
            lambda: super(PooledSqliteEventLogStorage, self)._has_asset_key_index_cols_on_connection(conn)
        )

    def store_event_batch(self, events: Sequence[dg.EventLogEntry]) -> None:
        """One transaction per shard that the batch touches: an asset's materializations as one statement with its
        index row written once (``asset_event_batch``), a check's verdicts as one statement a shard
        (``verdict_batch``), any other batch as Dagster's own ``store_event`` for each."""
        open_in_batch = self._open_in_batch()
        if open_in_batch:  # already inside a batch: its transactions hold these events too
            super().store_event_batch(events)
            return
        with ExitStack() as stack:
            for shard in [INDEX_SHARD_NAME, *dict.fromkeys(e.run_id for e in events)]:
                open_in_batch[shard] = stack.enter_context(self._connect(shard))
            try:
                if not store_asset_event_batch(self, events) and not store_verdict_batch(self, events):
                    super().store_event_batch(events)
            finally:
                open_in_batch.clear()

    def _open_in_batch(self) -> dict[str, Connection]:
        if not hasattr(self._batch, "shards"):
            self._batch.shards = {}
        return self._batch.shards

    def _copy_template(self, run_id: str) -> bool:
        """A new run's shard as a copy of an initialized empty shard (False: the shard exists, initialize as usual).

        The template is named for the Dagster version that initialized it, so an upgrade's schema is never copied
        from an older one, and not ``*.db``, which Dagster lists as run shards. Copies land by rename, so a process
        that races this one sees either no file or a whole one.
        """
        target = self.path_for_shard(run_id)
        if os.path.exists(target):
            return False
        template = os.path.join(self._base_dir, f".run-shard-template-{dg.__version__}.sqlite")
        if not os.path.exists(template):
            self._initdb(create_engine(f"sqlite:///{template}.{os.getpid()}.tmp", poolclass=NullPool))
            os.replace(f"{template}.{os.getpid()}.tmp", template)
        partial = f"{target}.{os.getpid()}.tmp"
        shutil.copyfile(template, partial)
        os.replace(partial, target)
        return True

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()
