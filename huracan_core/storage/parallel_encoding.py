"""A range's partitions encoded to Parquet on a few threads, in their order, while the step writes the ones before.

Arrow's Parquet writer holds the GIL for little of its work (a day of features, 74 columns × 96 rows: ~1.2 ms,
nearly all of it per column), so two threads encode a range's frames in about half the wall of one, beside the
step's own thread, which converts the next batch to Arrow and writes and fsyncs the objects already encoded. Which
thread encodes a frame changes nothing: each object is ``parquet_bytes`` of its frame. At most ``AHEAD`` frames
wait encoded or encoding, so a long range never holds all its bytes at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING

import polars as pl

from huracan_core.cores import at_most_cores
from huracan_core.storage.process_threads import process_pool

if TYPE_CHECKING:
    import pyarrow as pa

#: encoding threads at most: a process rarely has more cores to itself, and a step's own thread needs one
ENCODERS = 2
#: frames handed to the encoders before the first of them is written
AHEAD = 8

Encode = Callable[[pl.DataFrame, "pa.Table | None"], bytes]


def encoded_in_order(
    items: Iterable[tuple[str, pl.DataFrame, pa.Table | None]], encode: Encode
) -> Iterator[tuple[str, bytes]]:
    """``(key, encode(frame, table))`` in the order given. An encoding's error is raised when its object's turn
    comes, as it would have been encoding one by one; the objects after it are not written."""
    pool = process_pool("parquet-encode", at_most_cores(ENCODERS))
    waiting: deque[tuple[str, Future[bytes]]] = deque()
    try:
        for key, frame, table in items:
            waiting.append((key, pool.submit(encode, frame, table)))
            if len(waiting) > AHEAD:
                key, data = waiting.popleft()
                yield key, data.result()
        while waiting:
            key, data = waiting.popleft()
            yield key, data.result()
    finally:  # the writer stopped early (its error, or this one's): what has not started never will
        for _, left in waiting:
            left.cancel()
