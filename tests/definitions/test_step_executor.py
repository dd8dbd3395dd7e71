"""The steps-over-workers profile as the settings decide it: in process unless ``HURACAN_EXECUTOR=celery``; then
every job's steps go to the configured queue, the broker's URL (and its password) reaches the runs through its
variable only, and the workers take steps on the very options the code location sends them with."""

from __future__ import annotations

import pytest

from huracan_dagster.cli.main import main
from huracan_dagster.cli.workers import celery_app
from huracan_dagster.defs.definitions import build_definitions
from huracan_dagster.defs.step_executor import STEP_TASK, celery_app_options, celery_executor_config
from huracan_dagster.settings import DEFAULT_CELERY_BROKER, Settings

SECRET_BROKER = "redis://:s3cret@10.0.0.5:6379/1"


def _jobs(settings: Settings) -> list:
    return [job for job in build_definitions(settings).resolve_all_job_defs() if not job.name.startswith("__")]


def test_every_job_executes_in_process_unless_the_celery_profile_is_chosen(huracan_home, monkeypatch):
    assert {job.executor_def.name for job in _jobs(Settings.from_env())} == {"in_process"}
    monkeypatch.setenv("HURACAN_EXECUTOR", "celery")
    assert {job.executor_def.name for job in _jobs(Settings.from_env())} == {"huracan_celery"}


def test_an_unknown_executor_is_refused_naming_the_variable():
    with pytest.raises(ValueError, match="HURACAN_EXECUTOR='k8s': give in_process or celery"):
        Settings.from_env({"HURACAN_EXECUTOR": "k8s"})


def test_the_broker_defaults_to_loopback_redis_with_its_results_beside_it():
    config = celery_executor_config(Settings.from_env({"HURACAN_EXECUTOR": "celery"}))
    assert config["broker"] == config["backend"] == DEFAULT_CELERY_BROKER
    assert DEFAULT_CELERY_BROKER.startswith("redis://127.0.0.1:")
    rabbit = Settings.from_env({"HURACAN_CELERY_BROKER": "amqp://guest@127.0.0.1:5672//"})
    assert rabbit.celery_backend == "rpc://"  # RabbitMQ's reply queues: no second service for the results


def test_a_broker_url_with_a_password_reaches_the_runs_through_its_variable_only():
    settings = Settings.from_env({"HURACAN_EXECUTOR": "celery", "HURACAN_CELERY_BROKER": SECRET_BROKER})
    config = celery_executor_config(settings)
    assert config["broker"] == config["backend"] == {"env": "HURACAN_CELERY_BROKER"}
    assert "s3cret" not in repr(config) and "s3cret" not in repr(settings)
    backend = Settings.from_env({"HURACAN_CELERY_BROKER": SECRET_BROKER, "HURACAN_CELERY_BACKEND": "rpc://"})
    assert celery_executor_config(backend)["backend"] == {"env": "HURACAN_CELERY_BACKEND"}


def test_workers_take_steps_on_the_options_the_code_location_sends_them_with():
    settings = Settings.from_env(
        {"HURACAN_EXECUTOR": "celery", "HURACAN_CELERY_BROKER": SECRET_BROKER, "HURACAN_CELERY_QUEUE": "desk-a"}
    )
    app = celery_app(settings)
    options = celery_app_options("desk-a")
    assert options == celery_executor_config(settings)["config_source"]
    for name, value in options.items():
        assert app.conf[name] == value, name
    assert (app.conf.broker_url, app.conf.result_backend) == (SECRET_BROKER, SECRET_BROKER)
    assert STEP_TASK in app.tasks
    # a step is acknowledged once it ended, and a pool process lost mid-step has it sent again once, at once
    assert app.conf.task_acks_late and app.conf.task_retry_on_worker_lost
    assert app.conf.task_annotations[STEP_TASK] == {"max_retries": 1, "default_retry_delay": 0}


def test_workers_without_the_celery_profile_are_a_usage_error(huracan_home, capsys):
    assert main(["workers"]) == 2
    assert "HURACAN_EXECUTOR is in_process" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "variable"),
    [(["--timeframe", "1h"], "HURACAN_TIMEFRAME"), (["--source", "replay:/x"], "HURACAN_SOURCE")],
)
def test_over_workers_a_run_cannot_override_what_the_workers_read(huracan_home, capsys, monkeypatch, option, variable):
    monkeypatch.setenv("HURACAN_EXECUTOR", "celery")
    with pytest.raises(SystemExit) as exit_status:
        main(["run", *option])
    assert exit_status.value.code == 2
    assert f"differs from {variable}=" in capsys.readouterr().err
