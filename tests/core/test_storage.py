"""The local Archive: docs/architecture.md storage keys, atomic replacement, byte-identical rewrites."""

from __future__ import annotations

import os
from collections import OrderedDict
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from huracan_core.storage import LocalArtifactStore, decoded_frames
from huracan_core.storage.keys import candles_key, partition_object_key
from huracan_core.storage.store import ArtifactNotFound


def test_keys_follow_the_design_layout():
    assert candles_key("BTC/USDT", "15m", date(2024, 12, 1)) == "candles/BTC-USDT/15m/2024-12-01.parquet"
    assert (
        partition_object_key("features", symbol="ETH-USDT", day=date(2024, 1, 2), timeframe="15m", recipe_hash="ab12")
        == "features/ab12/ETH-USDT/2024-01-02.parquet"
    )
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
    for key in ("../outside", "candles/../../outside", str(tmp_path.parent / "outside"), ""):
        with pytest.raises(ValueError, match="escapes"):
            store.write_bytes(key, b"")
    assert not Path(tmp_path.parent / "outside").exists()
    store.write_bytes("candles/../summaries/x.json", b"{}")  # climbs down again: inside the root
    assert store.read_bytes("summaries/x.json") == b"{}"


def test_a_frame_read_again_is_the_frame_of_the_bytes_read_now(tmp_path, btc_15m, monkeypatch):
    """Decoded frames are kept by their bytes' digest: a rewrite is seen at once, a damaged object still fails, a
    reader's in-place change reaches no other reader, and what is kept stays under its bound."""
    monkeypatch.setattr(decoded_frames, "_frames", OrderedDict())
    monkeypatch.setattr(decoded_frames, "_held", 0)
    decodes = []
    read = pl.read_parquet
    monkeypatch.setattr(pl, "read_parquet", lambda source: decodes.append(1) or read(source))
    store = LocalArtifactStore(tmp_path)
    key = "candles/BTC-USDT/15m/2024-07-01.parquet"
    day, next_day = btc_15m.slice(0, 96), btc_15m.slice(96, 96)
    store.write_parquet(key, day)
    for _ in range(2):  # decoded, then read back
        frame = store.read_parquet(key)
        frame.columns = [f"renamed_{c}" for c in frame.columns]  # in place, on this reader's frame only
    assert store.read_parquet(key).equals(day) and len(decodes) == 1  # the same bytes: decoded once
    store.write_parquet(key, next_day)
    assert store.read_parquet(key).equals(next_day) and len(decodes) == 2
    store.write_bytes(key, store.read_bytes(key)[:-40])  # cut short
    with pytest.raises(Exception, match="(?i)parquet|eof|footer|magic"):
        store.read_parquet(key)
    monkeypatch.setattr(decoded_frames, "CAPACITY_BYTES", 3 * day.estimated_size())
    for n in range(12):
        store.write_parquet(f"candles/BTC-USDT/15m/day{n}.parquet", btc_15m.slice(96 * n, 96))
        store.read_parquet(f"candles/BTC-USDT/15m/day{n}.parquet")
    assert 0 < decoded_frames._held <= decoded_frames.CAPACITY_BYTES
    assert len(decoded_frames._frames) <= 3


KILLED_BEFORE_RENAME = """
import os, signal, sys
from pathlib import Path
os.replace = lambda *_: os.kill(os.getpid(), signal.SIGKILL)  # killed between the write and its rename
root = Path(sys.argv[1])
if sys.argv[2] == "archive":
    from huracan_core.storage import LocalArtifactStore
    LocalArtifactStore(root / "archive").write_bytes("candles/BTC-USDT/15m/2024-12-05.parquet", b"whole object")
else:
    from huracan_core.exports.database import build_database
    build_database(root / "exports" / "huracan.duckdb", root / "archive")
"""


def test_a_write_killed_before_its_rename_leaves_a_leftover_that_the_sweep_finds_and_removes(tmp_path):
    import subprocess
    import sys
    import time

    from huracan_core.storage.leftovers import find_leftovers, sweep_leftovers

    for writer in ("archive", "database"):
        killed = subprocess.run([sys.executable, "-c", KILLED_BEFORE_RENAME, str(tmp_path), writer], check=False)
        assert killed.returncode == -9
    found = find_leftovers([tmp_path / "archive", tmp_path / "exports", tmp_path / "absent"])
    names = sorted(f.path.name for f in found)
    assert (
        len(names) == 2
        and names[0].startswith(".2024-12-05.parquet.pid")
        and names[1].startswith(".huracan.duckdb.pid")
    )
    (tmp_path / "archive" / "candles" / "mine.tmp").write_text("not a temporary name of ours")
    assert sweep_leftovers(found, before=min(f.modified for f in found)) == []  # none older than the oldest live run
    assert sweep_leftovers(found, before=time.time() + 1, alive=lambda pid, since: True) == []  # a live writer's
    assert sorted(f.path.name for f in sweep_leftovers(found, before=time.time() + 1)) == names
    assert find_leftovers([tmp_path]) == [] and (tmp_path / "archive" / "candles" / "mine.tmp").exists()
    mine = tmp_path / f".object.pid{os.getpid()}.x1y2z3w4.tmp"  # this process is alive: its files stay
    mine.write_bytes(b"being written")
    assert sweep_leftovers(find_leftovers([tmp_path]), before=time.time() + 1) == [] and mine.exists()
