"""The default Archive: a folder on disk (``$HURACAN_HOME/archive``)."""

from __future__ import annotations

import fcntl
import os
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from huracan_core.storage.staged_files import IN_FLIGHT, StagedFile
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore


class LocalArtifactStore(ArtifactStore):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self._root = str(self.root)
        self._inside = os.path.join(self._root, "")

    def _path(self, key: str) -> Path:
        """The key's file under the root; a key that climbs out of it (``..``, an absolute path) is refused. Only the
        key's text is normalised: resolving it on disk costs a ``stat`` per folder of the path, on every read."""
        path = os.path.normpath(os.path.join(self._root, key))
        if not path.startswith(self._inside):
            raise ValueError(f"key {key!r} escapes the store root {self.root}")
        return Path(path)

    def write_bytes(self, key: str, data: bytes) -> None:
        """Temp file in the target folder (named for this process: ``leftovers``), fsync, then rename: a crash leaves
        the old object intact."""
        self.write_many([(key, data)])

    def write_many(self, objects: Iterable[tuple[str, bytes]]) -> None:
        """Each object as ``write_bytes`` writes it, but while one waits for its fsync the next ones are written,
        so the disk can commit several fsyncs together (``bench/bench_archive_writes.py``: small objects gain, a
        wide frame's encoding competes with the fsync threads for the cores). Renames keep the given order, each
        only after its own fsync; when anything fails, what is not yet renamed is removed and nothing more is."""
        staged: deque[StagedFile] = deque()
        try:
            for key, data in objects:
                staged.append(StagedFile(self._path(key), data))
                if len(staged) > IN_FLIGHT:
                    staged.popleft().land()
            while staged:
                staged.popleft().land()
        finally:
            for left in staged:
                left.abandon()

    def read_bytes(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise ArtifactNotFound(f"no artifact {key!r} in {self.root}")
        return path.read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_keys(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        folder = base if base.is_dir() else base.parent
        if not folder.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not Path(k).name.startswith("."))

    def append_bytes(self, key: str, data: bytes) -> None:
        """In place (O_APPEND), flushed to disk: a reader sees the old bytes plus a prefix of ``data``, so a log's
        reader treats a last line without its newline as not yet written."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """An ``flock`` on ``.locks/<key>.lock`` under the root: held by one process (and one thread) at a time,
        released by the kernel if the holder dies, so a killed run never leaves a coin locked."""
        path = self._path(f".locks/{key}.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def uri(self, key: str) -> str:
        return str(self._path(key))
