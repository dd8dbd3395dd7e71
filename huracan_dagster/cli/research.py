"""``huracan research``: the search over a window, its table in the terminal, its files in the Archive, the
``research_candidates`` view in the analysts' DuckDB file, and one MLflow parent run with a child per candidate."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from huracan_dagster.settings import Settings


def research_command(
    settings: Settings,
    *,
    symbols: list[str],
    start: date,
    end: date,
    timeframes: list[str] | None,
    space_spec: str | None,
    workers: int | None,
) -> int:
    from huracan_core.cores import usable_cores
    from huracan_core.exports.database import build_database
    from huracan_core.reports.command import exports_db
    from huracan_core.research.report import TABLE
    from huracan_core.research.run import run_research
    from huracan_core.research.space import SpaceError, load_space
    from huracan_core.research.tracking import log_search
    from huracan_core.sources import CandleFetchError
    from huracan_core.sources.factory import open_source
    from huracan_core.validation.problems import CandleValidationError
    from huracan_dagster.defs.definitions import costs_resource, mlflow_resource
    from huracan_dagster.defs.resources import ArchiveResource

    try:
        space = load_space(space_spec)
        if timeframes:
            space = space.with_timeframes(timeframes)
        source = open_source(settings.source)
        chosen = symbols or list(settings.symbols) or source.symbols(space.timeframes[0])
        outcome = run_research(
            source,
            chosen,
            start,
            end,
            space=space,
            costs=costs_resource(settings).cost_model(),
            workers=workers or usable_cores(),
            cache=settings.home / "research" / "cache",
            progress=lambda line: print(f"  {line}", flush=True),
        )
    except (SpaceError, CandleFetchError, CandleValidationError, ValueError) as error:
        print(f"huracan research: error: {error}", file=sys.stderr)
        return 2
    archive = ArchiveResource(root=str(settings.archive_root), s3_url=settings.s3_url, s3_endpoint=settings.s3_endpoint)
    store = archive.store()
    for key, data in sorted(outcome.files.items()):
        store.write_bytes(key, data)
    database = exports_db(settings.home)
    build_database(database, archive.local_folder("exports/"), settings.home / "exports" / "marts" / settings.timeframe)
    run_id = log_search(
        mlflow_resource(settings).config(),
        outcome.search_id,
        outcome.judged.candidates,
        {
            "space": space.name,
            "space_digest": space.digest,
            "timeframes": ",".join(space.timeframes),
            "window": f"{start}..{end}",
            "symbols": ",".join(chosen),
            "candidates_per_coin": len(space.candidates()),
        },
    )
    page = next(k for k in outcome.files if k.endswith("index.html"))
    print(outcome.table, flush=True)
    print("\n".join(["", "What the search concluded:", *(f"  {line}" for line in outcome.conclusions())]))
    print(
        f"\nsearch {outcome.search_id}: {outcome.judged.candidates.height} candidate rows, {outcome.computed} units "
        f"evaluated and {outcome.cached} read from the cache in {outcome.seconds:.0f} s\n"
        f"  report: {_where(archive, page)}\n"
        f"  DuckDB: {database} (view {TABLE})\n"
        f"  MLflow: parent run {run_id} (huracan mlflow)",
        flush=True,
    )
    return 0


def _where(archive, key: str) -> str:
    return f"{archive.s3_url}/{key}" if archive.s3_url else str(Path(archive.root) / key)
