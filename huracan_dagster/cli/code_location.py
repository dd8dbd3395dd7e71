"""The code location that ``huracan ui`` loads, and ``huracan run``'s runs as runs of its jobs.

``huracan run`` executes its runs in its own process, one after another, or over helper processes each started once
(``run_pool``): a run worker per run would cost seconds each. Its runs are created as the UI and the daemon create
theirs: with their job's origin in this code location. A run without one belongs to no job the UI shows: the
Overview timeline (the landing page) leaves it out, and the job's pages do not list it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from huracan_dagster.dagster_internals import execute_as_code_location_run

#: the project's workspace file (the code location ``huracan``); an installed package has none
WORKSPACE = Path(__file__).resolve().parents[2] / "workspace.yaml"
DEFS_MODULE = "huracan_dagster.defs"


def ui_target_args() -> list[str]:
    """What ``dagster dev`` loads: the workspace file, or the definitions' module where there is none."""
    return ["-w", str(WORKSPACE)] if WORKSPACE.is_file() else ["-m", DEFS_MODULE]


@dataclass(frozen=True)
class CodeLocationRuns:
    """Runs of the code location's jobs on ``instance``; ``repository`` is the name the code location gives the
    definitions (``defs.get_repository_def().name``)."""

    instance: dg.DagsterInstance
    repository: str

    def execute(
        self,
        job: dg.JobDefinition,
        *,
        assets: Sequence[dg.AssetKey] | None,
        tags: Mapping[str, str],
        run_config: Mapping[str, Any],
    ) -> dg.ExecutionResult:
        """``job`` (its ``assets``, or all of them) executed here, as a run of the job the UI shows."""
        return execute_as_code_location_run(
            job,
            self.instance,
            workspace=WORKSPACE if WORKSPACE.is_file() else None,
            module=DEFS_MODULE,
            repository=self.repository,
            assets=assets,
            tags=tags,
            run_config=run_config,
        )
