"""The ``huracan`` command: options, the runs of a window, status, and the services it starts."""

from huracan_dagster.cli.main import main

__all__ = ["main"]
