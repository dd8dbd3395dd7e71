"""The code location (``huracan_dagster.defs``): assets with their checks, resources, IO manager, partitions,
schedules and sensors. Thin glue only: every asset loads its inputs, calls one ``huracan_core`` function and writes
the result."""

from huracan_dagster.defs.definitions import defs

__all__ = ["defs"]
