"""Which model trades a day: the coin's champion in force at the start of the day, verified on load.

The ``champion`` partition of (D, symbol) names it (or says why the coin has none, and the rules-only consensus
trades). Its model was trained on data that ended before D, and its folder must match its ``sha256.txt``: a
champion that fails verification is refused with an error naming the folder and the file — never replaced
silently by the rules or an older model, because that would hide a damaged archive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from huracan_core.day_keys import DayKey, keyed, label, require
from huracan_core.models.artifacts import CorruptModelError
from huracan_core.models.policy import CoinModel, load_coin_model
from huracan_core.storage.store import ArtifactStore
from huracan_core.symbols import to_key


def choose_models(
    store: ArtifactStore, champions: Mapping[DayKey, pl.DataFrame], wanted: Sequence[DayKey]
) -> tuple[dict[DayKey, CoinModel], dict[DayKey, str]]:
    """``champions``: the ``champion`` partition (one row) of each wanted key.

    Returns the model of each wanted key whose coin has a champion, and for the others why it has none.
    """
    champions = keyed(champions)
    require("champion (the decision of who trades the day)", champions, wanted)
    models, reasons, loaded = {}, {}, {}
    for day, symbol in wanted:
        row = champions[(day, to_key(symbol))].row(0, named=True)
        folder = row["champion_folder"]
        if not folder:
            reasons[(day, symbol)] = f"rules-only: no champion ({row['reason']})"
            continue
        if folder not in loaded:
            try:
                loaded[folder] = load_coin_model(store, folder)
            except CorruptModelError as error:
                raise CorruptModelError(
                    f"shadow_trades {label((day, symbol))}: the champion it must trade is refused: {error}"
                ) from error
        models[(day, symbol)] = loaded[folder]
    return models, reasons
