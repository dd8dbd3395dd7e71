"""What every artifact store offers; implementations differ only in where bytes live.

Every write replaces a whole object atomically, so a reader sees the old object or the new one, never half.
"""

from __future__ import annotations

import io
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import polars as pl

from huracan_core.storage.arrow_batches import arrow_writable, with_arrow_tables
from huracan_core.storage.decoded_frames import decoded, remember
from huracan_core.storage.parallel_encoding import encoded_in_order

if TYPE_CHECKING:
    import pyarrow as pa


def parquet_bytes(frame: pl.DataFrame, table: pa.Table | None = None) -> bytes:
    """Fixed writer, codec and statistics, so the same frame gives the same bytes (and the same sha256).

    Encoding a range's partitions is a large part of a step (two threads share it: ``parallel_encoding``), so the
    quickest writer that keeps the bytes readable by everyone: Arrow's, in LZ4, with dictionaries only for
    categorical columns (which need them to read back as categories). On a day's partitions it encodes in 0.6–0.9×
    the time of polars' own writer (0.3× on candles), in 0.87–0.94× the bytes (``bench/bench_archive_writes.py``).
    A frame without rows (a day without trades: only its schema to write) goes through polars' writer, quicker
    there by half, and so does a 128-bit integer, which Arrow cannot hold. Statistics stay for readers that prune
    row groups. ``table``: the frame already in Arrow (``arrow_batches``), the same bytes."""
    if not arrow_writable(frame):
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression="lz4", statistics=True)
        return buffer.getvalue()
    import pyarrow as pa  # a step's import: loading the code location does not need it
    import pyarrow.parquet as pq

    arrow = frame.to_arrow() if table is None else table
    categorical = [field.name for field in arrow.schema if pa.types.is_dictionary(field.type)]
    sink = pa.BufferOutputStream()
    dictionaries: Any = categorical or False  # Arrow takes the columns to encode so, though its stub says a bool
    pq.write_table(arrow, sink, compression="lz4", use_dictionary=dictionaries, write_statistics=True)
    return sink.getvalue().to_pybytes()


def _remembered(frame: pl.DataFrame, table: pa.Table | None = None) -> bytes:
    data = parquet_bytes(frame, table)
    remember(data, frame)
    return data


def json_bytes(payload: Any) -> bytes:
    """Sorted keys and a fixed indent: the same payload gives the same bytes."""
    return (json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n").encode()


class ArtifactNotFound(FileNotFoundError):
    """Raised when a key has no object; names the key and the store."""


class ArtifactStore(ABC):
    @abstractmethod
    def write_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def read_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list_keys(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, sorted, so listings are deterministic across stores."""

    @abstractmethod
    def uri(self, key: str) -> str:
        """Where a person (or another tool) finds the object: a path or an ``s3://`` URL."""

    def write_many(self, objects: Iterable[tuple[str, bytes]]) -> None:
        """Several objects, each replaced atomically as ``write_bytes`` does, in the order given (a step's
        partitions). This default writes them one by one; a store that can overlap the waits does."""
        for key, data in objects:
            self.write_bytes(key, data)

    def append_bytes(self, key: str, data: bytes) -> None:
        """Add ``data`` at the end of an object (created when absent), for logs written under ``lock``. This
        default rewrites the whole object (atomic); a store that can append in place does."""
        try:
            old = self.read_bytes(key)
        except ArtifactNotFound:
            old = b""
        self.write_bytes(key, old + data)

    def delete(self, key: str) -> None:
        """Remove one object (absent is fine). Only for pointers that must stop pointing, never for data."""
        raise NotImplementedError(f"{type(self).__name__} cannot delete {key}")

    def lock(self, key: str) -> AbstractContextManager[None]:
        """Exclusive across processes while held, for read-modify-write of shared objects (the champion history
        and pointers). A store that cannot lock says so rather than pretending."""
        raise NotImplementedError(f"{type(self).__name__} offers no lock, so it cannot hold champions ({key})")

    def write_parquet(self, key: str, frame: pl.DataFrame) -> None:
        self.write_bytes(key, _remembered(frame))

    def write_parquets(self, frames: Iterable[tuple[str, pl.DataFrame]]) -> None:
        """Each frame is encoded a few objects ahead of its write, on the encoding threads
        (``parallel_encoding``), so a long range never holds all its bytes at once (its conversion to Arrow may
        come with the next ones', ``arrow_batches``); and kept as what its bytes decode to, so a later step of this
        process reads it without decoding it."""
        self.write_many(encoded_in_order(with_arrow_tables(frames), _remembered))

    def read_parquet(self, key: str) -> pl.DataFrame:
        return decoded(self.read_bytes(key))

    def write_json(self, key: str, payload: Any) -> None:
        self.write_bytes(key, json_bytes(payload))

    def read_json(self, key: str) -> Any:
        return json.loads(self.read_bytes(key))
