"""Model folders with a ``sha256.txt`` commit marker, so a loader never runs a half-written or altered model.

The store writes one object atomically but offers no folder rename (S3 has none), so a folder cannot appear all at
once. Instead ``sha256.txt`` is written last: a folder without it was never finished, and a folder being
rewritten fails verification until its new marker lands, because every file must match the hash listed for it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

from huracan_core.storage.store import ArtifactNotFound, ArtifactStore

#: every model folder holds these; others (``encoder.pt`` for models with a sequence encoder) may join them
REQUIRED_FILES = ("model.bin", "config.json", "metrics.json", "costs.json", "features.json")
CHECKSUMS = "sha256.txt"

# sha256sum's text format: 64 hex digits, two spaces, the file name
_LINE = re.compile(r"^([0-9a-f]{64})  (\S(?:.*\S)?)$")


class CorruptModelError(ValueError):
    """A model folder that is incomplete or does not match its ``sha256.txt``; names the folder and the file."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_name(store: ArtifactStore, folder: str, name: str) -> None:
    # a name with a slash would leave the folder, one with a newline or edge space would break a sha256.txt line
    if not name or "/" in name or name != name.strip() or "\n" in name or name == CHECKSUMS:
        raise ValueError(f"model folder {store.uri(folder)}: {name!r} is not a plain file name that may be stored")


def write_model_folder(
    store: ArtifactStore, folder: str, files: Mapping[str, bytes], required: Sequence[str] = REQUIRED_FILES
) -> dict[str, str]:
    """Writes every file, then ``sha256.txt``; returns ``{name: sha256}``. Sorted lines, so the same files give
    the same marker bytes. ``required``: what a folder of this kind must hold (an encoder's folder: ``encoder.pt``)."""
    folder = folder.rstrip("/")
    missing = [name for name in required if name not in files]
    if missing:
        raise ValueError(f"model folder {store.uri(folder)}: missing required file(s) {', '.join(missing)}")
    for name in files:
        _check_name(store, folder, name)
    digests = {name: _sha256(files[name]) for name in sorted(files)}
    for name, data in files.items():
        store.write_bytes(f"{folder}/{name}", data)
    store.write_bytes(f"{folder}/{CHECKSUMS}", checksums_text(digests))
    return digests


def checksums_text(digests: Mapping[str, str]) -> bytes:
    """``sha256.txt`` for ``{name: sha256}``: sha256sum's format, sorted, so the same files give the same bytes."""
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests)).encode()


def _listed_digests(store: ArtifactStore, folder: str, required: Sequence[str]) -> dict[str, str]:
    """The marker's ``{name: sha256}``, refused when it is absent, malformed or leaves out a required file."""
    where = store.uri(folder)
    try:
        text = store.read_bytes(f"{folder}/{CHECKSUMS}").decode()
    except ArtifactNotFound:
        raise CorruptModelError(f"model folder {where}: incomplete: no {CHECKSUMS} (it is written last)") from None
    except UnicodeDecodeError:
        raise CorruptModelError(f"model folder {where}: {CHECKSUMS} is not text") from None
    digests: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.match(line)
        if match is None:
            raise CorruptModelError(
                f"model folder {where}: {CHECKSUMS} line {number} is not '<sha256>  <name>': {line!r}"
            )
        digest, name = match.groups()
        if name in digests:
            raise CorruptModelError(f"model folder {where}: {CHECKSUMS} lists {name} twice")
        digests[name] = digest
    unlisted = [name for name in required if name not in digests]
    if unlisted:
        raise CorruptModelError(
            f"model folder {where}: {CHECKSUMS} does not list required file(s) {', '.join(unlisted)}"
        )
    return digests


def read_model_folder(store: ArtifactStore, folder: str, required: Sequence[str] = REQUIRED_FILES) -> dict[str, bytes]:
    """Every file the marker lists, each checked against its hash; files it does not list are left alone (a
    rewrite with fewer files cannot delete the old ones from a store without deletes)."""
    folder = folder.rstrip("/")
    files: dict[str, bytes] = {}
    for name, expected in _listed_digests(store, folder, required).items():
        try:
            data = store.read_bytes(f"{folder}/{name}")
        except ArtifactNotFound:
            where = store.uri(folder)
            raise CorruptModelError(f"model folder {where}: {name} is listed in {CHECKSUMS} but missing") from None
        actual = _sha256(data)
        if actual != expected:
            raise CorruptModelError(
                f"model folder {store.uri(folder)}: {name} has sha256 {actual}, {CHECKSUMS} says {expected} "
                "(altered, or the folder is being rewritten)"
            )
        files[name] = data
    return files


def is_complete(store: ArtifactStore, folder: str, required: Sequence[str] = REQUIRED_FILES) -> bool:
    """The folder was finished: its marker lists every required file and every listed file exists. Cheap (no
    file is read but the marker), for choosing among folders; ``read_model_folder`` still verifies the bytes."""
    folder = folder.rstrip("/")
    try:
        listed = _listed_digests(store, folder, required)
    except CorruptModelError:
        return False
    return all(store.exists(f"{folder}/{name}") for name in listed)
