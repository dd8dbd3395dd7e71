"""A range of days traded in one call gives every day exactly what trading that day alone gives: the per-day
flat-to-flat semantics are the definition, the one pass over a symbol's days only the way it is computed."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime, timedelta
from typing import cast

import lightgbm
import numpy as np
import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey
from huracan_core.desk.shadow_day import TradingDay, trade_partitions
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import compute_feature_partitions
from huracan_core.health.patterns import ledger_patterns
from huracan_core.models.policy import CoinModel, DecisionRule
from huracan_core.regimes import RegimeDetector
from huracan_core.sources.bundled import bundled_source
from huracan_core.trading.costs import CostModel
from huracan_core.trading.signals import WARMUP_DAYS, signal_partitions

SYMBOLS = ("BTC-USDT", "ETH-USDT")
COSTS = CostModel()


class _Booster:
    """Predicts a long's after-cost edge as the consensus' expected edge less 5 bps and a short's as its negative
    less 5: a model that trades on some bars, not on others, and holds positions into the day's end."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        return x[:, 0] * x[:, -1] - 5.0


MODEL = CoinModel(
    folder="models/BTC-USDT/15m/stub",
    cutoff=datetime(2024, 1, 1, tzinfo=UTC),
    booster=cast(lightgbm.Booster, _Booster()),
    columns=("consensus_expected_edge_bps",),
    encoder=None,
    rule=DecisionRule("absolute", 0.0, 0.0, 0.0),
)


@pytest.fixture(scope="module")
def inputs() -> dict:
    """Twelve days of two coins of the sample, from its first day; the last ten (eight and more consecutive days
    of each coin) traded."""
    source = bundled_source()
    first = cast(datetime, source.first_timestamp(SYMBOLS[0], "15m")).date()
    days = [first + timedelta(days=n) for n in range(12)]
    candles = {
        (d, s): source.fetch(s, "15m", day_start(d), day_start(d + timedelta(days=1))) for s in SYMBOLS for d in days
    }
    keys = sorted(candles)
    universe = {d: list(SYMBOLS) for d in days}
    recipe = FeatureRecipe.default("15m")
    features = {(p.day, p.symbol): p.frame for p in compute_feature_partitions(recipe, candles, keys, universe).parts}
    detector = RegimeDetector()
    regimes = {k: detector.detect(f) for k, f in features.items()}
    traded = [k for k in keys if k[0] >= days[2]]
    signals = signal_partitions(candles, features, regimes, traded, warmup_days=WARMUP_DAYS, costs=COSTS)
    return {"candles": candles, "features": features, "regimes": regimes, "signals": signals, "traded": traded}


def _trade(
    inputs: dict,
    keys: list[DayKey],
    models: dict[DayKey, CoinModel] | None = None,
    paused: dict[date, frozenset[str]] | None = None,
) -> list[TradingDay]:
    frames = (inputs["candles"], inputs["features"], inputs["regimes"], inputs["signals"])
    return trade_partitions(*frames, keys, "15m", models=models or {}, costs=COSTS, paused=paused or {})


def _parquet(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def _same(ranged: TradingDay, alone: TradingDay) -> None:
    """Every field equal; frames as parquet bytes, dicts by their repr (NaN figures are equal there)."""
    for field in dataclasses.fields(TradingDay):
        one, other = getattr(ranged, field.name), getattr(alone, field.name)
        if isinstance(one, pl.DataFrame) and isinstance(other, pl.DataFrame):
            assert _parquet(one) == _parquet(other), (ranged.day, ranged.symbol, field.name)
        elif isinstance(one, dict):
            assert repr(one) == repr(other), (ranged.day, ranged.symbol, field.name)
        else:
            assert one == other, (ranged.day, ranged.symbol, field.name)


def test_a_range_traded_in_one_call_gives_every_day_what_it_gives_alone(inputs) -> None:
    keys = inputs["traded"]
    free = {(t.day, t.symbol): t for t in _trade(inputs, keys)}
    traded_days = [k for k in keys if free[k].ledger.height]
    pause_key = traded_days[1]
    paused = {pause_key[0]: frozenset(ledger_patterns(free[pause_key].ledger).to_list()[:1])}
    models = {k: MODEL for k in keys if k[1] == "BTC-USDT" and k[0] != pause_key[0]}
    ranged = _trade(inputs, keys, models, paused)
    assert [(t.day, t.symbol) for t in ranged] == keys
    for key, day in zip(keys, ranged, strict=True):
        [alone] = _trade(inputs, [key], models, paused)
        _same(day, alone)
    by_key = {(t.day, t.symbol): t for t in ranged}
    # what the range covers: a paused pattern traded apart, a day without trades, a model's day, and positions
    # forced flat at a day's end (a single stretch over the days would have carried them into the next)
    would_be = by_key[pause_key].would_be
    assert would_be is not None and would_be.height
    assert any(t.ledger.is_empty() and t.no_trades_because for t in ranged)
    assert any(by_key[k].policy == "model" and by_key[k].ledger.height for k in models)
    assert sum(int((t.ledger["exit_reason"] == "end_of_data").sum()) for t in ranged) >= 1
