"""A run's stdout and stderr (``huracan_dagster/instance/compute_logs.py``) land in the files the UI reads, where
Dagster's own manager keeps them, with no process started beside the run and nothing copied to the terminal: Dagster's
mirror starts a ``tail -F`` and a watcher per stream, and a tail whose process is killed before its watcher starts
follows the file for ever, holding the terminal's pipe open."""

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from huracan_dagster.dagster_internals import LocalComputeLogManager
from huracan_dagster.instance.compute_logs import FileComputeLogManager
from huracan_dagster.instance.prepare import prepare_dagster_home
from huracan_dagster.settings import Settings
from tests.conftest import use_home
from tests.e2e.test_failures import REPO
from tests.ui.processes import descendants

RUN = """
import json, sys
import dagster as dg
from tests.definitions.test_compute_logs import talkative
instance = dg.DagsterInstance.get() if sys.argv[1] == "home" else dg.DagsterInstance.local_temp(sys.argv[1])
result = dg.materialize([talkative], instance=instance)
[entry] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.LOGS_CAPTURED)
print(json.dumps([result.run_id, entry.dagster_event.logs_captured_data.file_key]), file=open(sys.argv[2], "w"))
"""


@dg.asset
def talkative() -> None:
    print("to stdout from the step", flush=True)
    print("to stderr from the step", file=sys.stderr, flush=True)
    os.write(2, b"to stderr below Python\n")  # what a library's C code writes lands in the file too
    below = descendants(os.getpid())  # what the capture started beside the run
    print(f"children: {json.dumps(sorted(Path(f'/proc/{pid}/comm').read_text().strip() for pid in below))}", flush=True)


def run(instance: str, out: Path) -> tuple[str, str, str]:
    """``talkative`` materialized in a process of its own on ``instance`` ("home": the one ``DAGSTER_HOME`` names;
    otherwise a folder for Dagster's default instance): its run, its file key and the process's terminal output."""
    done = subprocess.run(
        [sys.executable, "-c", RUN, instance, str(out)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return *json.loads(out.read_text()), done.stdout + done.stderr


def test_a_runs_output_is_in_dagsters_files_with_no_process_beside_it_nor_copy_on_the_terminal(
    tmp_path: Path, monkeypatch
) -> None:
    use_home(tmp_path / "home", monkeypatch)  # every variable, DAGSTER_HOME too, undone after the test
    home = prepare_dagster_home(Settings.from_env())  # the instance ``huracan`` and the UI use
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.compute_log_manager, FileComputeLogManager)
    run_id, file_key, terminal = run("home", tmp_path / "run.json")

    stock = LocalComputeLogManager(str(home / "storage"))  # Dagster's own reader, where its default keeps the files
    log_key = stock.build_log_key_for_run(run_id, file_key)
    logs = stock.get_log_data(log_key)
    assert b"to stdout from the step" in logs.stdout and b"children: []" in logs.stdout  # no tail, no watcher
    assert b"to stderr from the step" in logs.stderr and b"to stderr below Python" in logs.stderr
    assert b"to stderr" not in logs.stdout and b"to stdout" not in logs.stderr
    assert stock.is_capture_complete(log_key)  # the UI stops waiting for more
    assert "from the step" not in terminal and "below Python" not in terminal

    (tmp_path / "stock").mkdir()
    *_, mirrored = run(str(tmp_path / "stock"), tmp_path / "stock.json")  # Dagster's default manager, the control
    assert "to stdout from the step" in mirrored and "below Python" in mirrored
    assert '"tail"' in mirrored
