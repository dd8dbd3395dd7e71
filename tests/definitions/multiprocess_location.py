"""A code location whose job runs each step in a process of its own: what a run over workers must be, a job that
another process loads by itself (``test_dagster_internals``, use 9)."""

import dagster as dg


@dg.asset
def one() -> None: ...


@dg.asset
def two() -> None: ...


defs = dg.Definitions(
    assets=[one, two], jobs=[dg.define_asset_job("both", [one, two])], executor=dg.multiprocess_executor
)
