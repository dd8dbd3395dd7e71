"""Where a run's steps execute: in the run's own process (the default), or each on a Celery worker (``huracan
workers``) through dagster-celery, the deployment profile ``HURACAN_EXECUTOR=celery`` (docs/operations.md#steps-over-workers).

The Celery options below are the whole contract between the runs that send steps and the workers that take them:
both build their Celery app from ``celery_app_options``, so a worker can never disagree with the code location about
when a step counts as done.
"""

from __future__ import annotations

import warnings
from typing import Any

import dagster as dg

from huracan_dagster.settings import Settings

#: dagster-celery's step task, the only one the workers run (Dagster's run worker orchestrates, the steps travel)
STEP_TASK = "execute_plan"
#: How long Redis waits before it hands a step that no worker acknowledged to another worker. A step is acknowledged
#: when it ends, so this must exceed the longest step (a year's ranged ``coin_model`` on one worker), or a step still
#: running would start a second time elsewhere; a worker that vanished whole (its machine) hands its step back only
#: after it. RabbitMQ needs no such bound: it hands a step back as soon as its worker's connection drops.
VISIBILITY_TIMEOUT_S = 12 * 3600


def celery_app_options(queue: str) -> dict[str, Any]:
    """The Celery settings of the code location's executor and of every worker (``config_source``)."""
    return {
        "task_default_queue": queue,
        # a worker holds only the step it runs; the others wait in the queue for whichever worker is free
        "worker_prefetch_multiplier": 1,
        # acknowledged when the step has ended, not when it was received: a worker lost mid-step gives it back
        "task_acks_late": True,
        # a pool process killed mid-step (the OOM killer, kill -9) is noticed by its worker at once: the step is sent
        # again, once, to any worker; lost a second time, it fails and the run fails naming it (no endless loop)
        "task_retry_on_worker_lost": True,
        "task_annotations": {STEP_TASK: {"max_retries": 1, "default_retry_delay": 0}},
        # a step whose message the broker would hand out again (connection lost) is stopped rather than run twice
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT_S},
    }


def step_executor(settings: Settings) -> dg.ExecutorDefinition:
    """``in_process_executor``, or dagster-celery's ``celery_executor`` on the configured broker and queue.

    In process: a run's steps are a chain (candles → features → … of one range), so a process per step buys no
    parallelism and costs an interpreter start and every import, 3–4 s, per step; the cores are shared by running
    several runs at once (the run queue's limit). Over workers: the steps of every run go to one queue that workers
    on any number of machines take from, so a backfill's runs spread over all of them.
    """
    if settings.executor == "in_process":
        return dg.in_process_executor
    from celery.exceptions import DuplicateTaskNameWarning
    from dagster_celery import celery_executor

    # dagster-celery registers its step task again for every step it sends (the same function each time), which
    # Celery 5.7 reports once per run: known, and harmless
    warnings.filterwarnings("ignore", message=f"Task name '{STEP_TASK}'", category=DuplicateTaskNameWarning)

    return celery_executor.configured(celery_executor_config(settings), name="huracan_celery")


def celery_executor_config(settings: Settings) -> dict[str, Any]:
    """The executor's config: the broker's and backend's variables (not their values), the queue and the options."""
    return {
        "broker": _url_source(settings, settings.celery_broker),
        "backend": _url_source(settings, settings.celery_backend),
        "config_source": celery_app_options(settings.celery_queue),
    }


def _url_source(settings: Settings, url: str) -> str | dict[str, str]:
    """The variable that holds ``url`` (a broker URL may carry a password), read by each run's process and never
    copied into the definitions; the loopback default as it is."""
    for variable in ("HURACAN_CELERY_BACKEND", "HURACAN_CELERY_BROKER"):
        if settings.env.get(variable) == url:
            return {"env": variable}
    return url
