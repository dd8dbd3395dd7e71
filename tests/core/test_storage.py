"""The local Archive: docs/architecture.md storage keys, atomic replacement, byte-identical rewrites."""

from __future__ import annotations

import io
import itertools
import os
import threading
from collections import OrderedDict
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from huracan_core.storage import LocalArtifactStore, decoded_frames, parallel_encoding
from huracan_core.storage import store as store_module
from huracan_core.storage.arrow_batches import ARROW_BATCH
from huracan_core.storage.keys import candles_key, partition_object_key
from huracan_core.storage.store import ArtifactNotFound, parquet_bytes


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


@pytest.fixture
def decodes(monkeypatch) -> list[int]:
    """An empty cache of decoded frames, and a count of the decodes that reach polars."""
    monkeypatch.setattr(decoded_frames, "_frames", OrderedDict())
    monkeypatch.setattr(decoded_frames, "_held", 0)
    counted: list[int] = []
    read = pl.read_parquet
    monkeypatch.setattr(pl, "read_parquet", lambda source: counted.append(1) or read(source))
    return counted


def test_a_frame_read_again_is_the_frame_of_the_bytes_read_now(tmp_path, btc_15m, decodes, monkeypatch):
    """Decoded frames are kept by their bytes' digest: a rewrite is seen at once, a damaged object still fails, a
    reader's in-place change reaches no other reader, and what is kept stays under its bound."""
    store = LocalArtifactStore(tmp_path)
    key = "candles/BTC-USDT/15m/2024-07-01.parquet"
    day, next_day = btc_15m.slice(0, 96), btc_15m.slice(96, 96)
    store.write_bytes(key, parquet_bytes(day))  # bytes from elsewhere: nothing remembered
    for _ in range(2):  # decoded, then read back
        frame = store.read_parquet(key)
        frame.columns = [f"renamed_{c}" for c in frame.columns]  # in place, on this reader's frame only
    assert store.read_parquet(key).equals(day) and len(decodes) == 1  # the same bytes: decoded once
    store.write_bytes(key, parquet_bytes(next_day))
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


def test_a_frame_this_process_wrote_is_read_back_without_decoding_unless_its_round_trip_could_differ(
    tmp_path, btc_15m, decodes
):
    """A written frame is kept under its bytes' digest, in one chunk a column as a decode gives it; a categorical
    column (its codes are not the bytes') is decoded instead, and other bytes under the key are decoded."""
    store = LocalArtifactStore(tmp_path)
    plain = pl.concat([btc_15m.slice(0, 48), btc_15m.slice(48, 48)], rechunk=False)  # two chunks a column
    coded = plain.with_columns(pl.lit("BTC/USDT").cast(pl.Categorical).alias("symbol"))
    store.write_parquets([("a/plain.parquet", plain), ("a/coded.parquet", coded)])
    plain.insert_column(0, pl.Series("added", range(96)))  # the writer's frame changed in place afterwards
    back = store.read_parquet("a/plain.parquet")
    assert back.equals(plain.drop("added")) and back.n_chunks("all") == [1] * back.width and decodes == []
    assert store.read_parquet("a/coded.parquet").equals(coded) and len(decodes) == 1
    store.write_bytes("a/plain.parquet", parquet_bytes(btc_15m.slice(96, 96)))
    assert store.read_parquet("a/plain.parquet").equals(btc_15m.slice(96, 96)) and len(decodes) == 2


#: a column of each kind a partition may hold, and the ones Arrow's writer treats apart
COLUMN_KINDS = [
    pl.Series("categorical", ["x", "y", "x"], dtype=pl.Categorical),
    pl.Series("enum", ["x", "y", "x"], dtype=pl.Enum(["z", "y", "x"])),
    pl.Series("wide_integer", [1, -(2**100), None], dtype=pl.Int128),
    pl.Series("times", [[datetime(2024, 12, 1, tzinfo=UTC)], [], None]),
    pl.Series("record", [{"a": 1.5, "b": "x"}, None, {"a": None, "b": None}]),
    pl.Series("nothing", [None, None, None]),
    pl.Series("day", [date(2024, 12, 1), None, date(2024, 12, 3)]),
    pl.Series("decimal", ["1.25", None, "-3.50"]).str.to_decimal(scale=2),
    pl.Series("signed_zero", [-0.0, float("nan"), float("inf")]),
]


@pytest.mark.parametrize("column", COLUMN_KINDS, ids=lambda column: column.name)
def test_every_column_type_reads_back_as_written_and_the_same_bytes_twice(column):
    frame = pl.DataFrame([column, pl.Series("n", [1, 2, 3])])
    data = parquet_bytes(frame)
    assert_frame_equal(pl.read_parquet(io.BytesIO(data)), frame, check_exact=True)
    assert parquet_bytes(frame.clone()) == data


def test_frames_converted_to_arrow_together_write_the_bytes_each_writes_alone(tmp_path, btc_15m, monkeypatch):
    """A range's frames go to Arrow in batches of one schema (``arrow_batches``): every object is still the bytes
    its frame writes alone, across batch ends, schema changes, frames without rows and every column kind."""
    days = [btc_15m.slice(96 * n, 96) for n in range(ARROW_BATCH + 6)]
    kinds = [
        part
        for column in [*COLUMN_KINDS, pl.Series("categories", [["x"], ["y", "x"], None], dtype=pl.List(pl.Categorical))]
        for frame in [pl.DataFrame([column, pl.Series("n", [1, 2, 3])])]
        for part in (frame, frame.reverse(), frame.head(2), frame.head(0))
    ]
    frames = {f"a/{n:03d}.parquet": frame for n, frame in enumerate([*days[:5], *kinds, *days])}
    conversions = itertools.count()
    to_arrow = pl.DataFrame.to_arrow

    def counted(frame, *args, **kwargs):
        next(conversions)
        return to_arrow(frame, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "to_arrow", counted)
    store = LocalArtifactStore(tmp_path)
    store.write_parquets(frames.items())
    converted = next(conversions)
    monkeypatch.undo()
    assert all(store.read_bytes(key) == parquet_bytes(frame) for key, frame in frames.items())
    assert converted < len(frames) - len(days) + 2  # the days went over in three conversions, not one each


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


def test_many_objects_land_as_one_by_one_would_each_durable_before_its_rename(tmp_path, btc_15m, monkeypatch):
    """A step's partitions are written with their fsyncs in flight together, yet each object's bytes reach the disk
    before its rename, renames keep the given order, and the bytes are those one write at a time gives."""
    days = {f"candles/BTC-USDT/15m/day{n:02d}.parquet": btc_15m.slice(96 * n, 96) for n in range(40)}
    one_by_one = LocalArtifactStore(tmp_path / "one")
    for key, frame in days.items():
        one_by_one.write_parquet(key, frame)
    events: list[tuple[str, str]] = []
    sync, replace = os.fsync, os.replace
    both, calls = threading.Barrier(2, timeout=30), itertools.count()  # the first two fsyncs run at once, or break

    def fsync(fd: int) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}")
        if next(calls) < 2:
            both.wait()
        sync(fd)
        events.append(("synced", name))

    def renamed(source, target) -> None:
        replace(source, target)
        events.append(("renamed", str(source)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", renamed)
    many = LocalArtifactStore(tmp_path / "many")
    many.write_parquets(days.items())
    monkeypatch.undo()
    assert all(many.read_bytes(k) == one_by_one.read_bytes(k) for k in days)
    synced_at = {name: n for n, (kind, name) in enumerate(events) if kind == "synced"}
    renames = [(n, name) for n, (kind, name) in enumerate(events) if kind == "renamed"]
    assert len(renames) == len(days) and all(synced_at[name] < n for n, name in renames)
    assert [Path(name).name.split(".pid")[0].lstrip(".") for _, name in renames] == [Path(k).name for k in days]
    assert not [p for p in (tmp_path / "many").rglob("*.tmp")]


def test_a_batch_that_fails_midway_keeps_every_object_whole_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    """An fsync that fails (a full disk) or a frame that cannot be encoded stops the batch: what landed before stays
    new, that object and every later one keep their old bytes, and no temporary file is left."""
    store = LocalArtifactStore(tmp_path)
    keys = [f"labels/BTC-USDT/15m/day{n}.parquet" for n in range(10)]
    store.write_many((k, b"old") for k in keys)
    sync = os.fsync

    def full_disk(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").split("/")[-1].startswith(".day6."):
            raise OSError(28, "No space left on device")
        sync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        store.write_many((k, b"new") for k in keys)
    monkeypatch.undo()
    landed = [store.read_bytes(k) for k in keys]
    assert landed[6:] == [b"old"] * 4 and set(landed[:6]) <= {b"old", b"new"}
    assert landed[:6] == sorted(landed[:6], key=lambda b: b != b"new")  # in order: new ones first, then old

    def encoded():
        for n, key in enumerate(keys):
            if n == 3:
                raise ValueError(f"{key}: cannot encode")
            yield key, b"newer"

    with pytest.raises(ValueError, match="day3.parquet: cannot encode"):
        store.write_many(encoded())
    after = [store.read_bytes(k) for k in keys]
    assert after[3:] == landed[3:] and all(a in (b, b"newer") for a, b in zip(after[:3], landed[:3], strict=True))
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_a_ranges_frames_are_encoded_on_two_threads(tmp_path, btc_15m, monkeypatch):
    """Arrow's writer lets go of the GIL, so a range's frames encode two at a time while the step's thread writes
    the ones before; the objects are the bytes of one write at a time."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: the frames encode on one thread")
    days = {f"features/BTC-USDT/15m/day{n:02d}.parquet": btc_15m.slice(96 * n, 96) for n in range(40)}
    encode = store_module.parquet_bytes
    both, calls = threading.Barrier(2, timeout=30), itertools.count()  # the first two encodings run at once, or break
    encoders: set[str] = set()

    def encoding(frame, table=None):
        encoders.add(threading.current_thread().name)
        if next(calls) < 2:
            both.wait()
        return encode(frame, table)

    monkeypatch.setattr(store_module, "parquet_bytes", encoding)
    store = LocalArtifactStore(tmp_path)
    store.write_parquets(days.items())
    monkeypatch.undo()
    assert all(store.read_bytes(key) == parquet_bytes(frame) for key, frame in days.items())
    assert len(encoders) == 2 and all(name.startswith("parquet-encode") for name in encoders)


def test_the_encoders_run_a_few_frames_ahead_of_the_writer_and_hand_them_over_in_order(monkeypatch):
    """So a long range never holds all its bytes: the frames taken from the range before the first object is handed
    to the writer are at most ``AHEAD`` and the one it waits for."""
    monkeypatch.setattr(parallel_encoding, "AHEAD", 4)
    taken = itertools.count()

    def frames():
        for n in range(50):
            next(taken)
            yield f"k{n}", pl.DataFrame({"x": [n]}), None

    handed = parallel_encoding.encoded_in_order(frames(), lambda frame, _: str(frame["x"][0]).encode())
    assert next(handed) == ("k0", b"0") and next(taken) <= 4 + 1
    assert list(handed) == [(f"k{n}", str(n).encode()) for n in range(1, 50)]


def test_a_frame_that_fails_to_encode_stops_the_range_at_its_turn(tmp_path, btc_15m, monkeypatch):
    """The encoders run ahead, but the error is raised in the range's order: the objects before it are new or old,
    new ones first, it and those after keep their old bytes although a later one was encoded first, and no
    temporary file is left."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: one encoder, nothing encoded beside the failing frame")
    keys = [f"labels/BTC-USDT/15m/day{n:02d}.parquet" for n in range(40)]
    store = LocalArtifactStore(tmp_path)
    store.write_many((k, b"old") for k in keys)
    encode, failing_at = store_module.parquet_bytes, btc_15m["timestamp"][96 * 35]
    encoded_after = threading.Event()

    def failing(frame, table=None):
        if frame["timestamp"][0] > failing_at:
            encoded_after.set()
        elif frame["timestamp"][0] == failing_at:
            encoded_after.wait(30)  # the other encoder has a later frame ready before this one fails
            raise ValueError("day35: cannot encode")
        return encode(frame, table)

    monkeypatch.setattr(store_module, "parquet_bytes", failing)
    with pytest.raises(ValueError, match="day35: cannot encode"):
        store.write_parquets((k, btc_15m.slice(96 * n, 96)) for n, k in enumerate(keys))
    monkeypatch.undo()
    after = [store.read_bytes(k) for k in keys]
    new = [data != b"old" for data in after]
    assert encoded_after.is_set() and new[0] and new == sorted(new, reverse=True) and not any(new[35:])
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


FORKED_WRITE = """
import os, sys
import polars as pl
from huracan_core.storage import LocalArtifactStore
store = LocalArtifactStore(sys.argv[1])
store.write_parquets([("a/parent.parquet", pl.DataFrame({"x": [1]}))])  # the parent's threads exist now
child = os.fork()
if child == 0:
    # one encoding and one fsync: no later submit would start a thread for either
    store.write_parquets([("a/child.parquet", pl.DataFrame({"x": [2]}))])
    os._exit(0)
_, status = os.waitpid(child, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_process_writes_with_threads_of_its_own(tmp_path):
    """A pool inherited through fork has no threads behind it: a child that used it would wait forever."""
    import subprocess
    import sys

    forked = subprocess.run([sys.executable, "-c", FORKED_WRITE, str(tmp_path)], check=False, timeout=30)
    assert forked.returncode == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["child.parquet", "parent.parquet"]
