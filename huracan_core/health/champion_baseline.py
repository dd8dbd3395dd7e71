"""The champion's out-of-sample baseline, read from its verified model folder.

A promoted champion always has ``oos_trades.parquet`` (the promotion weighed it), so a folder without it is an
error naming the folder, not a day judged against nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from huracan_core.health.anomalies import Baseline, baseline_of
from huracan_core.models.artifacts import read_model_folder
from huracan_core.models.day_models import OOS_TRADES_FILE
from huracan_core.storage.store import ArtifactStore


def champion_baselines(store: ArtifactStore, folders: Iterable[str]) -> dict[str, Baseline | None]:
    """Each folder's baseline (None: fewer than two out-of-sample trades to compare with), each read once."""
    out: dict[str, Baseline | None] = {}
    for folder in set(folders):
        files = read_model_folder(store, folder, required=(OOS_TRADES_FILE,))
        out[folder] = baseline_of(pl.read_parquet(files[OOS_TRADES_FILE]))
    return out
