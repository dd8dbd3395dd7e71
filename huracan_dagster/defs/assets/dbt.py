"""dbt over the exports (``dbt/``): its models are assets downstream of the export assets, its tests asset checks.

One ``dbt build`` per timeframe reads that chain's export parquet straight from the archive
(``<archive>/exports/<table>/<timeframe>/**``), builds the staging views and the marts in
``HURACAN_HOME/exports/dbt_<timeframe>.duckdb``, writes each mart to
``HURACAN_HOME/exports/marts/<timeframe>/<model>.parquet`` and runs every dbt test. Keys: ``<timeframe>/dbt/<model>``.

dagster-dbt reads ``dbt/target/manifest.json`` when the definitions load; ``ensure_manifest`` runs ``dbt parse`` only
when that file is missing or older than a file of the project, so a clean clone needs no manual step.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.compat import DBT_PYTHON_VERSION

from huracan_core.exports.tables import DATE, DATE_SYMBOL, TABLES
from huracan_dagster.defs.partitions import ANALYTICS_POOL, asset_key
from huracan_dagster.defs.resources import ArchiveResource

DBT_DIR = Path(__file__).resolve().parents[3] / "dbt"
#: the files whose change makes the manifest stale
PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
PROJECT_DIRS = ("models", "macros", "tests")
#: the export asset that writes each grain of export table (``huracan_core/exports/tables.py``)
EXPORT_ASSETS = {DATE_SYMBOL: "exports", DATE: "exports_daily"}


def _dbt_executable() -> str:
    """dbt of this interpreter's environment (the venv's bin is not always on PATH, e.g. under ``.venv/bin/python``)."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.is_file() else (shutil.which("dbt") or "dbt")


def project() -> DbtProject:
    return DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, profile="huracan", target="local")


def mart_dir(home: str | Path, timeframe: str) -> Path:
    """Where the marts of a timeframe are written: ``HURACAN_HOME/exports/marts/<timeframe>/<model>.parquet``."""
    return Path(home) / "exports" / "marts" / timeframe


def export_asset_key(timeframe: str, table: str) -> dg.AssetKey:
    """The export asset that writes ``table`` (a dbt source)."""
    if table not in TABLES:
        raise ValueError(
            f"dbt source exports.{table}: not an export table (huracan_core/exports/tables.py), so no export asset writes it"
        )
    return asset_key(timeframe, EXPORT_ASSETS[TABLES[table].grain])


# ── the manifest ─────────────────────────────────────────────────────────────────────────────────────────────────


def _newest_project_file(project_dir: Path) -> float:
    files = [project_dir / name for name in PROJECT_FILES]
    for folder in PROJECT_DIRS:
        files += [p for p in (project_dir / folder).rglob("*") if p.is_file()]
    return max((p.stat().st_mtime for p in files if p.exists()), default=0.0)


def manifest_is_stale(project_dir: Path, manifest: Path) -> bool:
    """Missing, older than a file of the project (a model, macro, test, ``dbt_project.yml``, ``profiles.yml``), or
    written by another dbt-core than the installed one."""
    if not manifest.is_file() or manifest.stat().st_mtime < _newest_project_file(project_dir):
        return True
    try:
        written_by = json.loads(manifest.read_text())["metadata"]["dbt_version"]
    except (OSError, ValueError, KeyError, TypeError):
        return True
    return DBT_PYTHON_VERSION is not None and written_by != str(DBT_PYTHON_VERSION)


def _manifest_path(project_dir: Path) -> Path:
    """``<project>/target/manifest.json``; a folder under the temp dir when the project is read-only (installed)."""
    target = project_dir / "target"
    if os.access(project_dir, os.W_OK) and (not target.exists() or os.access(target, os.W_OK)):
        return target / "manifest.json"
    return Path(tempfile.gettempdir()) / f"huracan-dbt-{os.getuid()}" / "manifest.json"


def ensure_manifest(project_dir: Path = DBT_DIR) -> Path:
    """The path of an up-to-date manifest, parsing the project first when it is missing or stale (a few seconds).

    Parsed with placeholder paths (the manifest does not depend on where this process's home is: each build parses
    again with the real ones), into a temp folder, then moved into place at once, so two processes loading the
    definitions together never read half a file."""
    manifest = _manifest_path(project_dir)
    if not manifest_is_stale(project_dir, manifest):
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".parse-", dir=manifest.parent) as tmp:
        env = {
            **os.environ,
            "HURACAN_HOME": "$HURACAN_HOME",
            "HURACAN_ARCHIVE": "$HURACAN_ARCHIVE",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET_PATH": tmp,
            "DBT_LOG_PATH": tmp,
            "DBT_PROFILES_DIR": str(project_dir),
        }
        done = subprocess.run(
            [_dbt_executable(), "parse", "--quiet", "--no-partial-parse"],
            cwd=project_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        parsed = Path(tmp) / "manifest.json"
        if done.returncode != 0 or not parsed.is_file():
            output = (done.stdout + done.stderr).strip()[-4000:]
            raise RuntimeError(
                f"dbt parse of {project_dir} failed (exit {done.returncode}), so its assets cannot load:\n{output}"
            )
        os.replace(parsed, manifest)
    return manifest


# ── the resource ─────────────────────────────────────────────────────────────────────────────────────────────────


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in os.environ while the dbt subprocess starts (dagster-dbt passes it the process environment)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class HuracanDbtResource(DbtCliResource):
    """dbt on the project in ``dbt/`` for one HURACAN_HOME: every invocation gets ``HURACAN_HOME`` and
    ``HURACAN_ARCHIVE`` (the archive root, where the exports are) from this resource, not from the environment."""

    home: str
    archive: str

    @classmethod
    def for_home(cls, home: str | Path, archive: str | Path) -> "HuracanDbtResource":
        dbt = project()
        # DbtCliResource.__init__ takes a DbtProject (and reads its profile, target, state); pyright sees only the
        # init synthesized from the fields, whose project_dir is a str
        return cls(project_dir=dbt, home=str(home), archive=str(archive), dbt_executable=_dbt_executable())  # pyright: ignore[reportArgumentType] - see above

    @property
    def _cli_version(self):
        # dagster-dbt runs `dbt --version` (a 2 s subprocess) twice per invocation to learn the engine; the dbt
        # beside this interpreter is the dbt-core installed here, whose version is known in-process
        if DBT_PYTHON_VERSION is not None and Path(self.dbt_executable) == Path(sys.executable).with_name("dbt"):
            return DBT_PYTHON_VERSION
        return super()._cli_version

    def environment(self) -> dict[str, str]:
        return {"HURACAN_HOME": self.home, "HURACAN_ARCHIVE": self.archive}

    def cli(self, args: Sequence[str], **kwargs: Any):
        with _environment(self.environment()):
            return super().cli(args, **kwargs)

    def build(self, timeframe: str, context: dg.AssetExecutionContext):
        """``dbt build`` of the timeframe's exports; the folders dbt writes into exist first (DuckDB creates none).
        dbt's artifacts and logs go to ``HURACAN_HOME/exports/dbt_target/<timeframe>`` (the last build's, kept
        for its partial parse), not into the repository."""
        mart_dir(self.home, timeframe).mkdir(parents=True, exist_ok=True)
        target = Path(self.home) / "exports" / "dbt_target" / timeframe
        return self.cli(["build", "--vars", json.dumps({"timeframe": timeframe})], context=context, target_path=target)


# ── the assets ───────────────────────────────────────────────────────────────────────────────────────────────────


class ExportsTranslator(DagsterDbtTranslator):
    """dbt sources → the export assets that write them; models → ``<timeframe>/dbt/<model>``."""

    def __init__(self, timeframe: str):
        # every date × symbol table is one asset (the exports), so several sources share a key
        super().__init__(
            DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True)
        )
        self.timeframe = timeframe

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return export_asset_key(self.timeframe, dbt_resource_props["name"])
        return dg.AssetKey([self.timeframe, "dbt", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return f"dbt_{self.timeframe}"

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = dict(super().get_metadata(dbt_resource_props))
        if _is_mart(dbt_resource_props):
            metadata["parquet"] = dg.MetadataValue.path(
                f"$HURACAN_HOME/exports/marts/{self.timeframe}/{dbt_resource_props['name']}.parquet"
            )
        return metadata


def _is_mart(props: Mapping[str, Any]) -> bool:
    return props.get("resource_type") == "model" and "marts" in props.get("fqn", [])


def _mart_rows(path: Path) -> int:
    import duckdb  # only where a build ran

    with duckdb.connect() as con:
        row = con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchone()
        assert row is not None  # count(*) always returns one row
        return row[0]


def dbt_assets_for(timeframe: str) -> dg.AssetsDefinition:
    """The dbt models of one timeframe as assets (``<timeframe>/dbt/<model>``, group ``dbt_<timeframe>``), downstream
    of ``<timeframe>/exports`` and ``<timeframe>/exports_daily``; their tests are the assets' checks. Needs the
    resource ``dbt`` (``HuracanDbtResource``)."""
    manifest_path = ensure_manifest()
    marts = {node["name"] for node in json.loads(manifest_path.read_text())["nodes"].values() if _is_mart(node)}

    @dbt_assets(
        manifest=manifest_path,
        dagster_dbt_translator=ExportsTranslator(timeframe),
        project=project(),
        name=f"dbt_{timeframe}",
        pool=ANALYTICS_POOL,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: HuracanDbtResource, archive: ArchiveResource):
        archive.local_folder("exports/")  # dbt reads the export files under HURACAN_ARCHIVE: on S3, their mirror
        for event in dbt.build(timeframe, context).stream():
            if (
                isinstance(event, dg.Output)
                and (model := context.asset_key_for_output(event.output_name).path[-1]) in marts
            ):
                path = mart_dir(dbt.home, timeframe) / f"{model}.parquet"  # written by the model's post-hook
                if path.is_file():
                    event = event.with_metadata(
                        {
                            **event.metadata,
                            "parquet": dg.MetadataValue.path(str(path)),
                            "rows": dg.MetadataValue.int(_mart_rows(path)),
                        }
                    )
            yield event

    return dbt_models
