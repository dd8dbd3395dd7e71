"""A ranged step's partitions written to the local Archive and read back by the next step: the way the IO manager
does it now against the ways before, in the same run, on the same real partitions.

* before — before 35ab4be: each object encoded by polars with zstd (level 3), written to a temporary file, fsynced
  and renamed before the next one is encoded (the Archive's ``write_bytes`` for each partition in turn);
* polars LZ4 — 35ab4be until Arrow's writer: polars' LZ4 encoding, written as ``write_parquets`` writes, each
  object's fsync running while the next ones are written (``huracan_core/storage/staged_files.py``);
* now — ``ArtifactStore.write_parquets``: Arrow's LZ4 writer (``store.parquet_bytes``) on two threads a few frames
  ahead of the writes (``parallel_encoding``, since 2c098ee) and the same staged writes, each frame kept as what
  its bytes decode to (``decoded_frames.remember``).

After each way's writes, every object is read back through ``ArtifactStore.read_parquet``, as the next step of the
same process reads its input: the two older ways decode each object, now finds the frame it wrote. (The frames
without rows are all the same bytes, so each way decodes them once: their read back says little.)

The partitions are the bundled sample's: a month of 15m candles of its five symbols (8 columns), their features (the
default recipe's columns), one-row frames (a day's recorded quote has one row) and the features' columns without a
row (a day without trades writes such a frame), so the fixed cost of an object shows beside its size. Each way
writes into a fresh folder, alternating, ``--rounds`` times; the medians are printed, one JSON line per kind of
partition, with the bytes each way leaves on disk.

    .venv/bin/python bench/bench_archive_writes.py
    .venv/bin/python bench/bench_archive_writes.py --rounds 9
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import polars as pl
from bench_pipeline import forget_decoded_frames

from huracan_core.storage import LocalArtifactStore

START, END = date(2024, 12, 1), date(2024, 12, 31)
Frames = dict[str, pl.DataFrame]


def sample_partitions() -> dict[str, Frames]:
    """``{kind: {object key: frame}}`` from the bundled sample, computed by the same core calls as the assets."""
    from huracan_core.candles import load_candle_partitions
    from huracan_core.features.recipe import FeatureRecipe
    from huracan_core.features.windows import compute_feature_partitions, history_days
    from huracan_core.sources import open_source
    from huracan_core.universe import UniverseConfig, resolve_universe, universe_by_day

    source, recipe, config = open_source("bundled"), FeatureRecipe.default("15m"), UniverseConfig()
    symbols = resolve_universe(source, "15m", config, as_of=END + timedelta(days=1))
    days = [START + timedelta(days=n) for n in range((END - START).days + 1)]
    history = [START - timedelta(days=n) for n in range(history_days(recipe), 0, -1)]
    parts = load_candle_partitions(source, "15m", {s: history + days for s in symbols}, lambda d, s: f"{d}|{s}")
    candles = {(p.day, p.symbol): p.frame for p in parts}
    wanted = [(d, s) for d, s in candles if d >= START]
    batch = compute_feature_partitions(recipe, candles, wanted, universe_by_day(source, "15m", config, days))

    def keyed(asset: str, frames: dict) -> Frames:
        return {f"{asset}/{symbol}/15m/{day}.parquet": frame for (day, symbol), frame in sorted(frames.items())}

    return {
        "candles": keyed("candles", {k: f for k, f in candles.items() if k[0] >= START}),
        "features": keyed("features", {(p.day, p.symbol): p.frame for p in batch.parts}),
        "one_row": keyed("market_quotes", {k: f.head(1) for k, f in candles.items() if k[0] >= START}),
        "no_rows": keyed("shadow_trades", {(p.day, p.symbol): p.frame.head(0) for p in batch.parts}),
    }


def polars_bytes(frame: pl.DataFrame, compression: Literal["zstd", "lz4"], level: int | None = None) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression=compression, compression_level=level, statistics=True)
    return buffer.getvalue()


def staged(root: Path, frames: Frames) -> None:
    """35ab4be's ``write_parquets``: polars' LZ4 bytes through the Archive's staged writes, nothing remembered."""
    LocalArtifactStore(root).write_many((key, polars_bytes(frame, "lz4")) for key, frame in frames.items())


def one_at_a_time(root: Path, frames: Frames, encode: Callable[[pl.DataFrame], bytes]) -> None:
    """The Archive's write before 35ab4be, for each partition in turn: temporary file, fsync, rename."""
    for key, frame in frames.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(encode(frame))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)


WAYS: dict[str, Callable[[Path, Frames], None]] = {
    "before": lambda root, frames: one_at_a_time(root, frames, lambda frame: polars_bytes(frame, "zstd", 3)),
    "polars_lz4": staged,
    "now": lambda root, frames: LocalArtifactStore(root).write_parquets(frames.items()),
}


def measure(frames: Frames, rounds: int, folder: Path) -> dict[str, float]:
    writes: dict[str, list[float]] = {way: [] for way in WAYS}
    reads: dict[str, list[float]] = {way: [] for way in WAYS}
    sizes: dict[str, int] = {}
    for n in range(rounds):
        for way, write in WAYS.items():
            forget_decoded_frames()  # each way starts from a process that has read nothing
            root = folder / f"{way}-{n}"
            began = time.perf_counter()
            write(root, frames)
            writes[way].append(time.perf_counter() - began)
            store, began = LocalArtifactStore(root), time.perf_counter()
            for key in frames:
                store.read_parquet(key)
            reads[way].append(time.perf_counter() - began)
            sizes[way] = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    write_ms = {way: statistics.median(s) / len(frames) * 1e3 for way, s in writes.items()}
    read_ms = {way: statistics.median(s) / len(frames) * 1e3 for way, s in reads.items()}
    return {
        "partitions": len(frames),
        **{f"{way}_write_ms": round(v, 3) for way, v in write_ms.items()},
        **{f"{way}_read_ms": round(v, 3) for way, v in read_ms.items()},
        "write_now_over_before": round(write_ms["now"] / write_ms["before"], 3),
        "write_now_over_polars_lz4": round(write_ms["now"] / write_ms["polars_lz4"], 3),
        "read_now_over_polars_lz4": round(read_ms["now"] / read_ms["polars_lz4"], 3),
        "bytes_now_over_polars_lz4": round(sizes["now"] / sizes["polars_lz4"], 3),
        "bytes_now_over_before": round(sizes["now"] / sizes["before"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    partitions = sample_partitions()
    with tempfile.TemporaryDirectory(prefix="archive-writes-") as folder:
        for kind, frames in partitions.items():
            line = {"bench": "archive_writes", "kind": kind, "window": f"{START}..{END}", "rounds": rounds}
            print(json.dumps(line | measure(frames, rounds, Path(folder) / kind)), flush=True)


if __name__ == "__main__":
    main()
