"""The Archive's model and encoder folders verified against their ``sha256.txt`` on a schedule, not only when a model
is loaded as champion: a damaged or altered file in a model that is not the champion is found the day it happens.

Two checks per timeframe, on ``coin_model`` and ``shared_encoder`` but not partitioned: each judges the whole
Archive's folders of its kind. They run in their own job (``integrity_<tf>``) on a daily schedule, never inside the
Engine's runs; each new folder is already checked right after it is written (``model_files_intact``,
``encoder_files_intact``, per partition).
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from huracan_core.models.integrity import IntegrityReport, sweep_encoders, sweep_models
from huracan_core.storage.store import ArtifactStore
from huracan_dagster.defs.partitions import asset_key
from huracan_dagster.defs.resources import ArchiveResource

INTEGRITY_JOB = "integrity"
#: every day, after the Engine's 02:00 run
INTEGRITY_CRON = "30 3 * * *"
SHOWN = 20


def integrity_job_name(timeframe: str) -> str:
    return f"{INTEGRITY_JOB}_{timeframe}"


def integrity_checks(timeframe: str) -> list[dg.AssetChecksDefinition]:
    return [
        _sweep_check(
            timeframe,
            "coin_model",
            "archive_models_intact",
            "model",
            sweep_models,
            "Every model and challenger folder of the Archive matches its `sha256.txt` (daily, the whole Archive).",
        ),
        _sweep_check(
            timeframe,
            "shared_encoder",
            "archive_encoders_intact",
            "encoder",
            sweep_encoders,
            "Every shared encoder folder of the Archive matches its `sha256.txt` (daily, the whole Archive).",
        ),
    ]


def _sweep_check(
    timeframe: str,
    asset: str,
    name: str,
    kind: str,
    sweep: Callable[[ArtifactStore, str], IntegrityReport],
    description: str,
) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset_key(timeframe, asset), name=name, description=description, blocking=False)
    def check(archive: ArchiveResource) -> dg.AssetCheckResult:
        store = archive.store()
        report = sweep(store, timeframe)
        damaged = [f"{store.uri(folder)}: {why}" for folder, why in sorted(report.damaged.items())]
        return dg.AssetCheckResult(
            passed=report.intact,
            # a damaged file is an error; a folder only unfinished (a killed training) is a warning: nothing uses it
            severity=dg.AssetCheckSeverity.ERROR if report.damaged else dg.AssetCheckSeverity.WARN,
            description=report.summary(kind),
            metadata={
                "folders_checked": report.checked,
                "damaged": len(report.damaged),
                "unfinished": len(report.unfinished),
                "problems": dg.MetadataValue.md(
                    "\n".join(f"- `{line}`" for line in [*damaged, *report.unfinished][:SHOWN]) or "none"
                ),
            },
        )

    return check


def integrity_job(
    timeframe: str, checks: list[dg.AssetChecksDefinition]
) -> tuple[dg.UnresolvedAssetJobDefinition, dg.ScheduleDefinition]:
    """The job of the sweep checks alone, and its daily schedule (running: it reads nothing a recorded source lacks)."""
    job = dg.define_asset_job(
        integrity_job_name(timeframe),
        selection=dg.AssetSelection.checks(*checks),
        description=f"The {timeframe} model and encoder folders of the Archive verified against their sha256.txt.",
    )
    schedule = dg.ScheduleDefinition(
        name=f"integrity_{timeframe}_daily",
        job=job,
        cron_schedule=INTEGRITY_CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every model and encoder folder checked against its sha256.txt, daily at 03:30 UTC.",
    )
    return job, schedule
