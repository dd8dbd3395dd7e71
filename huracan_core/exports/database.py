"""``HURACAN_HOME/exports/huracan.duckdb``: the one file analysts open, read-only, at any time.

It holds no data, only VIEWs (with COMMENTs) over the export parquet and the dbt marts' parquet. So exporting a
partition never touches it: the partition's object is replaced atomically and the next query reads it. When the
file itself must change (a new table, a new mart) it is built under a temporary name and renamed over the old one:
a reader that has it open keeps the old file, a reader that opens it gets the old or the new one — never a lock
error, which a single DuckDB file written in place would give every reader while a writer holds it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from huracan_core.exports.tables import DERIVED, TABLES, column_comment
from huracan_core.storage.leftovers import temporary_name

#: what a view reads: the path inside ``read_parquet('…')``
_READS = re.compile(r"read_parquet\('((?:[^']|'')*)'")


def export_glob(archive_root: Path, table: str) -> str:
    return f"{Path(archive_root)}/exports/{table}/**/*.parquet"


def build_database(target: Path, archive_root: Path, marts: Path | None = None) -> dict[str, str]:
    """Writes the file; returns ``{view: what it reads}`` (tables not exported yet are left out, and said so)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(temporary_name(target.name))
    temporary.unlink(missing_ok=True)
    con = duckdb.connect(str(temporary))
    try:
        views = create_views(con, archive_root, marts)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(temporary, target)
    return views


@dataclass(frozen=True)
class DatabaseState:
    """What ``huracan status`` says of the file, and how a command tells that the home moved under it."""

    #: last built, seconds since the epoch
    modified: float
    views: tuple[str, ...]
    #: the parquet files and globs the views read
    reads: tuple[str, ...]

    def reads_outside(self, *folders: Path) -> list[str]:
        """What the views read outside ``folders`` (the home's archive and marts): a copied or restored home's file
        still reads the home it was built in until it is built again."""
        roots = [f"{Path(folder)}/" for folder in folders]
        return [path for path in self.reads if not any(path.startswith(root) for root in roots)]


def database_state(target: Path) -> DatabaseState | None:
    """None when there is no file."""
    if not target.is_file():
        return None
    con = duckdb.connect(str(target), read_only=True)
    try:
        rows = con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY view_name").fetchall()
    finally:
        con.close()
    reads = sorted({path.replace("''", "'") for _, sql in rows for path in _READS.findall(sql)})
    return DatabaseState(target.stat().st_mtime, tuple(name for name, _ in rows), tuple(reads))


def create_views(con: duckdb.DuckDBPyConnection, archive_root: Path, marts: Path | None = None) -> dict[str, str]:
    """The views (and their comments) on ``con``: the file's, or an in-memory connection's (the daily report reads
    the exports without waiting for the file)."""
    views: dict[str, str] = {}
    for table in TABLES.values():
        pattern = export_glob(archive_root, table.name)
        files = con.execute("SELECT count(*) FROM glob(?)", [pattern]).fetchone()
        assert files is not None  # count(*) always returns one row
        if not files[0]:
            views[table.name] = "not exported yet"
            continue
        con.execute(f"CREATE VIEW {table.name} AS SELECT * FROM read_parquet({_quote(pattern)}, union_by_name = true)")
        _comment(con, table.name, table.comment, lambda column, t=table: column_comment(t, column))
        views[table.name] = pattern
    for name, (comment, sql) in DERIVED.items():
        if all(views.get(t, "").endswith(".parquet") for t in _reads(sql)):
            con.execute(f"CREATE VIEW {name} AS {sql}")
            _comment(con, name, comment, lambda column: column_comment(TABLES["model_performance"], column))
            views[name] = sql
    for mart in sorted(Path(marts).glob("*.parquet")) if marts and Path(marts).is_dir() else []:
        con.execute(f"CREATE VIEW {mart.stem} AS SELECT * FROM read_parquet({_quote(str(mart))})")
        con.execute(
            f"COMMENT ON VIEW {mart.stem} IS {_quote(f'dbt mart {mart.stem}: see dbt/models (schema.yml documents each column)')}"
        )
        views[mart.stem] = str(mart)
    return views


def _comment(con: duckdb.DuckDBPyConnection, view: str, comment: str, describe) -> None:
    con.execute(f"COMMENT ON VIEW {view} IS {_quote(comment)}")
    for (column,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [view]).fetchall():
        text = describe(column)
        if text:
            con.execute(f'COMMENT ON COLUMN {view}."{column}" IS {_quote(text)}')


def _reads(sql: str) -> list[str]:
    return [name for name in TABLES if f" {name} " in f" {sql} "]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
