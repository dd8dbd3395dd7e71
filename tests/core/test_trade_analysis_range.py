"""A range of days analysed in one call gives each day what it gets analysed alone: its post-exit outcomes read
only its own and the next day's candles, its tables only its own rows."""

from __future__ import annotations

import io
from datetime import date, timedelta

import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey
from huracan_core.desk.day_analysis import TradeAnalysis, analyse_partitions
from huracan_core.desk.shadow_day import trade_partitions
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import compute_feature_partitions
from huracan_core.models.lookahead_labels import label_partitions
from huracan_core.models.opportunities import opportunity_ledger
from huracan_core.regimes import RegimeDetector
from huracan_core.sources.bundled import bundled_source
from huracan_core.trading.bars import join_bars
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.signals import WARMUP_DAYS, signal_partitions

SYMBOLS = ("BTC-USDT", "ETH-USDT")
#: the analysed days (after the features' and signals' warm-up); ETH has no candles on GAP
DAYS = [date(2024, 8, 1) + timedelta(days=n) for n in range(10)]
GAP = (DAYS[5], "ETH-USDT")
LATE_TRADES = 3


def _parquet(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def _with_late_trades(ledger: pl.DataFrame, chances: pl.DataFrame) -> pl.DataFrame:
    """The day's ledger and its last opportunities as trades: exits late in the day, whose post-exit horizons run
    into the next day (the rules trade too seldom to be sure of one)."""
    late = (
        chances.filter(pl.col("entry_price").is_not_null())
        .tail(LATE_TRADES)
        .drop("kind")
        .with_columns(trade_id="late-" + pl.col("trade_id"))
    )
    return pl.concat([ledger, late], how="diagonal_relaxed").select(ledger.columns)


def _last_bar_labelled(labels: pl.DataFrame) -> pl.DataFrame:
    """The day's last bar with its previous bar's outcome, as if it had been labelled while the next day's candles
    existed: its entry (the next bar) must still come from no other day's candles."""
    last = labels.slice(labels.height - 2, 1).with_columns(labels["timestamp"].tail(1))
    return pl.concat([labels.head(labels.height - 1), last])


@pytest.fixture(scope="module")
def inputs() -> dict:
    """The sample's partitions as the assets build them; the last day's next day and GAP have no candles."""
    source = bundled_source()
    first = DAYS[0] - timedelta(days=WARMUP_DAYS + 1)
    seen = [first + timedelta(days=n) for n in range((DAYS[-1] - first).days + 1)]
    candles = {
        (d, s): source.fetch(s, "15m", day_start(d), day_start(d + timedelta(days=1)))
        for s in SYMBOLS
        for d in seen
        if (d, s) != GAP
    }
    universe = {d: ["BTC/USDT"] for d in seen}
    recipe, detector, costs = FeatureRecipe.default("15m"), RegimeDetector(), CostModel()
    batch = compute_feature_partitions(recipe, candles, sorted(candles), universe)
    features = {(p.day, p.symbol): p.frame for p in batch.parts}
    regimes = {k: detector.detect(f) for k, f in features.items()}
    wanted = sorted(k for k in candles if k[0] in DAYS)
    signals = signal_partitions(candles, features, regimes, wanted, warmup_days=WARMUP_DAYS, costs=costs)
    labels = {
        (p.day, p.symbol): p.frame
        for p in label_partitions(candles, features, regimes, signals, wanted, "15m", costs=costs)
    }
    before_gap = (GAP[0] - timedelta(days=1), GAP[1])
    labels[before_gap] = _last_bar_labelled(labels[before_gap])
    ledgers = {}
    for traded in trade_partitions(candles, features, regimes, signals, wanted, "15m", costs=costs):
        key = (traded.day, traded.symbol)
        following = (traded.day + timedelta(days=1), traded.symbol)
        seen = [candles[k] for k in (key, following) if k in candles]
        bars = join_bars(seen, [features[key]], [regimes[key]])
        chances = opportunity_ledger(labels[key], bars, traded.symbol, ExitConfig().notional)
        ledgers[key] = _with_late_trades(traded.ledger, chances)
    return {
        "ledgers": ledgers,
        "labels": labels,
        "candles": candles,
        "features": features,
        "regimes": regimes,
        "wanted": wanted,
    }


def _analyse(inputs: dict, wanted: list[DayKey]) -> dict[DayKey, TradeAnalysis]:
    return analyse_partitions(
        inputs["ledgers"], inputs["labels"], inputs["candles"], inputs["features"], inputs["regimes"], wanted
    )


def test_a_range_analysed_at_once_gives_every_day_what_it_gets_alone(inputs: dict) -> None:
    wanted = inputs["wanted"]
    ranged = _analyse(inputs, wanted)
    assert list(ranged) == wanted
    for key in wanted:
        alone = _analyse(inputs, [key])[key]
        day = ranged[key]
        assert _parquet(day.trades) == _parquet(alone.trades), key
        assert (day.pending, day.next_day_available) == (alone.pending, alone.next_day_available), key
        for scope in ("traded", "opportunities"):
            ours, its = getattr(day, scope), getattr(alone, scope)
            assert list(ours) == list(its), key
            for name, table in ours.items():
                assert table.equals(its[name]), (key, scope, name)
                assert _parquet(table) == _parquet(its[name]), (key, scope, name)


def test_post_exit_outcomes_stop_at_the_next_days_candles(inputs: dict) -> None:
    """The days before the last and before the gap have no next day's candles: their late trades wait (null
    outcomes, pending); every other day's late trades read the next day's candles — the day after the gap too."""
    ranged = _analyse(inputs, inputs["wanted"])
    waiting = {(DAYS[-1], s) for s in SYMBOLS} | {(DAYS[4], "ETH-USDT")}
    for key, analysis in ranged.items():
        late = analysis.trades.filter(pl.col("trade_id").str.starts_with("late-"))
        assert late.height == LATE_TRADES, key
        if key in waiting:
            assert not analysis.next_day_available, key
            assert late["after_120m_bps"].null_count() == LATE_TRADES, key
            assert set(late["trade_id"]) <= set(analysis.pending), key
        else:
            assert analysis.next_day_available, key
            assert late["after_120m_bps"].null_count() == 0, key
            assert not analysis.pending, key
    assert (DAYS[6], "ETH-USDT") in ranged  # the day after the gap
