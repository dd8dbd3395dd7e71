"""What a coin model sees: one row per bar of candles, scale-free features, regime and the engines' signals
(+ the shared encoder's embedding), with the forward-looking labels beside it as targets only.

Features in price or volume units (``Feature.units``: moving averages, Bollinger bands, ATR in price, MACD, OBV,
PVT, volume averages) are left out of the model inputs: their values follow the coin's price level (BTC's SMA is
60,000, XRP's 0.55), so a split on them learns the level of the training months, not a pattern that recurs, and
the encoder is shared across coins. Their scale-free forms (``price_vs_sma20``, ``atr_pct``, ``bb_position``,
``volume_ratio`` …) are in. The list is the recipe's own declaration, never restated here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from huracan_core.day_keys import DayKey
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.models.lookahead_labels import LABEL_PREFIXES
from huracan_core.trading.bars import join_bars

if TYPE_CHECKING:
    from huracan_core.models.encoder import FittedEncoder

REGIME_FLAGS = ("TREND", "RANGE", "PANIC")
CONSENSUS_INPUTS = ("direction", "confidence", "expected_edge_bps", "cost_bps")
#: the side a stacked row asks about: +1 long, −1 short (one booster predicts both)
SIDE = "side"


def feature_inputs(feature_columns: Sequence[str], timeframe: str) -> list[str]:
    """The scale-free features among ``feature_columns`` (a features partition's columns), in their order; a
    column the timeframe's recipe does not declare is refused, naming it (it could be in any units)."""
    recipe = FeatureRecipe.default(timeframe)
    unknown = sorted(set(feature_columns) - {f.name for f in recipe.features})
    if unknown:
        raise ValueError(
            f"feature columns {unknown} are not in the {timeframe} recipe {recipe.version_hash}: their units are unknown"
        )
    allowed = set(recipe.scale_free_columns)
    return [c for c in feature_columns if c in allowed]


def signal_inputs(signals: pl.DataFrame) -> list[str]:
    """Each engine's direction and confidence, and the consensus' numbers (the reasons are text for people)."""
    engines = [c for c in signals.columns if c.endswith(("_direction", "_confidence")) and c not in CONSENSUS_INPUTS]
    return [*engines, *(f"consensus_{c}" for c in CONSENSUS_INPUTS)]


def model_bars(
    candles: Sequence[pl.DataFrame],
    features: Sequence[pl.DataFrame],
    regimes: Sequence[pl.DataFrame],
    signals: Sequence[pl.DataFrame],
    labels: Sequence[pl.DataFrame] = (),
) -> pl.DataFrame:
    """Per-day frames joined on timestamp: candles, features, regime, then ``with_signals``."""
    return with_signals(join_bars(candles, features, regimes), signals, labels)


def with_signals(
    bars: pl.DataFrame, signals: Sequence[pl.DataFrame], labels: Sequence[pl.DataFrame] = ()
) -> pl.DataFrame:
    """``bars`` (``join_bars``) with one-hot regime flags, the signals (consensus columns prefixed ``consensus_``)
    and the labels when given: what a coin model reads, and learns from."""
    bars = bars.with_columns(
        [(pl.col("regime") == r).cast(pl.Float64).fill_null(0.0).alias(f"regime_{r.lower()}") for r in REGIME_FLAGS]
    )
    votes = pl.concat(list(signals), how="vertical_relaxed").drop("regime")
    votes = votes.rename({c: f"consensus_{c}" for c in CONSENSUS_INPUTS}).rename(
        {"recommendation": "consensus_recommendation"}
    )
    bars = bars.join(votes, on="timestamp", how="inner", maintain_order="left")
    if labels:
        bars = bars.join(
            pl.concat(list(labels), how="vertical_relaxed"), on="timestamp", how="left", maintain_order="left"
        )
    return bars.sort("timestamp")


def input_columns(
    feature_columns: Sequence[str], signals: pl.DataFrame, timeframe: str, embedding: Sequence[str] = ()
) -> list[str]:
    """The model's columns, in order (stored in ``features.json``); refuses a label among them."""
    columns = [
        *feature_inputs(feature_columns, timeframe),
        "regime_confidence",
        *(f"regime_{r.lower()}" for r in REGIME_FLAGS),
        *signal_inputs(signals),
        *embedding,
    ]
    leaked = [c for c in columns if c.startswith(LABEL_PREFIXES) or c in ("label_end", "complete")]
    if leaked:
        raise ValueError(f"label columns would be model inputs: {leaked}")
    return columns


def matrix(frame: pl.DataFrame, columns: Sequence[str], side: int | None = None) -> np.ndarray:
    """float64 rows × columns (nulls as NaN, which LightGBM treats as missing), plus the side column when given."""
    x = frame.select([pl.col(c).cast(pl.Float64) for c in columns]).to_numpy()
    x = np.where(np.isfinite(x), x, np.nan)
    return x if side is None else np.hstack([x, np.full((x.shape[0], 1), float(side))])


def frames_for(frames: Mapping[DayKey, pl.DataFrame], keys: Sequence[DayKey]) -> list[pl.DataFrame]:
    return [frames[k] for k in keys if k in frames]


def with_embedding(bars: pl.DataFrame, encoder: FittedEncoder | None) -> pl.DataFrame:
    """The bars with the shared encoder's ``emb_*`` columns (row-wise, so as causal as the features)."""
    return bars if encoder is None else bars.hstack(encoder.embed(bars))
