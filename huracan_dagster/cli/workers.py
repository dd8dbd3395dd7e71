"""``huracan workers``: a Celery worker that executes the steps of every run of the code location when
``HURACAN_EXECUTOR=celery`` (docs/operations.md#steps-over-workers).

One worker per machine, with a pool of processes that each run one step at a time; a step executes there as it
would in the run's process, loading the code location from this process's environment and writing to the same
instance and Archive. So a worker needs the same ``HURACAN_*`` variables as the code location, and its machine the
same ``HURACAN_HOME`` (or ``HURACAN_PG_URL`` and ``HURACAN_S3_URL``).
"""

from __future__ import annotations

import os
import signal
import sys

from huracan_dagster.settings import Settings


def node_name(pid: int) -> str:
    """Celery's name for the worker: unique per process (two on one machine must not share one), and the host."""
    return f"huracan-{pid}@%h"


def start_workers(settings: Settings, processes: int) -> int:
    """The worker as a service: one Ctrl-C, SIGTERM or SIGHUP stops it and its pool.

    Celery's first SIGINT is a warm shutdown (the pool finishes the steps it runs, takes no more) and pool processes
    ignore it, so the signal passed to the whole group is SIGINT; a SIGTERM to a pool process would kill its step.
    A step still running 20 s later gets the second SIGINT, a cold shutdown: the step is stopped and handed back to
    the queue at once, where a kill would leave it to the broker's visibility timeout.
    """
    from huracan_dagster.cli.main import run_as_service

    print(
        f"huracan workers: {processes} process{'es' * (processes != 1)} taking steps from queue "
        f"{settings.celery_queue!r} of {_redacted(settings.celery_broker)} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})",
        flush=True,
    )
    command = [sys.executable, "-m", "huracan_dagster.cli.workers", str(processes)]
    return run_as_service(command, stop_with=signal.SIGINT, then=signal.SIGINT)


def _redacted(url: str) -> str:
    """The broker's address without its password."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}" if rest else url


def celery_app(settings: Settings):
    """The Celery app of the workers: dagster-celery's, with its step task, on the code location's broker, result
    backend and options (``celery_app_options``), so both ends agree."""
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    from huracan_dagster.defs.step_executor import celery_app_options

    executor = CeleryExecutor.for_cli(
        broker=settings.celery_broker,
        backend=settings.celery_backend,
        config_source=celery_app_options(settings.celery_queue),
    )
    app = make_app(executor.app_args())
    create_task(app)
    return app


def serve(processes: int) -> None:
    """The worker itself (the service's process): it imports the code location before Celery forks its pool, so each
    pool process starts with it loaded (3.4 s of imports once, not once per process)."""
    settings = Settings.from_env()
    app = celery_app(settings)
    import huracan_dagster.defs.definitions  # noqa: F401  (imported for the pool processes it forks)

    app.worker_main(
        [
            "worker",
            "--pool=prefork",
            f"--concurrency={processes}",
            f"--queues={settings.celery_queue}",
            f"--hostname={node_name(os.getpid())}",
            "--loglevel=INFO",
            # workers share nothing but the queue: no start-up exchange or gossip between them
            "--without-mingle",
            "--without-gossip",
        ]
    )


if __name__ == "__main__":
    serve(int(sys.argv[1]))
