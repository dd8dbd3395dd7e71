"""Before a command opens the instance or starts a run: the services it needs answer, or one line names the
variable of the one that does not, with the cause.

Without this, an unreachable ``HURACAN_PG_URL`` surfaced as Dagster's ``DagsterPostgresException: too many
retries`` after 16 s of retries and a 189-line traceback; a dead S3 endpoint or MLflow database as a run that
failed half-way. Each probe is one connection with a short timeout; a setting left at its default (a file under
``HURACAN_HOME``) needs none.
"""

from __future__ import annotations

from huracan_core.health import State, probe
from huracan_core.urls import without_password
from huracan_dagster.health import PROBE_TIMEOUT_S, services
from huracan_dagster.settings import Settings

#: the services each command uses, by the variable that names them
NEEDS = {
    "run": ("HURACAN_PG_URL", "HURACAN_MLFLOW_URI", "HURACAN_S3_URL"),
    "status": ("HURACAN_PG_URL",),
    "ui": ("HURACAN_PG_URL",),
    "mlflow": ("HURACAN_MLFLOW_URI",),
}


def unreachable(settings: Settings, command: str, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """``VARIABLE=value: cause`` for the first service ``command`` needs that does not answer; None when all do."""
    configured = {
        "HURACAN_PG_URL": (settings.pg_url, lambda: services.instance_database(settings, timeout_s)),
        "HURACAN_MLFLOW_URI": (settings.mlflow_uri, lambda: services.mlflow_store(settings, timeout_s)),
        "HURACAN_S3_URL": (settings.s3_url, lambda: services.archive(settings, timeout_s)),
    }
    for variable in NEEDS.get(command, ()):
        value, check = configured[variable]
        if not value:
            continue
        status = probe(variable, check)
        if status.state is State.DOWN:
            endpoint = (
                f" (HURACAN_S3_ENDPOINT={settings.s3_endpoint})"
                if variable == "HURACAN_S3_URL" and settings.s3_endpoint
                else ""
            )
            return f"{variable}={without_password(value)}{endpoint}: {status.detail.removeprefix(without_password(value) + ': ')}"
    return None
