"""paper_trades: Hamilton's logged days materialized beside the shadow trader's, and its check.

Hamilton trades a planted champion on ETH-USDT over real candles from the evening of one day into the next
(positions held over midnight); the shadow trader's ledger of each day is the shadow trader's own trade of the same
signals at its fixed 1,000 USDT (``follow``: its kernel). A third day Hamilton never ran. The assertions are
invariants of the logs and the match, whatever the candles did.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.health.anomalies import CHECKS, NET_PER_TRADE, TRADE_COUNT
from huracan_core.models.artifacts import read_model_folder, write_model_folder
from huracan_core.models.day_models import OOS_TRADES_FILE
from huracan_core.paper.fills import follow
from huracan_core.paper.logs import read_logs
from huracan_core.paper.signals import Signal
from huracan_core.paper.trader import PaperConfig, PaperTrader
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import champion_pointer_key, partition_object_key
from huracan_core.storage.store import parquet_bytes
from huracan_core.trading.shadow_trader import LEDGER_COLUMNS
from huracan_dagster.defs.assets.paper import MATCHES_SHADOW
from huracan_dagster.defs.assets.trading_checks import AnomalyChecksConfig
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


def _materialize(
    archive: Path, run_config: dg.RunConfig | None = None
) -> tuple[dg.ExecuteInProcessResult, dg.DagsterInstance]:
    """paper_trades of the three days × BTC and ETH in one ranged run."""
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(
        instance, archive, DAY.isoformat(), UNRUN.isoformat(), ["BTC-USDT", COIN], selection=[PAPER],
        assets=timeframe_assets(TF), run_config=run_config,
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


def test_hamiltons_days_are_judged_against_the_champions_out_of_sample_record(traded) -> None:
    """The planted champion's out-of-sample record replaced by a far better one (+300 bps a trade): every day
    Hamilton traded it falls short, a WARN naming the champion; the days it did not trade the coin say why."""
    archive, _ = traded
    store = LocalArtifactStore(archive)
    folder = store.read_json(champion_pointer_key(COIN, TF))["model_folder"]
    files = read_model_folder(store, folder)
    rosy = pl.DataFrame(
        {
            "entry_time": [datetime(2024, 8, 1, tzinfo=UTC) + n * timedelta(hours=6) for n in range(120)],
            "net_bps": [300.0 + (-1) ** n * 10 for n in range(120)],
        }
    ).with_columns(gross_bps=pl.col("net_bps") + 10)
    write_model_folder(store, folder, files | {OOS_TRADES_FILE: parquet_bytes(rosy)})
    config = dg.RunConfig(ops={"15m__paper_trades": AnomalyChecksConfig(anomaly_min_trades=1)})
    try:
        result, _ = _materialize(archive, config)
    finally:
        write_model_folder(store, folder, files)
    assert result.success
    logged = read_logs(store, "trades", TF).filter(pl.col("event") == "entry")
    for check in CHECKS:
        verdicts = {e.partition: e for e in evaluations(result, check)}
        assert len(verdicts) == 6 and all(e.severity == dg.AssetCheckSeverity.WARN for e in verdicts.values())
        for day in (DAY, NEXT, UNRUN):
            assert verdicts[partition_key(day, "BTC-USDT")].passed
        assert verdicts[partition_key(DAY, "BTC-USDT")].description == (
            "not judged: no champion decided a bar of BTC-USDT that day"
        )
        assert verdicts[partition_key(UNRUN, COIN)].description == "not judged: Hamilton did not run that day"
    for day in (DAY, NEXT):
        [net] = [e for e in evaluations(result, NET_PER_TRADE) if e.partition == partition_key(day, COIN)]
        assert not net.passed and "vs 300.0 out of sample" in str(net.description)
        assert net.metadata["champion"].value == folder
        [count] = [e for e in evaluations(result, TRADE_COUNT) if e.partition == partition_key(day, COIN)]
        entered = logged.filter(pl.col("fill_bar").dt.date() == day).height
        assert count.metadata["trades"].value == str(entered) and entered
