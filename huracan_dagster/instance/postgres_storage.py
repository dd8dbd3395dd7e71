"""dagster-postgres's run and event log storage, with a connection kept open in each process.

dagster-postgres opens a new connection — a new PostgreSQL backend process — for each group of statements
(``NullPool``, so that a process holding many ``DagsterInstance`` objects keeps none idle), and storing one event
takes two or three such groups: the row, its asset index, its check execution. Measured here, a connection costs
5.5 ms to open against 0.26 ms to reuse, and a backfill's run workers store tens of thousands of check verdicts.
These subclasses keep one connection open per storage (and up to ten more while threads overlap, closed when
returned), as dagster-webserver already does for itself (``optimize_for_webserver``); a connection found dead
(PostgreSQL restarted) is replaced on checkout. Tables, schema and queries are dagster-postgres's own. As on SQLite,
the schema facts Dagster asks before every event are asked once (``schema_facts``), a run's planned
materializations are one event per asset (``planned_ranges``), a planned check's rows carry its event serialized
once (``check_planned``), a verdict's row is written with a statement built once and its event row's text
(``check_verdict``), and a step's verdicts are stored in two statements (``verdict_batch``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.utils import (
    create_pg_engine,
    get_token_provider_from_config,
    pg_url_from_config,
)
from sqlalchemy.engine import Connection

from huracan_dagster.dagster_internals import BATCH_WRITABLE_EVENTS, ConfigurableClassData
from huracan_dagster.instance.check_rows import CheckRows
from huracan_dagster.instance.planned_ranges import unfinished_attempts
from huracan_dagster.instance.schema_facts import SchemaFacts
from huracan_dagster.instance.verdict_batch import store_postgres_verdict_batch

#: seconds before a kept connection is replaced (bounds what a long-lived daemon holds)
RECYCLE_SECONDS = 300


def _keep_connection_open(storage: PostgresEventLogStorage | PostgresRunStorage) -> None:
    storage._engine.dispose()
    storage._engine = create_pg_engine(
        storage.postgres_url,
        storage._token_provider,
        isolation_level="AUTOCOMMIT",
        pool_size=1,
        max_overflow=10,
        pool_recycle=RECYCLE_SECONDS,
        pool_pre_ping=True,
    )


def _arguments(inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "inst_data": inst_data,
        "postgres_url": pg_url_from_config(config_value),
        "should_autocreate_tables": config_value.get("should_autocreate_tables", True),
        "token_provider": get_token_provider_from_config(config_value),
    }


# Each storage's engine is replaced by one that keeps its connection. The two classes repeat each other on purpose:
# a mixin's super() calls would reach methods that only the dagster-postgres class after it defines, unchecked.
# ``CheckRows`` is the exception that proves it: it overrides only methods ``SqlEventLogStorage`` itself defines, so
# its super() calls are checked against that base.


class PooledPostgresEventLogStorage(CheckRows, PostgresEventLogStorage):
    def __init__(self, *args: Any, **kwargs: Any):
        self._schema = SchemaFacts()  # what every asset event and check verdict asks of the schema
        super().__init__(*args, **kwargs)
        _keep_connection_open(self)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]):
        return cls(**_arguments(inst_data, config_value))

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

    def store_event_batch(self, events: Sequence[dg.EventLogEntry]) -> None:
        """A step's verdicts come as a batch (``dagster_internals.in_one_batch``), which dagster-postgres does not
        take: they are stored in two statements (``verdict_batch``), and any other such batch one by one, each as
        its own ``store_event`` stores it."""
        if {event.get_dagster_event().event_type for event in events} <= BATCH_WRITABLE_EVENTS:
            super().store_event_batch(events)
            return
        if store_postgres_verdict_batch(self, events):
            return
        for event in events:
            self.store_event(event)

    def has_table(self, table_name: str) -> bool:
        return self._schema.table(table_name, super().has_table)

    def _has_asset_key_index_cols_on_connection(self, conn: Connection) -> bool:
        return self._schema.asset_key_index_cols(
            lambda: super(PooledPostgresEventLogStorage, self)._has_asset_key_index_cols_on_connection(conn)
        )

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()


class PooledPostgresRunStorage(PostgresRunStorage):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _keep_connection_open(self)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]):
        return cls(**_arguments(inst_data, config_value))

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()
