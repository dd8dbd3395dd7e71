"""A search in MLflow: one parent run per search, one child run per candidate and coin, in the training experiment.

The parent carries the space, the window, the number of candidates and what the search concluded; each child its
candidate's parameters and out-of-sample figures, and for a coin's selected candidate the corrections' figures
(DSR, SPA p, PBO, stability, against holding). MLflow's runs table nests the children under the parent, so a
search reads as one row that opens onto every candidate it tried: the count the corrections were made for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import polars as pl

from huracan_core.models.tracking import TrackingConfig, experiment_for, logging_batches, mlflow_key, tracking_client

PARENT_TAG = "mlflow.parentRunId"
#: the numeric columns of a candidate row logged as metrics (nulls and NaN are left out: not measured)
METRIC_COLUMNS = (
    "trials",
    "trades",
    "net_bps",
    "net_pnl",
    "sharpe",
    "ic_mean",
    "top_quintile_net_bps",
    "dsr",
    "spa_p",
    "pbo",
    "quarters_positive",
    "max_year_share",
    "sharpe_vs_hold",
    "hold_sharpe",
)


def log_search(config: TrackingConfig, search_id: str, candidates: pl.DataFrame, params: Mapping[str, object]) -> str:
    """The parent run's id; ``params``: the search's own (space, window, symbols)."""
    client = tracking_client(config)
    experiment = experiment_for(client, config)
    admitted = int(candidates["admitted"].sum())
    parent = client.create_run(
        experiment,
        run_name=f"research {search_id} · {admitted} admitted of {candidates['symbol'].n_unique()} coins",
        tags={"huracan.kind": "research", "huracan.search_id": search_id},
    )
    _log(client, parent.info.run_id, {"candidates": float(candidates.height), "admitted": float(admitted)}, params, {})
    client.set_terminated(parent.info.run_id)
    for row in candidates.iter_rows(named=True):
        verdict = "ADMITTED" if row["admitted"] else ("selected, not admitted" if row["selected"] else "tried")
        child = client.create_run(
            experiment,
            run_name=f"{row['symbol']} {row['candidate']} · {verdict}",
            tags={PARENT_TAG: parent.info.run_id, "huracan.kind": "research-candidate", "huracan.search_id": search_id},
        )
        metrics = {c: float(row[c]) for c in METRIC_COLUMNS if _measured(row.get(c))}
        given = {k: row[k] for k in ("symbol", "candidate", "timeframe", "exit", "family", "encoder")}
        tags = {"verdict": row["verdict"], "gates_passed": str(row["gates_passed"]).lower()}
        _log(client, child.info.run_id, metrics, given, tags)
        client.set_terminated(child.info.run_id)
    return parent.info.run_id


def _log(
    client, run_id: str, metrics: Mapping[str, float], params: Mapping[str, object], tags: Mapping[str, str]
) -> None:
    for m, p, t in logging_batches(
        {(mlflow_key(k), 0): v for k, v in metrics.items()},
        {mlflow_key(k): str(v)[:500] for k, v in params.items()},
        {mlflow_key(k): str(v)[:5000] for k, v in tags.items()},
    ):
        client.log_batch(run_id, metrics=m, params=p, tags=t)


def _measured(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
