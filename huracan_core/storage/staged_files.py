"""A file written under a temporary name, its fsync running beside the writer, renamed over its target once durable.

The Archive writes a step's partitions one after another. Waiting for each fsync before writing the next makes the
disk commit them one by one; with a few in flight it commits them together, while the next ones are encoded
(``bench/bench_archive_writes.py`` measures it against the one-at-a-time write). Each object stays atomic on its own:
its bytes reach the disk before its rename, and a crash leaves the old object and a temporary file that
``leftovers`` removes.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import Future
from pathlib import Path

from huracan_core.storage.leftovers import temporary_prefix
from huracan_core.storage.process_threads import process_pool

#: fsyncs running at once
SYNC_THREADS = 4
#: files written and not yet renamed: bounds the open files and the bytes a long range holds
IN_FLIGHT = 32


class StagedFile:
    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        try:  # the folder is there for all but a range's first object: no look before each
            fd, self.temporary = self._staged(path)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, self.temporary = self._staged(path)
        self.synced: Future[None] | None = None
        self.handle = os.fdopen(fd, "wb")
        try:
            self.handle.write(data)
            self.handle.flush()
            self.synced = process_pool("archive-fsync", SYNC_THREADS).submit(os.fsync, self.handle.fileno())
        except BaseException:
            self.abandon()
            raise

    @staticmethod
    def _staged(path: Path) -> tuple[int, str]:
        return tempfile.mkstemp(prefix=temporary_prefix(path.name), suffix=".tmp", dir=path.parent)

    def land(self) -> None:
        """Rename over the target once the bytes are on disk."""
        try:
            assert self.synced is not None  # set by __init__, or it raised
            self.synced.result()
            self.handle.close()
            os.replace(self.temporary, self.path)
        except BaseException:
            self.abandon()
            raise

    def abandon(self) -> None:
        """Remove the temporary file; the target keeps its old bytes. The fsync is waited for first, so the
        descriptor is never closed (and its number reused) under a running one."""
        if self.synced is not None:
            self.synced.exception()
        self.handle.close()
        Path(self.temporary).unlink(missing_ok=True)
