"""Parquet bytes decoded once per process: the same partition is read by many steps and runs.

A daily run reads each candle partition for the features of every symbol that holds it in its universe, then for
the labels, the shadow trader and the trade analysis, in separate steps and runs: three reads in four decode bytes
that were decoded before. The cache is keyed by the bytes' own digest, so it can never return a frame of other
bytes than those just read — a rewritten, damaged or half-written object is a different key (or fails to decode
as before) — and it holds no state a partition could depend on: the frame is the same with or without it.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

import polars as pl

#: decoded frames kept, by their in-memory size: the day's window of every symbol's partitions fits many times
CAPACITY_BYTES = 256 * 2**20

_frames: OrderedDict[bytes, pl.DataFrame] = OrderedDict()
_held = 0
_lock = threading.Lock()


def decoded(data: bytes) -> pl.DataFrame:
    """The frame that ``data`` (a whole parquet object) holds; a clone, so a caller's in-place change (a rename of
    its columns) never reaches another reader."""
    global _held
    digest = hashlib.blake2b(data, digest_size=20).digest()
    with _lock:
        frame = _frames.get(digest)
        if frame is not None:
            _frames.move_to_end(digest)
            return frame.clone()
    frame = pl.read_parquet(io.BytesIO(data))
    size = frame.estimated_size()
    if size > CAPACITY_BYTES // 8:  # a model's training set, not a partition: not worth holding
        return frame
    with _lock:
        if digest not in _frames:
            _frames[digest] = frame
            _held += size
        while _held > CAPACITY_BYTES:
            _, old = _frames.popitem(last=False)
            _held -= old.estimated_size()
    return frame.clone()
