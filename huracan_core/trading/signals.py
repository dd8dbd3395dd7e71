"""The engines' votes and the consensus per bar of one day and symbol — what the models learn from and the
rules-only policy trades, computed once and stored instead of inside each consumer.

The engines' trailing windows (200 bars) and the meta combiner read the ``warmup_days`` before the day, so a
day's signals are the same whether it is computed alone or in a range. A warm-up day that has candles is a
declared input: its features and regimes must exist too, or the day's signals would depend on what else happened
to be materialized.

A range is one query per symbol: each wanted day's own window (its warm-up days and itself) is a segment of one
frame, and the engines and the meta combiner restart at every segment (``vote(segment=...)``), so each day gets the
bytes it gets alone without a query, a join and a costs table per day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import numpy as np
import polars as pl

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey, keyed, last_per_symbol, require
from huracan_core.features.causality import CausalityReport, check_causality
from huracan_core.features.windows import sample_timestamps
from huracan_core.trading.bars import join_bars
from huracan_core.trading.consensus import ConsensusConfig, vote
from huracan_core.trading.costs import CostModel

#: earlier days the engines' trailing windows (200 bars) and the meta combiner read before a day's signals; the
#: pipeline and every consumer that rebuilds signals (Hamilton) use this one figure, or their votes would differ
WARMUP_DAYS = 3


def warmup_keys(wanted: Sequence[DayKey], warmup_days: int) -> list[DayKey]:
    return sorted({(day - timedelta(days=n), symbol) for day, symbol in wanted for n in range(1, warmup_days + 1)})


def day_bars(inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]], key: DayKey, warmup_days: int) -> pl.DataFrame:
    """Candles + features + regime of the day and its warm-up days (those that exist), in time order."""
    day, symbol = key
    window = [(day - timedelta(days=n), symbol) for n in range(warmup_days, -1, -1)]
    return join_bars(*([frames[w] for w in window if w in frames] for frames in inputs.values()))


def signal_partitions(
    candles: Mapping[DayKey, pl.DataFrame],
    features: Mapping[DayKey, pl.DataFrame],
    regimes: Mapping[DayKey, pl.DataFrame],
    wanted: Sequence[DayKey],
    *,
    warmup_days: int,
    exchange: str = "binance",
    costs: CostModel,
    config: ConsensusConfig = ConsensusConfig(),
) -> dict[DayKey, pl.DataFrame]:
    """Each wanted (day, symbol): the day's bars with every engine's vote and the consensus decision.

    Raises ``MissingPartitionError`` naming the absent inputs (own day, or a warm-up day's features/regimes).
    """
    inputs = {"candles": keyed(candles), "features": keyed(features), "regimes": keyed(regimes)}
    wanted = sorted(keyed(dict.fromkeys(wanted)))
    for name, frames in inputs.items():
        require(name, frames, wanted)
    warm = [k for k in warmup_keys(wanted, warmup_days) if k in inputs["candles"]]
    for name in ("features", "regimes"):
        require(f"{name} (warm-up days of the signals)", inputs[name], warm)
    out = {}
    for symbol in sorted({s for _, s in wanted}):
        days = [d for d, s in wanted if s == symbol]
        out |= _symbol_signals(inputs, symbol, days, warmup_days, exchange, costs, config)
    return out


def _symbol_signals(
    inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]],
    symbol: str,
    days: Sequence[date],
    warmup_days: int,
    exchange: str,
    costs: CostModel,
    config: ConsensusConfig,
) -> dict[DayKey, pl.DataFrame]:
    """Every day of one symbol in one ``vote``: the bars of all the windows joined once, each day's window
    gathered from them as a segment, and each day's rows cut from the votes by position (its window's place in the
    frame and the offset of its first bar in the window), without a query per day."""
    window_days = sorted({d - timedelta(days=n) for d in days for n in range(warmup_days + 1)})
    bars = join_bars(*([f[(d, symbol)] for d in window_days if (d, symbol) in f] for f in inputs.values()))
    edges = pl.Series(
        [
            moment
            for day in days
            for moment in (
                day_start(day - timedelta(days=warmup_days)),
                day_start(day),
                day_start(day + timedelta(days=1)),
            )
        ]
    ).cast(bars["timestamp"].dtype)
    first, own, stop = bars["timestamp"].search_sorted(edges).to_numpy().reshape(-1, 3).T
    sizes = stop - first
    frame = bars[np.concatenate([np.arange(lo, hi) for lo, hi in zip(first, stop, strict=True)])].with_columns(
        _segment=pl.Series(np.repeat(np.arange(len(days), dtype=np.int32), sizes))
    )
    votes = vote(frame, symbol, exchange, costs=costs, config=config, segment="_segment")
    at = np.cumsum(sizes) - sizes + (own - first)  # each day's first own row in ``votes``
    return {
        (day, symbol): votes.slice(a, b) for day, a, b in zip(days, at.tolist(), (stop - own).tolist(), strict=True)
    }


def prove_signal_causality(
    inputs: Mapping[str, Mapping[DayKey, pl.DataFrame]],
    signals: Mapping[DayKey, pl.DataFrame],
    samples: int,
    *,
    warmup_days: int,
    exchange: str = "binance",
    costs: CostModel,
    config: ConsensusConfig = ConsensusConfig(),
) -> dict[DayKey, CausalityReport]:
    """``samples`` bar times of each symbol's last day in ``signals`` (the days as computed, by key): the signals
    from bars truncated at t equal the stored ones (engines, meta weights and costs must all be trailing)."""
    inputs = {name: keyed(frames) for name, frames in inputs.items()}
    signals = keyed(signals)
    reports = {}
    for key in last_per_symbol(signals):
        reports[key] = check_causality(
            lambda frame, symbol=key[1]: vote(frame, symbol, exchange, costs=costs, config=config),
            day_bars(inputs, key, warmup_days),
            sample_timestamps(signals[key], samples),
            full=signals[key],
        )
    return reports
