"""Each run's stdout and stderr, captured to the files the UI shows, without Dagster's mirror to the terminal.

Dagster's ``LocalComputeLogManager`` copies the captured files back to the process's own stdout and stderr with a
``tail -F`` per stream, each watched by a Python process that ends the tail if the run's process dies: four
processes for every run, about 40 ms of CPU a run on a 2-core machine (``bench/bench_compute_logs.py``). A process
killed between starting a tail and starting its watcher (a ``huracan run`` helper, a run worker) leaves that tail
following the file for ever, holding open whatever pipe the command's output goes to. The mirror showed nothing the
UI does not: ``huracan run`` prints its own summary, with the console log off. This manager writes the same files in
the same places (the UI reads them as Dagster's own) and starts no process.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from huracan_dagster.dagster_internals import (
    CapturedLogContext,
    ConfigurableClassData,
    LocalComputeLogManager,
    redirect_to_file,
)
from huracan_dagster.instance.base_dir import base_dir, base_dir_config


class FileComputeLogManager(LocalComputeLogManager):
    @classmethod
    def config_type(cls) -> dict:
        return base_dir_config()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: dict) -> FileComputeLogManager:
        return cls(base_dir(config_value, "storage"), inst_data=inst_data)

    @contextmanager
    def capture_logs(self, log_key: Sequence[str]) -> Iterator[CapturedLogContext]:
        out = self.get_captured_local_path(log_key, "out")
        err = self.get_captured_local_path(log_key, "err")
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with redirect_to_file(sys.stdout, out), redirect_to_file(sys.stderr, err):
            yield CapturedLogContext(log_key)
        Path(self.complete_artifact_path(log_key)).touch()  # as Dagster's: the UI stops waiting for more
