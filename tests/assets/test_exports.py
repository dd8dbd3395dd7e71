"""Exports and the analysts' DuckDB file: rows equal their sources, exporting again changes nothing, a reader
holding the file open never sees an error, every view and documented column carries its comment, and the
README's example queries run and return rows."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from huracan_core.exports.tables import DATE_SYMBOL, DERIVED, LINEAGE, PATTERNS, SEARCH, TABLES
from huracan_core.features.recipe import FeatureRecipe
from huracan_dagster.defs.assets.exports import analytics_database
from huracan_dagster.defs.partitions import asset_key
from huracan_dagster.defs.resources import ExportsResource
from tests.assets.pipeline import SYMBOLS, TF, resources
from tests.assets.test_trading_assets import ASSETS, EVERYTHING, MODELS, _history, _materialize
from tests.conftest import REPO

DAYS = ["2024-11-28", "2024-11-29"]
EXPORTS, EXPORTS_DAILY = asset_key(TF, "exports"), asset_key(TF, "exports_daily")
DATED = [asset_key(TF, n) for n in ("daily_summary", "exports_daily")]


def _database(instance, root: Path) -> Path:
    analytics = ExportsResource.for_home(root)
    result = dg.materialize(
        [analytics_database(TF, [])],
        instance=instance,
        resources={**resources(root / "archive"), "analytics": analytics},
    )
    assert result.success
    return Path(analytics.database)


def _dated(instance, root: Path, keys=DATED) -> None:
    dated = [a for a in ASSETS if a.key in keys]
    result = dg.materialize(
        dated,
        instance=instance,
        resources={**resources(root / "archive"), "models": MODELS},
        tags={"dagster/asset_partition_range_start": DAYS[0], "dagster/asset_partition_range_end": DAYS[-1]},
    )
    assert result.success


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("home")
    archive = root / "archive"
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("dagster"))) as instance:
        _history(instance, archive, DAYS[0], DAYS[-1])
        _materialize(instance, archive, [*EVERYTHING, EXPORTS], DAYS[0], DAYS[-1])
        _dated(instance, root)
        yield {"instance": instance, "root": root, "archive": archive, "database": _database(instance, root)}


def _objects(archive: Path) -> dict[str, bytes]:
    return {p.relative_to(archive).as_posix(): p.read_bytes() for p in sorted((archive / "exports").rglob("*.parquet"))}


def test_export_rows_equal_their_sources_and_carry_their_lineage(exported) -> None:
    archive, instance = exported["archive"], exported["instance"]
    with duckdb.connect(str(exported["database"]), read_only=True) as con:
        pairs = {
            "candles": "candles",
            "features": "features/*/{s}/{d}",
            "regimes": "regimes",
            "signals": "signals",
            "opportunities": "labels",
            "trade_history": "shadow_trades",
        }
        for table, source in pairs.items():
            for d in DAYS:
                for s in SYMBOLS:
                    path = source.format(s=s, d=d) if "{" in source else f"{source}/{s}/{TF}/{d}"
                    [file] = list(archive.glob(f"{path}.parquet"))
                    expected = pl.read_parquet(file).height
                    got = con.execute(f"SELECT count(*) FROM {table} WHERE partition_key = ?", [f"{d}|{s}"]).fetchone()[
                        0
                    ]
                    assert got == expected, (table, d, s)
        runs = {r.run_id for r in instance.get_runs()}
        for table in ("candles", "opportunities", "trade_history", "champions", "model_performance"):
            ids = {r[0] for r in con.execute(f"SELECT DISTINCT dagster_run_id FROM {table}").fetchall()}
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert ids <= runs and bool(ids) == bool(rows), table  # the runs that materialized the sources
        assert con.execute("SELECT count(*) FROM champions").fetchone()[0] == len(DAYS) * len(SYMBOLS)
        # the model's (the rule it trades with, its two rules) and its baselines' aggregate plus one row per fold and
        # policy, per model
        folds = con.execute("SELECT count(DISTINCT fold) FROM model_performance WHERE fold IS NOT NULL").fetchone()[0]
        per_model = con.execute("SELECT count(*) FROM model_performance GROUP BY model_version").fetchall()
        assert folds > 0 and {n for (n,) in per_model} == {5 + 5 * folds}
        # the signal is on the rows that trade the model's predictions, and only there; the model row is its rule's
        signal = con.execute(
            "SELECT policy, count(*), count(ic) FILTER (WHERE fold IS NULL), count(q1_net_bps) FROM model_performance "
            "GROUP BY policy"
        ).fetchall()
        assert {p for p, _, _, q in signal if q} <= {"model", "absolute", "calibrated"}
        assert {p for p, n, _, q in signal if q == n} >= {"model", "absolute", "calibrated"}
        mismatched = con.execute(
            "SELECT count(*) FROM model_performance m JOIN model_performance r USING (model_version) "
            "WHERE m.policy = 'model' AND r.policy = m.decision_policy AND m.fold IS NOT DISTINCT FROM r.fold "
            "AND (m.net_pnl != r.net_pnl OR m.trade_count != r.trade_count)"
        ).fetchone()[0]
        assert mismatched == 0
        assert con.execute("SELECT count(*) FROM model_evolution").fetchone()[0] == len(DAYS) * len(SYMBOLS)
        summary = con.execute("SELECT symbol, trades FROM daily_summary WHERE day = ?", [DAYS[-1]]).fetchall()
        assert {s for s, _ in summary} == {*SYMBOLS, "ALL"}
        totals = dict(summary)
        assert totals["ALL"] == sum(totals[s] for s in SYMBOLS)
        recipe = con.execute("SELECT DISTINCT recipe_hash FROM trade_history").fetchall()
        assert all(r[0] for r in recipe)


def test_exporting_again_changes_nothing(exported) -> None:
    archive, instance = exported["archive"], exported["instance"]
    before = _objects(archive)
    _materialize(instance, archive, [EXPORTS], DAYS[0], DAYS[-1])
    _dated(instance, exported["root"], [EXPORTS_DAILY])
    after = _objects(archive)
    assert set(after) == set(before)
    changed = [k for k in before if before[k] != after[k]]
    assert not changed  # same rows, same bytes: replaced, never appended
    with duckdb.connect(str(_database(instance, exported["root"])), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM trade_history").fetchone()[0] == sum(
            pl.read_parquet(p).height for p in archive.glob(f"shadow_trades/*/{TF}/*.parquet")
        )


def test_a_reader_holding_the_file_open_sees_old_or_new_rows_never_an_error(exported) -> None:
    archive, instance, database = exported["archive"], exported["instance"], exported["database"]
    reader = duckdb.connect(str(database), read_only=True)
    expected = reader.execute("SELECT count(*) FROM candles").fetchone()[0]
    seen, errors, stop = set(), [], threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                seen.add(reader.execute("SELECT count(*) FROM candles").fetchone()[0])
                fresh = duckdb.connect(str(database), read_only=True)  # and one that opens it meanwhile
                seen.add(fresh.execute("SELECT count(*) FROM candles").fetchone()[0])
                fresh.close()
            except Exception as error:
                errors.append(error)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        _materialize(instance, archive, [EXPORTS], DAYS[0], DAYS[-1])
        _database(instance, exported["root"])
    finally:
        stop.set()
        thread.join()
        reader.close()  # DuckDB shares one open database per file and process: closed, the next connect sees the new file
    assert not errors and seen == {expected}


def test_every_exported_column_is_written_once_in_tables_py_with_its_type_and_comment(exported) -> None:
    """``tables.py`` is the one list of the export tables: what the pipeline exports has exactly its columns and
    types (or a documented pattern), and the file's COMMENTs are its words."""
    with duckdb.connect(str(exported["database"]), read_only=True) as con:
        views = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall())
        # the pipeline's tables; a research search's (research_candidates) are written by the search and checked
        # the same way in tests/core/test_research_report.py
        pipeline = {name: table for name, table in TABLES.items() if table.grain != SEARCH}
        assert set(views) >= set(pipeline) | set(DERIVED)
        features = set(FeatureRecipe.default(TF).output_columns)
        for name, table in pipeline.items():
            assert views[name] == table.comment
            exported_columns = {
                c: (t, comment)
                for c, t, comment in con.execute(
                    "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = ?", [name]
                ).fetchall()
            }
            for column, (kind, comment) in exported_columns.items():
                assert comment, (name, column)
                if column in table.columns:
                    assert kind.replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ") == table.columns[column].type, (
                        name,
                        column,
                        kind,
                    )
                else:  # lineage, a documented prefix or suffix, or a feature of the recipe
                    assert (
                        column in LINEAGE
                        or any(column.startswith(p) or column.endswith(p) for p in PATTERNS)
                        or (name == "features" and column in features)
                    ), f"{name}.{column} is exported but not in tables.py"
            assert set(table.columns) <= set(exported_columns), (name, set(table.columns) - set(exported_columns))


def test_the_docs_page_and_the_dbt_sources_say_what_tables_py_says() -> None:
    import yaml

    from huracan_core.exports.contract import with_contract

    page = (REPO / "docs" / "exports.md").read_text()
    assert page == with_contract(page), (
        "docs/exports.md is stale: run `python -m huracan_core.exports.contract docs/exports.md`"
    )
    sources = yaml.safe_load((REPO / "dbt" / "models" / "staging" / "_sources.yml").read_text())["sources"]
    families = {
        "TINYINT": "integer",
        "SMALLINT": "integer",
        "INTEGER": "integer",
        "BIGINT": "integer",
        "UINTEGER": "integer",
    }
    for table in (t for source in sources for t in source["tables"]):
        documented = TABLES[table["name"]]
        for column in table["columns"]:
            name = column["name"]
            meaning = LINEAGE.get(name) or documented.columns[name].comment
            assert column["description"] == meaning, (table["name"], name)
            if name in documented.columns:
                declared = documented.columns[name].type
                assert families.get(declared, declared.lower()) == families.get(
                    column["data_type"].upper(), column["data_type"].lower()
                ), (table["name"], name)


def test_the_documented_queries_run_and_return_rows(exported) -> None:
    page = (REPO / "docs" / "exports.md").read_text()
    queries = re.findall(r"```sql\n(.*?)```", page.split("## The tables")[0], flags=re.S)
    assert len(queries) >= 3
    with duckdb.connect(str(exported["database"]), read_only=True) as con:
        for sql in queries:
            rows = con.execute(sql).fetchall()
            assert rows, sql


def test_every_table_has_an_object_per_partition_even_without_trades(exported) -> None:
    """A coin-day without trades still exports every table (zero rows, the right columns): views never miss a day."""
    archive = exported["archive"]
    for d in DAYS:
        for s in SYMBOLS:
            for table in TABLES.values():
                if table.grain == DATE_SYMBOL:
                    assert (archive / f"exports/{table.name}/{TF}/{s}/{d}.parquet").is_file(), (table.name, d, s)


def test_dbt_builds_and_tests_pass_on_the_pipelines_own_exports_and_the_file_shows_the_marts(exported) -> None:
    """dbt over what the real chain exported (not a fixture): every model builds, every dbt test passes as an asset
    check, and the rebuilt DuckDB file offers the marts beside the exports."""
    from huracan_dagster.defs.assets.dbt import HuracanDbtResource, dbt_assets_for

    root, instance = exported["root"], exported["instance"]
    dbt = HuracanDbtResource.for_home(root, exported["archive"])
    result = dg.materialize(
        [dbt_assets_for(TF)],
        instance=instance,
        resources={"dbt": dbt, "archive": resources(exported["archive"])["archive"]},
        raise_on_error=False,
    )
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    analytics = ExportsResource.for_home(root)
    assert dg.materialize(
        [analytics_database(TF, [])],
        instance=instance,
        resources={**resources(exported["archive"]), "analytics": analytics},
    ).success
    with duckdb.connect(analytics.database, read_only=True) as con:
        per_day = con.execute("SELECT count(*) FROM coin_daily_performance").fetchone()[0]
        assert per_day == len(DAYS) * len(SYMBOLS)  # every coin-day, traded or not
        trades = con.execute("SELECT count(*) FROM trade_history").fetchone()[0]
        assert con.execute("SELECT coalesce(sum(trades), 0) FROM coin_daily_performance").fetchone()[0] == trades
