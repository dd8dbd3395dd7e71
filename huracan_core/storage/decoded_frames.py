"""Parquet bytes decoded once per process: the same partition is read by many steps and runs.

A daily run reads each candle partition for the features of every symbol that holds it in its universe, then for
the labels, the shadow trader and the trade analysis, in separate steps and runs: three reads in four decode bytes
that were decoded before. The cache is keyed by the bytes' own digest, so it can never return a frame of other
bytes than those just read — a rewritten, damaged or half-written object is a different key (or fails to decode
as before) — and it holds no state a partition could depend on: the frame is the same with or without it.

A frame just encoded is kept under its bytes' digest too (``remember``), so the next step of the same process reads
what the step before it wrote without decoding it — but only a frame of plain columns, whose parquet round trip
gives back the same frame (``tests/e2e/test_remembered_frames.py`` compares every partition of a chain run with its
decode, and the chain's bytes with those of a chain that decodes every input).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from polars._typing import PolarsDataType  # a column's type, as an instance or (inside a list) its class

#: decoded frames kept, by their in-memory size: the day's window of every symbol's partitions fits many times
CAPACITY_BYTES = 256 * 2**20
#: column types whose parquet round trip is exact: a categorical's codes, an object or a 128-bit integer are not
_PLAIN = (pl.Boolean, pl.String, pl.Binary, pl.Date, pl.Datetime, pl.Duration, pl.Time, pl.Null)

_frames: OrderedDict[bytes, pl.DataFrame] = OrderedDict()
_held = 0
_lock = threading.Lock()


def decoded(data: bytes) -> pl.DataFrame:
    """The frame that ``data`` (a whole parquet object) holds; a clone, so a caller's in-place change (a rename of
    its columns) never reaches another reader."""
    digest = _digest(data)
    with _lock:
        frame = _frames.get(digest)
        if frame is not None:
            _frames.move_to_end(digest)
            return frame.clone()
    frame = pl.read_parquet(io.BytesIO(data))
    _keep(digest, frame)
    return frame.clone()


def remember(data: bytes, frame: pl.DataFrame) -> None:
    """Keep ``frame`` as what ``data``, its encoding, decodes to. In one chunk a column, as a decode gives it, so a
    computation over it (a float sum adds chunk by chunk) is the same as over the decoded frame."""
    if all(_plain(dtype) for dtype in frame.dtypes):
        _keep(_digest(data), frame.rechunk())


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=20).digest()


def _plain(dtype: PolarsDataType) -> bool:
    if isinstance(dtype, pl.List | pl.Array):
        return _plain(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return all(_plain(field.dtype) for field in dtype.fields)
    return (dtype.is_numeric() and dtype != pl.Int128) or isinstance(dtype, _PLAIN)


def _keep(digest: bytes, frame: pl.DataFrame) -> None:
    global _held
    size = frame.estimated_size()
    if size > CAPACITY_BYTES // 8:  # a model's training set, not a partition: not worth holding
        return
    with _lock:
        if digest not in _frames:
            _frames[digest] = frame
            _held += size
        while _held > CAPACITY_BYTES:
            _, old = _frames.popitem(last=False)
            _held -= old.estimated_size()
