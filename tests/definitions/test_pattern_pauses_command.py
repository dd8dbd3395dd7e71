"""``huracan health pause|resume|patterns``: each change is one logged, undoable event in the Archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import numpy as np
import polars as pl

from huracan_core.health.pauses import PauseEvent, load_book, record
from huracan_core.storage import LocalArtifactStore
from huracan_dagster.cli.main import main
from huracan_dagster.defs.assets.pattern_health import PATTERN_HEALTH, SENSOR_NAME
from huracan_dagster.defs.definitions import build_definitions
from huracan_dagster.settings import Settings

PATTERN = "TREND:long:momentum,breakout"


def test_pause_resume_round_trip_is_logged_and_a_repeat_is_refused(huracan_home, capsys) -> None:
    assert main(["health", "pause", PATTERN, "--reason", "looked wrong"]) == 0
    assert main(["health", "pause", PATTERN]) == 1
    assert f"pattern {PATTERN} (15m): already paused" in capsys.readouterr().err
    book = load_book(LocalArtifactStore(huracan_home / "archive"), "15m")
    assert list(book.paused()) == [PATTERN] and book.events[0].reason == "looked wrong"
    assert main(["health", "resume", PATTERN]) == 0
    book = load_book(LocalArtifactStore(huracan_home / "archive"), "15m")
    assert book.paused() == {} and [e.action for e in book.events] == ["pause", "resume"]
    capsys.readouterr()
    assert main(["health", "patterns"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("0 pattern(s) paused") and listed.count(PATTERN) == 2


def test_review_pauses_a_collapsed_pattern_from_the_archives_shadow_trades(huracan_home, capsys) -> None:
    store = LocalArtifactStore(huracan_home / "archive")
    rng = np.random.default_rng(5)
    wins = rng.random(200) < 0.55
    net = np.where(wins, rng.normal(30, 15, 200), rng.normal(-25, 15, 200))
    net[120:] -= 40  # the pattern collapsed
    start = datetime(2024, 1, 1, tzinfo=UTC)
    ledger = pl.DataFrame(
        {
            "trade_id": [f"t{i:04d}" for i in range(200)],
            "exit_time": pl.Series(
                [start + timedelta(hours=2 * i) for i in range(200)], dtype=pl.Datetime("us", "UTC")
            ),
            "net_bps": net,
            "regime": "TREND",
            "direction": pl.Series([1] * 200, dtype=pl.Int8),
            "engines_agreeing": "momentum,breakout",
        }
    )
    store.write_parquet("shadow_trades/BTC-USDT/15m/2024-01-01.parquet", ledger)
    assert main(["health", "review"]) == 0
    assert f"{PATTERN}: paused by cusum" in capsys.readouterr().out
    assert list(load_book(store, "15m").paused()) == [PATTERN]
    assert main(["health", "review"]) == 0  # reviewed again: nothing new
    assert capsys.readouterr().out.startswith("0 change(s); 1 pattern(s) paused")


def test_the_hourly_sensor_reviews_and_records_pattern_health(huracan_home) -> None:
    defs = build_definitions(Settings.from_env())
    assert not defs.resolve_asset_graph().get(PATTERN_HEALTH).is_materializable  # no run reaches it
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    store = LocalArtifactStore(huracan_home / "archive")
    record(store, "15m", [PauseEvent(PATTERN, "pause", "cli:test", datetime(2024, 1, 1, tzinfo=UTC), "by hand")])
    with dg.instance_for_test() as instance:
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert not result.run_requests and result.skip_message == "reviewed patterns: 0 change(s)"
    [event] = result.asset_events
    assert isinstance(event, dg.AssetMaterialization) and event.asset_key == PATTERN_HEALTH
    assert event.metadata["15m paused"].value == 1 and PATTERN in str(event.metadata["15m pauses in force"].value)
