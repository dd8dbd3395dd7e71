"""Huracan's Dagster code location: assets, resources, IO managers, checks and the ``huracan`` command.

Thin glue only: every asset loads its inputs, calls one ``huracan_core`` function and writes the result.
"""

import warnings

from dagster._utils.warnings import BetaWarning

# Backfill policies are how a UI backfill avoids a process per partition (partitions.py says why each asset has
# its own); Dagster marks the parameter beta, and the daily job, which holds both policies, warns that a *job*
# backfill uses the smaller. Both are known and chosen: said once here, not on every load.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=BetaWarning)
warnings.filterwarnings("ignore", message="Asset job .* materializes assets with varying BackfillPolicies", category=UserWarning)
