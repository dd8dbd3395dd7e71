"""Which model trades a day: the newest gate-passing coin model trained before the day starts, verified on load.

A model that failed its gates never trades; a model whose training data reaches into the day (or later) is never
even considered; a chosen model whose files do not match their ``sha256.txt`` is refused with an error naming the
folder and the file — never replaced silently by an older one, because that would hide a damaged archive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey, label
from huracan_core.models.artifacts import CorruptModelError
from huracan_core.models.policy import CoinModel, load_coin_model
from huracan_core.storage.store import ArtifactStore
from huracan_core.symbols import to_key


def choose_models(
    store: ArtifactStore, index: Mapping[DayKey, pl.DataFrame], wanted: Sequence[DayKey]
) -> tuple[dict[DayKey, CoinModel], dict[DayKey, str]]:
    """``index``: ``coin_model`` partitions (one row each) of the days before and of each wanted day.

    Returns the model of each wanted key that has one, and for the others why none was usable.
    """
    models, reasons, loaded = {}, {}, {}
    for day, symbol in wanted:
        start = day_start(day)
        rows = sorted(
            (row for (d, s), frame in index.items() if to_key(s) == to_key(symbol) for row in frame.iter_rows(named=True)
             if row["cutoff"] <= start),
            key=lambda r: r["cutoff"],
        )
        passing = [r for r in rows if r["passed"]]
        if not passing:
            reasons[(day, symbol)] = (
                f"rules-only: newest model ({rows[-1]['day']}) {rows[-1]['gate_summary']}" if rows
                else "rules-only: no coin model trained before this day"
            )
            continue
        folder = passing[-1]["folder"]
        if folder not in loaded:
            try:
                loaded[folder] = load_coin_model(store, folder)
            except CorruptModelError as error:
                raise CorruptModelError(f"shadow_trades {label((day, symbol))}: the model it must trade is refused: {error}") from error
        models[(day, symbol)] = loaded[folder]
    return models, reasons
