"""A ranged step's check verdicts stored in the instance's event log, SQLite and PostgreSQL: one by one against one batch.

A ranged step judges every partition it wrote, for each of its checks, and each verdict is an event. Stored one by
one (as Dagster logs them), each is a transaction of its own on each shard; ``dagster_internals.in_one_batch`` hands
one check's verdicts over together, and the pooled log stores them with one insert a shard
(``huracan_dagster/instance/verdict_batch.py``). Three ways, on the same events, in the same run, alternating:

* ``dagster`` — Dagster's own SQLite event log, event by event (the reference);
* ``one_by_one`` — the pooled log (the default instance's), event by event, as before 727f23f;
* ``batch`` — the pooled log, ``store_event_batch`` of the whole step's verdicts.

And on PostgreSQL at 127.0.0.1:5432 (skipped when none answers), three more:

* ``postgres_dagster`` — dagster-postgres's own event log, event by event (three round trips a verdict);
* ``postgres_one_by_one`` — the pooled PostgreSQL log (``instance/postgres_storage.py``) event by event, which is how
  it stored a step's verdicts before 98aa9e6;
* ``postgres_batch`` — the pooled PostgreSQL log, ``store_event_batch``: two statements for the batch.

Each way starts from a fresh log holding the run's planned check (one row per partition), as a step finds it: a new
directory, or a new database. Prints one JSON line: milliseconds a verdict (medians over ``--rounds``) and the ratios.

A second line, ``verdict_targets``: before its verdicts, the step looks up the materialization each one points at
(``verdicts.check_targets``), in an instance holding the run's materializations of the same partitions (a
features-sized event each, ~4 KB with its preview table) and an earlier run's. Two ways, on the pooled SQLite log
and, when it answers, the pooled PostgreSQL log: ``fetch_materializations`` (the public API, each event read whole;
the way before f593897) and ``materializations_of_run`` (the event table's indexed columns only).

    .venv/bin/python bench/bench_verdict_batches.py
    .venv/bin/python bench/bench_verdict_batches.py --verdicts 1000 --rounds 9
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from bench_pipeline import postgres_database
from dagster_postgres.event_log import PostgresEventLogStorage

from huracan_dagster.dagster_internals import (
    AssetCheckEvaluationPlanned,
    SqlEventLogStorage,
    SqliteEventLogStorage,
    materializations_of_run,
)
from huracan_dagster.instance.postgres_storage import PooledPostgresEventLogStorage
from huracan_dagster.instance.sqlite_storage import PooledSqliteEventLogStorage

CANDLES = dg.AssetKey(["15m", "candles"])
PARTITIONS = dg.MultiPartitionsDefinition(
    {
        "date": dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2025-01-01"),
        "symbol": dg.StaticPartitionsDefinition(["ADA-USDT", "BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"]),
    }
)


def _event(kind: dg.DagsterEventType, data: object, timestamp: float) -> dg.EventLogEntry:
    event = dg.DagsterEvent(kind.value, "chain", event_specific_data=data, step_key="15m__candles")
    return dg.EventLogEntry(
        error_info=None, level="DEBUG", user_message="", run_id="a-ranged-run", timestamp=timestamp, dagster_event=event
    )


def step_events(count: int) -> tuple[dg.EventLogEntry, list[dg.EventLogEntry]]:
    """The run's planned check over ``count`` partitions, and one verdict each (with the figures a check records)."""
    keys = sorted(PARTITIONS.get_partition_keys())[:count]
    planned = AssetCheckEvaluationPlanned(
        asset_key=CANDLES, check_name="no_gaps", partitions_subset=PARTITIONS.subset_with_partition_keys(keys)
    )
    verdicts = [
        _event(
            dg.DagsterEventType.ASSET_CHECK_EVALUATION,
            dg.AssetCheckEvaluation(
                asset_key=CANDLES,
                check_name="no_gaps",
                passed=True,
                partition=key,
                description="ok",
                metadata={"found": "ok", "gaps": dg.MetadataValue.text("0")},
            ),
            1_733_011_201.0 + n,
        )
        for n, key in enumerate(keys)
    ]
    return _event(dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED, planned, 1_733_011_200.0), verdicts


def _one_by_one(storage: SqlEventLogStorage, events: Sequence[dg.EventLogEntry]) -> None:
    for event in events:
        storage.store_event(event)


def _batch(storage: SqlEventLogStorage, events: Sequence[dg.EventLogEntry]) -> None:
    storage.store_event_batch(events)


Log = Callable[[], AbstractContextManager[SqlEventLogStorage | None]]


def _sqlite(kind: type[SqliteEventLogStorage], folder: Path) -> Log:
    @contextmanager
    def log() -> Iterator[SqlEventLogStorage | None]:
        storage = kind(tempfile.mkdtemp(dir=folder))
        yield storage
        storage.dispose()

    return log


def _postgres(kind: type[PostgresEventLogStorage]) -> Log:
    @contextmanager
    def log() -> Iterator[SqlEventLogStorage | None]:
        with postgres_database() as url:
            if url is None:
                yield None
                return
            storage = kind(url)
            yield storage
            storage.dispose()

    return log


def ranged_run(instance: dg.DagsterInstance, days: int) -> tuple[str, list[str]]:
    """A ranged run of ``days`` days × two symbols through Dagster, each materialization carrying ~4 KB of metadata
    (a features partition's event size, here a preview table); its run id and partition keys."""
    table = (
        "| timestamp | ret_1 | rsi_14 | atr_pct |\n|---|---|---|---|\n"
        + "| 2024-07-02 00:15 | 0.0019 | 51.2 | 0.004 |\n" * 80
    )

    @dg.asset(key=CANDLES, partitions_def=PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run())
    def candles() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 96, "preview": dg.MetadataValue.md(table)})

    last = (date(2024, 1, 1) + timedelta(days=days - 1)).isoformat()
    tags = {
        "dagster/asset_partition_range_start": "2024-01-01|ADA-USDT",
        "dagster/asset_partition_range_end": f"{last}|BTC-USDT",
    }
    result = dg.materialize([candles], instance=instance, tags=tags)
    keys = sorted(e.materialization.partition or "" for e in result.get_asset_materialization_events())
    return result.run_id, keys


def target_lookups(count: int, rounds: int) -> dict[str, object]:
    """Milliseconds a partition to find a ranged run's materializations of ``count`` partitions, each way."""
    line: dict[str, object] = {"bench": "verdict_targets", "rounds": rounds}
    with tempfile.TemporaryDirectory(prefix="verdict-targets-") as tmp, postgres_database() as url:
        storages = {"sqlite": _storage("sqlite_storage", "PooledSqliteEventLogStorage", {"base_dir": f"{tmp}/log"})}
        if url is not None:
            storages["postgres"] = _storage("postgres_storage", "PooledPostgresEventLogStorage", {"postgres_url": url})
        for name, storage in storages.items():
            home = Path(tmp) / name  # each instance its own runs
            home.mkdir()
            with dg.instance_for_test(temp_dir=str(home), overrides={"event_log_storage": storage}) as instance:
                ranged_run(instance, count // 2)  # an earlier run of the same partitions
                partitions, ms = _lookups(instance, *ranged_run(instance, count // 2), rounds)
            prefix = "" if name == "sqlite" else "postgres_"
            line |= {"partitions": partitions} | {
                f"{prefix}{way}_ms_per_partition": round(v, 4) for way, v in ms.items()
            }
            line[f"{prefix}ratio"] = round(ms["materializations_of_run"] / ms["fetch_materializations"], 3)
    if url is None:
        line["postgres"] = "skipped: no PostgreSQL at 127.0.0.1:5432"
    return line


def _lookups(instance: dg.DagsterInstance, run_id: str, keys: list[str], rounds: int) -> tuple[int, dict[str, float]]:
    """The partitions, and each way's median milliseconds a partition over ``rounds``, alternating."""
    ways = {
        "fetch_materializations": lambda: (
            instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=CANDLES, asset_partitions=keys), limit=len(keys)
            ).records
        ),
        "materializations_of_run": lambda: materializations_of_run(instance, CANDLES, run_id),
    }
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(rounds):
        for way, look_up in ways.items():
            began = time.perf_counter()
            assert len(look_up()) == len(keys)
            seconds[way].append(time.perf_counter() - began)
    return len(keys), {way: statistics.median(s) / len(keys) * 1e3 for way, s in seconds.items()}


def _storage(module: str, cls: str, config: dict[str, str]) -> dict[str, object]:
    return {"module": f"huracan_dagster.instance.{module}", "class": cls, "config": config}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verdicts", type=int, default=400, help="partitions judged by the step")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    planned, verdicts = step_events(args.verdicts)
    with tempfile.TemporaryDirectory(prefix="verdict-batches-") as tmp:
        folder = Path(tmp)
        ways: dict[str, tuple[Log, Callable]] = {
            "dagster": (_sqlite(SqliteEventLogStorage, folder), _one_by_one),
            "one_by_one": (_sqlite(PooledSqliteEventLogStorage, folder), _one_by_one),
            "batch": (_sqlite(PooledSqliteEventLogStorage, folder), _batch),
            "postgres_dagster": (_postgres(PostgresEventLogStorage), _one_by_one),
            "postgres_one_by_one": (_postgres(PooledPostgresEventLogStorage), _one_by_one),
            "postgres_batch": (_postgres(PooledPostgresEventLogStorage), _batch),
        }
        seconds: dict[str, list[float]] = {way: [] for way in ways}
        for _ in range(args.rounds):
            for way, (log, store) in ways.items():
                with log() as storage:
                    if storage is None:
                        continue
                    storage.store_event(planned)
                    began = time.perf_counter()
                    store(storage, verdicts)
                    seconds[way].append(time.perf_counter() - began)
    ms = {way: statistics.median(s) / len(verdicts) * 1e3 for way, s in seconds.items() if s}
    line: dict[str, object] = {"bench": "verdict_batches", "verdicts": len(verdicts), "rounds": args.rounds}
    line |= {f"{way}_ms_per_verdict": round(v, 3) for way, v in ms.items()}
    for prefix in ("", "postgres_"):
        if f"{prefix}batch" in ms:
            line[f"{prefix}batch_over_one_by_one"] = round(ms[f"{prefix}batch"] / ms[f"{prefix}one_by_one"], 3)
            line[f"{prefix}batch_over_dagster"] = round(ms[f"{prefix}batch"] / ms[f"{prefix}dagster"], 3)
    if "postgres_batch" not in ms:
        line["postgres"] = "skipped: no PostgreSQL at 127.0.0.1:5432"
    print(json.dumps(line), flush=True)
    print(json.dumps(target_lookups(args.verdicts, args.rounds)), flush=True)


if __name__ == "__main__":
    main()
