"""Model folders: what was written comes back only while it matches its sha256.txt, which is written last."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from huracan_core.models.artifacts import (
    CHECKSUMS,
    REQUIRED_FILES,
    CorruptModelError,
    is_complete,
    read_model_folder,
    write_model_folder,
)
from huracan_core.storage import ArtifactStore, LocalArtifactStore
from huracan_core.storage.keys import model_folder_key

FOLDER = "models/BTC-USDT/15m/20241130_235959Z"


def model_files() -> dict[str, bytes]:
    files = {name: f"{name} of the BTC model\n".encode() for name in REQUIRED_FILES}
    files["model.bin"] = bytes(range(256)) * 4
    files["encoder.pt"] = b"\x80\x02weights"
    return files


class MarkerNeverLands(ArtifactStore):
    """A local store whose process dies just before the commit marker: the files are there, the marker is not."""

    def __init__(self, inner: LocalArtifactStore) -> None:
        self.inner = inner

    def write_bytes(self, key: str, data: bytes) -> None:
        if key.endswith(f"/{CHECKSUMS}"):
            raise OSError("killed before the marker")
        self.inner.write_bytes(key, data)

    def read_bytes(self, key: str) -> bytes:
        return self.inner.read_bytes(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list_keys(self, prefix: str) -> list[str]:
        return self.inner.list_keys(prefix)

    def uri(self, key: str) -> str:
        return self.inner.uri(key)


def test_model_folder_key_names_symbol_timeframe_and_utc_cutoff():
    cutoff = datetime(2024, 12, 1, 1, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    assert model_folder_key("BTC/USDT", "15m", cutoff) == "models/BTC-USDT/15m/20241130_233005Z"
    assert (
        model_folder_key("ETH-USDT", "1h", datetime(2024, 12, 1, tzinfo=UTC)) == "models/ETH-USDT/1h/20241201_000000Z"
    )
    with pytest.raises(ValueError, match="no time zone"):
        model_folder_key("BTC/USDT", "15m", datetime(2024, 12, 1))


def test_round_trip_returns_every_file_and_their_hashes(tmp_path: Path):
    store = LocalArtifactStore(tmp_path)
    files = model_files()
    digests = write_model_folder(store, FOLDER, files)
    assert digests == {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    assert read_model_folder(store, FOLDER) == files
    assert is_complete(store, FOLDER)
    lines = store.read_bytes(f"{FOLDER}/{CHECKSUMS}").decode().splitlines()
    assert lines == [f"{digests[name]}  {name}" for name in sorted(files)]


def test_same_files_give_the_same_marker_bytes(tmp_path: Path):
    first, second = LocalArtifactStore(tmp_path / "a"), LocalArtifactStore(tmp_path / "b")
    files = model_files()
    write_model_folder(first, FOLDER, files)
    write_model_folder(second, FOLDER, dict(reversed(list(files.items()))))
    assert first.read_bytes(f"{FOLDER}/{CHECKSUMS}") == second.read_bytes(f"{FOLDER}/{CHECKSUMS}")


def test_one_changed_byte_in_model_bin_is_refused_naming_file_and_folder(tmp_path: Path):
    store = LocalArtifactStore(tmp_path)
    write_model_folder(store, FOLDER, model_files())
    path = tmp_path / FOLDER / "model.bin"
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptModelError) as caught:
        read_model_folder(store, FOLDER)
    assert "model.bin" in str(caught.value) and store.uri(FOLDER) in str(caught.value)
    assert "sha256" in str(caught.value)


def test_a_folder_without_its_marker_is_incomplete(tmp_path: Path):
    local = LocalArtifactStore(tmp_path)
    with pytest.raises(OSError, match="before the marker"):
        write_model_folder(MarkerNeverLands(local), FOLDER, model_files())
    assert local.exists(f"{FOLDER}/model.bin")  # the files did land: only the marker says the folder is done
    assert not is_complete(local, FOLDER)
    with pytest.raises(CorruptModelError, match=f"incomplete: no {CHECKSUMS}") as caught:
        read_model_folder(local, FOLDER)
    assert local.uri(FOLDER) in str(caught.value)


def test_a_deleted_file_is_refused_naming_it(tmp_path: Path):
    store = LocalArtifactStore(tmp_path)
    write_model_folder(store, FOLDER, model_files())
    (tmp_path / FOLDER / "costs.json").unlink()
    assert not is_complete(store, FOLDER)
    with pytest.raises(CorruptModelError, match="costs.json is listed in sha256.txt but missing") as caught:
        read_model_folder(store, FOLDER)
    assert store.uri(FOLDER) in str(caught.value)


def test_a_marker_that_leaves_out_a_required_file_is_refused(tmp_path: Path):
    store = LocalArtifactStore(tmp_path)
    write_model_folder(store, FOLDER, model_files())
    marker = store.read_bytes(f"{FOLDER}/{CHECKSUMS}").decode()
    store.write_bytes(
        f"{FOLDER}/{CHECKSUMS}",
        "".join(l + "\n" for l in marker.splitlines() if not l.endswith("features.json")).encode(),
    )
    assert not is_complete(store, FOLDER)
    with pytest.raises(CorruptModelError, match="does not list required file.*features.json"):
        read_model_folder(store, FOLDER)


def test_a_rewrite_caught_halfway_fails_instead_of_mixing_versions(tmp_path: Path):
    local = LocalArtifactStore(tmp_path)
    write_model_folder(local, FOLDER, model_files())
    retrained = {**model_files(), "model.bin": b"the retrained booster"}
    with pytest.raises(OSError):
        write_model_folder(MarkerNeverLands(local), FOLDER, retrained)
    with pytest.raises(CorruptModelError, match="model.bin has sha256"):
        read_model_folder(local, FOLDER)
    write_model_folder(local, FOLDER, retrained)
    assert read_model_folder(local, FOLDER) == retrained


def test_write_refuses_a_folder_missing_a_required_file_and_writes_nothing(tmp_path: Path):
    store = LocalArtifactStore(tmp_path)
    files = model_files()
    del files["metrics.json"]
    with pytest.raises(ValueError, match="missing required file.*metrics.json"):
        write_model_folder(store, FOLDER, files)
    with pytest.raises(ValueError, match="not a plain file name"):
        write_model_folder(store, FOLDER, {**model_files(), "../escape.bin": b""})
    assert store.list_keys("models/") == []
