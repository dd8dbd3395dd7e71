"""The local Archive: DESIGN.md §4 keys, atomic replacement, byte-identical rewrites."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import candles_key, partition_object_key
from huracan_core.storage.store import ArtifactNotFound


def test_keys_follow_the_design_layout():
    assert candles_key("BTC/USDT", "15m", date(2024, 12, 1)) == "candles/BTC-USDT/15m/2024-12-01.parquet"
    assert partition_object_key("features", symbol="ETH-USDT", day=date(2024, 1, 2), timeframe="15m", recipe_hash="ab12") == "features/ab12/ETH-USDT/2024-01-02.parquet"
    with pytest.raises(ValueError, match="recipe hash"):
        partition_object_key("features", symbol="ETH-USDT", day=date(2024, 1, 2), timeframe="15m")
    with pytest.raises(ValueError, match="no storage layout"):
        partition_object_key("nope", symbol="ETH-USDT", day=date(2024, 1, 2), timeframe="15m")


def test_parquet_round_trip_and_same_bytes_twice(tmp_path, btc_15m):
    store = LocalArtifactStore(tmp_path)
    frame = btc_15m.head(96)
    store.write_parquet("candles/BTC-USDT/15m/2024-07-01.parquet", frame)
    first = store.read_bytes("candles/BTC-USDT/15m/2024-07-01.parquet")
    store.write_parquet("candles/BTC-USDT/15m/2024-07-01.parquet", frame)
    assert store.read_bytes("candles/BTC-USDT/15m/2024-07-01.parquet") == first
    assert store.read_parquet("candles/BTC-USDT/15m/2024-07-01.parquet").equals(frame)
    assert store.list_keys("candles/BTC-USDT") == ["candles/BTC-USDT/15m/2024-07-01.parquet"]


def test_a_failed_write_leaves_the_previous_object_and_no_temp_file(tmp_path, monkeypatch):
    store = LocalArtifactStore(tmp_path)
    store.write_json("summaries/daily/2024-12-01.json", {"ok": 1})

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.write_json("summaries/daily/2024-12-01.json", {"ok": 2})
    assert store.read_json("summaries/daily/2024-12-01.json") == {"ok": 1}
    assert [p.name for p in (tmp_path / "summaries/daily").iterdir()] == ["2024-12-01.json"]


def test_missing_keys_and_escapes_are_refused(tmp_path):
    store = LocalArtifactStore(tmp_path)
    with pytest.raises(ArtifactNotFound, match="candles/X"):
        store.read_bytes("candles/X")
    with pytest.raises(ValueError, match="escapes"):
        store.write_bytes("../outside", b"")
    assert not Path(tmp_path.parent / "outside").exists()
