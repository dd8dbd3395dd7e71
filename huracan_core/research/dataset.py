"""What every candidate of one timeframe reads: each coin's bars (candles, features, regime, the engines' votes),
the cross-sectional ranks, the shared encoder's embedding, the labels of each exit and the cost of holding the coin.

Built once per timeframe and search, before any candidate runs, by the same core functions as the daily chain
(``FeatureRecipe.compute_many``, ``RegimeDetector``, ``consensus.vote``, ``label_bars``) over one continuous frame
per coin. Everything a model sees is causal: features and votes are trailing, a cross-sectional rank compares
coins at the same bar, and the encoder is fit on the first fold's training span only, so every test window lies
after all it saw. Labels look forward and are targets only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from huracan_core.features.recipe import FeatureRecipe
from huracan_core.models.encoder import EncoderConfig, FittedEncoder, fit_encoder
from huracan_core.models.inputs import feature_inputs, input_columns, with_signals
from huracan_core.models.lookahead_labels import label_bars
from huracan_core.models.walk_forward import WalkForwardConfig
from huracan_core.regimes.detector import RegimeDetector
from huracan_core.symbols import to_key
from huracan_core.trading.bars import LINEAGE_COLUMNS, join_bars
from huracan_core.trading.consensus import vote
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig

#: the prefix of a cross-sectional rank column (``xs_rsi_14``: the coin's rank of ``rsi_14`` in the universe, 0..1)
CROSS_PREFIX = "xs_"


@dataclass(frozen=True)
class TimeframeData:
    """One timeframe's inputs for every coin. ``bars[symbol]`` holds the model inputs (cross-sectional ranks and
    embedding included) without labels; ``labels[(exit name, symbol)]`` the lookahead outcomes of that exit."""

    timeframe: str
    bars: dict[str, pl.DataFrame]
    labels: dict[tuple[str, str], pl.DataFrame]
    #: a per-coin model's inputs (no embedding)
    columns: list[str]
    cross_columns: list[str]
    embedding: list[str]
    #: the encoder behind ``embedding`` (in the process that built the inputs; a worker reads the columns only)
    encoder: FittedEncoder | None = None

    def model_bars(self, exit_name: str, symbol: str) -> pl.DataFrame:
        return self.bars[symbol].join(
            self.labels[(exit_name, symbol)], on="timestamp", how="left", maintain_order="left"
        )

    def inputs(self, family: str, encoder: bool) -> list[str]:
        pooled = self.cross_columns if family != "coin_lgbm" else []
        return [*self.columns, *pooled, *(self.embedding if encoder else [])]

    def save(self, folder: Path) -> None:
        """Parquet files a worker process reads back (``load``): processes share no polars frame."""
        folder.mkdir(parents=True, exist_ok=True)
        for symbol, frame in self.bars.items():
            frame.write_parquet(folder / f"bars.{to_key(symbol)}.parquet")
        for (name, symbol), frame in self.labels.items():
            frame.write_parquet(folder / f"labels.{name}.{to_key(symbol)}.parquet")
        meta = {"columns": self.columns, "cross_columns": self.cross_columns, "embedding": self.embedding}
        (folder / "meta.json").write_text(
            json.dumps({**meta, "symbols": sorted(self.bars), "exits": sorted({n for n, _ in self.labels})})
        )

    @classmethod
    def load(cls, folder: Path, timeframe: str) -> TimeframeData:
        meta = json.loads((folder / "meta.json").read_text())
        symbols, exits = meta.pop("symbols"), meta.pop("exits")
        bars = {s: pl.read_parquet(folder / f"bars.{to_key(s)}.parquet") for s in symbols}
        labels = {(n, s): pl.read_parquet(folder / f"labels.{n}.{to_key(s)}.parquet") for n in exits for s in symbols}
        return cls(timeframe, bars, labels, **meta)


def build_timeframe(
    candles: Mapping[str, pl.DataFrame],
    timeframe: str,
    exits: Mapping[str, ExitConfig],
    *,
    cross_section: Sequence[str],
    encoder_span: tuple[datetime, datetime] | None,
    costs: CostModel,
    exchange: str = "binance",
    encoder_config: EncoderConfig = EncoderConfig(),
) -> TimeframeData:
    """``candles``: each coin's bars of ``timeframe``; ``exits``: the exit configurations labelled, by name;
    ``encoder_span``: the rows the encoder is fit on (None: no encoder)."""
    recipe = FeatureRecipe.default(timeframe)
    features = recipe.compute_many(dict(candles))
    detector = RegimeDetector()
    base: dict[str, pl.DataFrame] = {}
    labels: dict[tuple[str, str], pl.DataFrame] = {}
    votes: dict[str, pl.DataFrame] = {}
    for symbol in sorted(candles):
        feats = features[to_key(symbol)].drop(LINEAGE_COLUMNS, strict=False)
        joined = join_bars([candles[symbol]], [feats], [detector.detect(feats)])
        votes[symbol] = vote(joined, symbol, exchange, costs=costs)
        for name, exit_config in exits.items():
            labels[(name, symbol)] = label_bars(
                joined, votes[symbol], symbol, timeframe, exchange=exchange, costs=costs, exits=exit_config
            )
        base[symbol] = with_signals(joined, [votes[symbol]])
    feature_names = [c for c in features[next(iter(features))].columns if c != "timestamp" and c not in LINEAGE_COLUMNS]
    columns = input_columns(feature_names, next(iter(votes.values())), timeframe)
    unknown = sorted(set(cross_section) - set(feature_inputs(feature_names, timeframe)))
    if unknown:
        raise ValueError(f"cross_section {unknown}: not scale-free features of the {timeframe} recipe")
    base, cross = _with_cross_section(base, cross_section)
    embedding: list[str] = []
    if encoder_span is not None:
        lo, hi = encoder_span
        scale_free = feature_inputs(feature_names, timeframe)
        rows = [b.filter((pl.col("timestamp") >= lo) & (pl.col("timestamp") < hi)) for b in base.values()]
        encoder = fit_encoder([r for r in rows if r.height], scale_free, encoder_config)
        base = {s: b.hstack(encoder.embed(b)) for s, b in base.items()}
        embedding = encoder.embedding_columns
    else:
        encoder = None
    return TimeframeData(timeframe, base, labels, columns, cross, embedding, encoder)


def first_training_span(start: datetime, config: WalkForwardConfig) -> tuple[datetime, datetime]:
    """The first fold's training window: what the encoder may see so that every test window lies after it."""
    return start, start + timedelta(days=config.train_days)


def _with_cross_section(
    bars: dict[str, pl.DataFrame], names: Sequence[str]
) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """Each coin's rank of each named feature among the coins with a value at the same bar, scaled to 0..1
    (null where fewer than two coins have one): a comparison across coins, never across time."""
    if not names:
        return bars, []
    stacked = pl.concat(
        [b.select("timestamp", *names).with_columns(symbol=pl.lit(s)) for s, b in bars.items()], how="vertical"
    )
    ranks = stacked.select(
        "timestamp",
        "symbol",
        *(
            ((pl.col(n).rank("average").over("timestamp") - 1) / (pl.col(n).count().over("timestamp") - 1))
            .fill_nan(None)
            .alias(f"{CROSS_PREFIX}{n}")
            for n in names
        ),
    )
    out = {
        s: b.join(ranks.filter(pl.col("symbol") == s).drop("symbol"), on="timestamp", how="left", maintain_order="left")
        for s, b in bars.items()
    }
    return out, [f"{CROSS_PREFIX}{n}" for n in names]
