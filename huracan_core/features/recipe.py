"""The feature recipe: every named feature, the order to compute them in, a version hash and the history needed.

Shared intermediates are computed once in ``with_columns`` stages derived from which columns each expression
reads (a measured 2x over one giant expression). Many symbols are computed as one lazy frame each, collected
together with ``pl.collect_all`` (a measured 2x over ``.over("symbol")``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

import polars as pl

from huracan_core.features import (
    calendar,
    cross_asset,
    microstructure,
    multi_timeframe,
    oscillators,
    patterns,
    returns,
    trend,
    volatility,
    volume,
)
from huracan_core.features.feature import Feature, finite
from huracan_core.features.smoothing import RESTART_BARS
from huracan_core.symbols import to_key
from huracan_core.timeframes import timeframe_delta
from huracan_core.versions import modules_used, source_hash

CandleFrame = pl.DataFrame | pl.LazyFrame


@dataclass(frozen=True)
class FeatureRecipe:
    """A versioned list of features for one base timeframe (the higher-timeframe flags depend on it)."""

    timeframe: str
    reference_symbol: str
    features: tuple[Feature, ...]

    @classmethod
    def default(cls, timeframe: str = "15m", reference_symbol: str = "BTC/USDT") -> FeatureRecipe:
        families = (
            returns.features(),
            trend.features(),
            volatility.features(),
            oscillators.features(),
            volume.features(),
            microstructure.features(),
            patterns.features(),
            multi_timeframe.features(timeframe),
            cross_asset.features(),
            calendar.features(),
        )
        return cls(timeframe, reference_symbol, tuple(f for family in families for f in family))

    @cached_property
    def output_columns(self) -> list[str]:
        return [f.name for f in self.features if f.is_output]

    @cached_property
    def version_hash(self) -> str:
        """Short hash over what the output depends on: timeframe, reference, every feature's name, lookback and
        parameters, and the expression text — each builder's source and every package module the recipe runs
        (helpers such as the smoothers included), so editing an expression's body changes the hash."""
        builders = list(dict.fromkeys(f.build for f in self.features))
        spec = [self.timeframe, self.reference_symbol] + [
            [f.name, f.family, f.lookback, dict(f.params)] for f in self.features
        ]
        return source_hash(*modules_used(FeatureRecipe, *builders), *builders, extra=spec)

    @cached_property
    def warmup_bars(self) -> int:
        """Bars before the first row where every feature can be defined: prepend this much history."""
        return max(f.lookback for f in self.features) + 1

    @cached_property
    def history_bars(self) -> int:
        """Bars before a day's first bar that its values read: every value is a function of these and the day's own.

        A feature reads ``lookback`` bars through its chain of inputs; each recursive average on the chain restarts
        ``RESTART_BARS`` before its day's first bar, and one that reads another's values reads them as far back as
        the earlier day's restart (one more day of bars per nesting). With this much history a day's values have
        the same bits whether it is computed alone or inside a longer range (``features.windows``), and equal a
        continuous run to 1e-9 relative (the recursions' restarts are that converged).
        """
        by_name = {f.name: f for f in self.features}
        depth: dict[str, int] = {}

        def recursions(f: Feature) -> int:
            if f.name not in depth:
                deps = [by_name[d] for d in f.expr().meta.root_names() if d in by_name and d != f.name]
                depth[f.name] = int(f.recursive) + max((recursions(d) for d in deps), default=0)
            return depth[f.name]

        day_bars = timedelta(days=1) // timeframe_delta(self.timeframe)
        return (
            max(f.lookback + recursions(f) * RESTART_BARS + max(recursions(f) - 1, 0) * day_bars for f in self.features)
            + 1
        )

    @property
    def history_days(self) -> int:
        """Whole days of candles before a day that cover ``history_bars`` and every cumulative line's window."""
        span = timeframe_delta(self.timeframe) * self.history_bars
        return max(-(-span // timedelta(days=1)), *(f.days for f in self.features))

    @property
    def scale_free_columns(self) -> tuple[str, ...]:
        """The output features whose values are scale-free (``Feature.units``): what a model may learn from."""
        return tuple(f.name for f in self.features if f.is_output and not f.is_level)

    @property
    def cumulative_features(self) -> tuple[str, ...]:
        """Lines summed over a window of whole days: a level that steps at midnight; compare changes within a day."""
        return tuple(f.name for f in self.features if f.days and f.is_output)

    def subset(self, names: list[str]) -> FeatureRecipe:
        """A recipe with only ``names`` and what they read (e.g. the TA-Lib-comparable set for benchmarks)."""
        by_name = {f.name: f for f in self.features}
        keep: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name not in keep:
                keep.add(name)
                todo += [d for d in by_name[name].expr().meta.root_names() if d in by_name]
        return FeatureRecipe(self.timeframe, self.reference_symbol, tuple(f for f in self.features if f.name in keep))

    @cached_property
    def inputs(self) -> set[str]:
        """Columns read by some feature but produced by none: candles and the joined cross-asset/HTF inputs."""
        produced = {f.name for f in self.features}
        return {r for f in self.features for r in f.expr().meta.root_names()} - produced

    @cached_property
    def stages(self) -> list[list[Feature]]:
        """Group features into ``with_columns`` stages: a feature runs one stage after the latest it reads."""
        by_name = {f.name: f for f in self.features}
        level: dict[str, int] = {}

        def resolve(f: Feature) -> int:
            if f.name not in level:
                deps = [by_name[d] for d in f.expr().meta.root_names() if d in by_name and d != f.name]
                level[f.name] = 1 + max((resolve(d) for d in deps), default=-1)
            return level[f.name]

        for f in self.features:
            resolve(f)
        stages: list[list[Feature]] = [[] for _ in range(max(level.values()) + 1)]
        for f in self.features:
            stages[level[f.name]].append(f)
        return stages

    def lazy(
        self,
        candles: CandleFrame,
        *,
        symbol: str | None = None,
        reference: CandleFrame | None = None,
        universe_table: pl.LazyFrame | None = None,
        universe_members: list[str] | None = None,
    ) -> pl.LazyFrame:
        """The whole computation as one lazy frame; ``compute`` and ``compute_many`` collect it."""
        frame = candles.lazy()
        if "trades" in self.inputs and "trades" not in frame.collect_schema().names():
            frame = frame.with_columns(pl.lit(None, pl.Int64).alias("trades"))
        if symbol is not None and to_key(symbol) == to_key(self.reference_symbol):
            reference = None
        if "_ref_close" in self.inputs:
            frame = cross_asset.attach_reference(frame, reference)
        if "_rs_rank" in self.inputs:
            members = [to_key(m) for m in universe_members or []]
            frame = cross_asset.attach_rs_rank(frame, universe_table, members, to_key(symbol) if symbol else None)
        if any(name.startswith("_htf_") for name in self.inputs):
            frame = multi_timeframe.attach_htf_trends(frame, self.timeframe)
        for stage in self.stages:
            frame = frame.with_columns([f.expr() for f in stage])
            frame = frame.with_columns([finite(pl.col(f.name)).alias(f.name) for f in stage])
        return frame.select("timestamp", *self.output_columns, pl.lit(self.version_hash).alias("recipe_hash"))

    def compute(
        self,
        candles: CandleFrame,
        *,
        symbol: str | None = None,
        reference: CandleFrame | None = None,
        universe: Mapping[str, CandleFrame] | None = None,
    ) -> pl.DataFrame:
        """Features for one symbol's candles (canonical frame, sorted by timestamp): timestamp + features + recipe_hash.

        ``reference`` gives corr_btc/beta_btc; ``universe`` (symbol -> candles) gives rs_rank/leader_flag.
        """
        table = cross_asset.universe_returns(_keyed(universe)) if universe else None
        members = list(_keyed(universe)) if universe else None
        return self.lazy(
            candles, symbol=symbol, reference=reference, universe_table=table, universe_members=members
        ).collect()

    def compute_many(self, candles_by_symbol: Mapping[str, CandleFrame]) -> dict[str, pl.DataFrame]:
        """All symbols at once: the universe is the given symbols, the reference is ``reference_symbol`` if present."""
        keyed = _keyed(candles_by_symbol)
        reference = keyed.get(to_key(self.reference_symbol))
        table = cross_asset.universe_returns(keyed)
        members = list(keyed)
        lazies = [
            self.lazy(c, symbol=s, reference=reference, universe_table=table, universe_members=members)
            for s, c in keyed.items()
        ]
        return dict(zip(keyed, pl.collect_all(lazies), strict=True))

    def null_reasons(
        self,
        features: pl.DataFrame,
        *,
        symbol: str | None = None,
        reference: CandleFrame | None = None,
        universe: Mapping[str, CandleFrame] | None = None,
    ) -> dict[str, str]:
        """Why each output column holds nulls (only columns with nulls appear), given the same inputs as ``compute``."""
        is_reference = symbol is not None and to_key(symbol) == to_key(self.reference_symbol)
        others = [m for m in _keyed(universe or {}) if symbol is None or m != to_key(symbol)]
        rows = features.height
        reasons: dict[str, str] = {}
        for f in self.features:
            if not f.is_output:
                continue
            nulls = features[f.name].null_count()
            if nulls == 0:
                continue
            if f.name in ("corr_btc", "beta_btc") and (reference is None or is_reference):
                reasons[f.name] = "symbol is the reference" if is_reference else "no reference series given"
            elif f.name in ("rs_rank", "leader_flag") and not others:
                reasons[f.name] = "no universe of other symbols given"
            elif f.name == "trade_intensity" and nulls == rows:
                reasons[f.name] = "source has no trade counts"
            elif rows <= f.lookback:
                reasons[f.name] = f"history of {rows} bars < {f.lookback + 1} bars this feature needs"
            else:
                late = features[f.name].slice(f.lookback).null_count()
                reason = f"first {f.lookback} bars are warm-up"
                if late:
                    reason += f"; {late} later bars undefined (gaps in the input or in the reference)"
                reasons[f.name] = reason
        return reasons


def _keyed(frames: Mapping[str, CandleFrame]) -> dict[str, CandleFrame]:
    return {to_key(s): c for s, c in frames.items()}
