"""paper_trades: Hamilton's logged days materialized beside the shadow trader's, and its check.

Hamilton trades a planted champion on ETH-USDT over real candles from the evening of one day into the next
(positions held over midnight); the shadow trader's ledger of each day is the shadow trader's own trade of the same
signals at its fixed 1,000 USDT (``follow``: its kernel). A third day Hamilton never ran. The assertions are
invariants of the logs and the match, whatever the candles did.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.paper.fills import follow
from huracan_core.paper.logs import read_logs
from huracan_core.paper.signals import Signal
from huracan_core.paper.trader import PaperConfig, PaperTrader
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import partition_object_key
from huracan_core.trading.shadow_trader import LEDGER_COLUMNS
from huracan_dagster.defs.assets.paper import MATCHES_SHADOW
from huracan_dagster.defs.definitions import timeframe_assets
from huracan_dagster.defs.partitions import asset_key, partition_key
from tests.assets.pipeline import evaluations, latest_metadata, materialize
from tests.core.planted_champion import (
    COIN,
    COSTS,
    DAY,
    PAIRS,
    STEP,
    TF,
    plant,
    sample_candles,
)

PAPER = asset_key(TF, "paper_trades")
NEXT, UNRUN = DAY + timedelta(days=1), DAY + timedelta(days=2)
BARS = [day_start(NEXT) - 12 * STEP + n * STEP for n in range(24)]  # 21:00 to 02:45
CONFIG = PaperConfig(TF, costs=COSTS, universe=lambda days: {d: PAIRS for d in days})
SHADOW_NOTIONAL = 1_000.0


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[date, pl.DataFrame]]:
    """The archive Hamilton logged into, and the shadow trader's ledger of each day it entered on."""
    archive = tmp_path_factory.mktemp("paper") / "archive"
    store = LocalArtifactStore(archive)
    candles = sample_candles()
    plant(store, candles)
    trader = PaperTrader(store, CONFIG)
    signals: list[Signal] = []
    for bar in BARS:
        trader.step(bar, candles, None)
        signals += [s for s in trader.state.pending.values() if s.signal_time == bar]
    last = candles[COIN]["timestamp"].max()
    assert isinstance(last, datetime)
    rows = []
    for signal in signals:
        shadow = follow(
            dataclasses.replace(signal, notional=SHADOW_NOTIONAL),
            candles[COIN],
            last,
            timeframe=TF,
            exchange="binance",
            costs=COSTS,
            exits=CONFIG.exits,
        )
        if shadow is not None and not shadow.missed:
            rows.append({c: shadow.trade[c] for c in LEDGER_COLUMNS})
    ledger = pl.DataFrame(rows).with_columns(day=pl.col("entry_time").dt.date())
    shadow = {d: ledger.filter(pl.col("day") == d).drop("day") for d in (DAY, NEXT)}
    for day, frame in shadow.items():
        store.write_parquet(partition_object_key("shadow_trades", symbol=COIN, day=day, timeframe=TF), frame)
    return archive, shadow


def _materialize(archive: Path) -> tuple[dg.ExecuteInProcessResult, dg.DagsterInstance]:
    """paper_trades of the three days × BTC and ETH in one ranged run."""
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(
        instance, archive, DAY.isoformat(), UNRUN.isoformat(), ["BTC-USDT", COIN], selection=[PAPER],
        assets=timeframe_assets(TF),
    )  # fmt: skip
    assert result.success
    return result, instance


def test_paper_trades_show_each_logged_day_and_match_the_shadow_trader(traded) -> None:
    archive, _ = traded
    result, instance = _materialize(archive)
    store = LocalArtifactStore(archive)
    logged = read_logs(store, "trades", TF)
    verdicts = {e.partition: e for e in evaluations(result, MATCHES_SHADOW)}
    assert len(verdicts) == 6 and all(v.passed for v in verdicts.values())

    for day in (DAY, NEXT):
        key = partition_key(day, COIN)
        trips = pl.read_parquet(archive / f"paper_trades/{COIN}/{TF}/{day}.parquet")
        entries = logged.filter((pl.col("event") == "entry") & (pl.col("fill_bar").dt.date() == day))
        assert trips["position_id"].to_list() == entries["position_id"].to_list() and trips.height
        exits = logged.filter(pl.col("event") == "exit").select("position_id", "net_bps", "fill_bar")
        closed = trips.filter(pl.col("exit_time").is_not_null()).join(exits, on="position_id")
        assert closed["net_bps"].to_list() == closed["net_bps_right"].to_list()
        assert (closed["gross_bps"] - closed["costs_bps"] - closed["net_bps"]).abs().max() < 1e-6  # type: ignore[operator]
        assert (closed["costs_bps"] > 0).all() and closed["exit_time"].to_list() == closed["fill_bar"].to_list()
        metadata = latest_metadata(instance, PAPER, key)
        assert metadata["hamilton_ran"].value is True and metadata["trades"].value == trips.height
        assert metadata["open_trades"].value == trips["exit_time"].is_null().sum()
        assert "approved" in metadata["decisions"].value
        verdict = verdicts[key]
        assert "the same moves" in str(verdict.description), verdict.description
        matched = int(verdict.metadata["matched"].value)
        assert 0 < matched <= closed.height and verdict.metadata["paper_only"].value == "0"
    # a position entered in the evening left after midnight: its exit came from the next day's log
    evening = pl.read_parquet(archive / f"paper_trades/{COIN}/{TF}/{DAY}.parquet")
    assert (evening["exit_time"].dt.date() == NEXT).any()

    btc = latest_metadata(instance, PAPER, partition_key(DAY, "BTC-USDT"))
    assert btc["trades"].value == 0 and "ran but entered no BTC-USDT trade" in btc["why_empty"].value
    for symbol in ("BTC-USDT", COIN):
        unrun = latest_metadata(instance, PAPER, partition_key(UNRUN, symbol))
        assert unrun["hamilton_ran"].value is False and "Hamilton did not run on" in unrun["why_empty"].value
        assert "Hamilton did not run" in str(verdicts[partition_key(UNRUN, symbol)].description)


def test_a_paper_fill_drifting_beyond_costs_is_a_warning_naming_the_trade(traded, tmp_path: Path) -> None:
    archive, shadow = traded
    store = LocalArtifactStore(archive)
    ledger = shadow[DAY].sort("entry_time")
    moved = ledger["entry_time"][0]
    drifted = ledger.with_columns(
        exit_price=pl.when(pl.col("entry_time") == moved).then(pl.col("exit_price") * 1.002).otherwise("exit_price")
    ).with_columns(gross_bps=pl.col("direction") * (pl.col("exit_price") / pl.col("entry_price") - 1.0) * 10_000)
    key = partition_object_key("shadow_trades", symbol=COIN, day=DAY, timeframe=TF)
    store.write_parquet(key, drifted)
    try:
        result, _ = _materialize(archive)
    finally:
        store.write_parquet(key, ledger)
    (verdict,) = [e for e in evaluations(result, MATCHES_SHADOW) if e.partition == partition_key(DAY, COIN)]
    assert not verdict.passed and verdict.severity == dg.AssetCheckSeverity.WARN
    assert str(verdict.description).startswith("1 of ") and f"{moved:%Y-%m-%d %H:%M}" in str(verdict.description)
    assert float(verdict.metadata["max_gross_drift_bps"].value) > 10
