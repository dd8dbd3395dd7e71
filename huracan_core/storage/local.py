"""The default Archive: a folder on disk (``$HURACAN_HOME/archive``)."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from huracan_core.storage.leftovers import temporary_prefix
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
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(path.name), suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

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
