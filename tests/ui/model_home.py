"""One coin model in a home, as cheaply as a real one comes: the chain of one coin up to its ``coin_model`` of one
day, trained on a short history with a small walk-forward, no shared encoder, into the home's own instance,
archive and MLflow store (what ``huracan ui`` then shows).

The code location defines ``coin_model`` with its 150 training days; the materialization and its checks are
recorded under the same keys, so the UI shows them as it shows any.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from huracan_core.features.recipe import FeatureRecipe
from huracan_core.trading.signals import WARMUP_DAYS
from huracan_dagster.defs.assets.features import history_days
from huracan_dagster.defs.definitions import timeframe_assets
from huracan_dagster.defs.partitions import asset_key, partition_key
from huracan_dagster.defs.resources import MLflowResource, ModelSettingsResource
from huracan_dagster.settings import Settings
from tests.assets.pipeline import materialize

TRAIN_DAYS = 12
#: one fold of 8 training and 4 test days: enough for a real verdict, a few seconds to train
MODELS = ModelSettingsResource(
    walk_forward_train_days=8, walk_forward_test_days=4, walk_forward_step_days=4, rounds=20, use_encoder=False
)


def train_one_model(settings: Settings, day: date, symbol: str, reference: str) -> str:
    """The ``coin_model`` partition of ``day`` × ``symbol`` (``reference``: the recipe's reference coin, whose
    candles the features read too), and every input it reads; returns its partition key."""
    tf = settings.timeframe
    assets = timeframe_assets(tf, train_days=TRAIN_DAYS)
    extra = {"models": MODELS, "mlflow": MLflowResource.for_home(settings.home)}
    first_signal = day - timedelta(days=TRAIN_DAYS)
    first_feature = first_signal - timedelta(days=WARMUP_DAYS)
    first_candle = first_feature - timedelta(days=history_days(FeatureRecipe.default(tf)))
    phases = [  # each reads what the one before wrote; labels finish their last trades on the model's own day
        (first_candle, day, ["candles"], [reference, symbol]),
        (first_feature, day, ["features", "regimes", "market_quotes"], [symbol]),
        (first_signal, day - timedelta(days=1), ["signals", "labels"], [symbol]),
        (day, day, ["coin_model"], [symbol]),
    ]
    with dg.DagsterInstance.get() as instance:
        for start, end, names, symbols in phases:
            result = materialize(
                instance,
                settings.archive_root,
                start.isoformat(),
                end.isoformat(),
                symbols,
                assets=assets,
                selection=[asset_key(tf, n) for n in names],
                extra_resources=extra,
                source=settings.source,
            )
            assert result.success, f"{names} {start}..{end} failed"
    return partition_key(day, symbol)
