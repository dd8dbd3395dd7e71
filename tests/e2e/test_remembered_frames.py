"""A step reads what an earlier step of its process wrote from memory (``decoded_frames.remember``): that is only
sound if every frame kept is exactly what its object decodes to, and if a partition computed from kept frames is
the same bytes as one computed from decoded ones, for every asset of the chain."""

from __future__ import annotations

import io
from collections import OrderedDict
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from huracan_core.storage import decoded_frames, store
from huracan_dagster.cli.main import main
from tests.conftest import use_home
from tests.e2e.test_huracan_run import PER_DAY_CHAIN, PIPELINE

SYMBOLS = "BTC/USDT,ETH/USDT,SOL/USDT"


def _run_chain(home: Path, monkeypatch) -> dict[str, bytes]:
    """The chain over two days in ``home``, in this process, from an empty cache; every parquet object it wrote."""
    use_home(home, monkeypatch)
    monkeypatch.setenv("HURACAN_SYMBOLS", SYMBOLS)
    monkeypatch.setattr(decoded_frames, "_frames", OrderedDict())
    monkeypatch.setattr(decoded_frames, "_held", 0)
    assert (
        main(["run", "--start", "2024-12-01", "--end", "2024-12-02", "--symbols", SYMBOLS, "--select", PER_DAY_CHAIN])
        == 0
    )
    archive = home / "archive"
    return {str(path.relative_to(archive)): path.read_bytes() for path in sorted(archive.rglob("*.parquet"))}


def test_frames_kept_at_their_write_are_their_decodes_and_give_the_bytes_decoded_frames_give(tmp_path, monkeypatch):
    kept: list[bytes] = []
    remember = decoded_frames.remember

    def recorded(data: bytes, frame: pl.DataFrame) -> None:
        kept.append(data)
        remember(data, frame)

    monkeypatch.setattr(store, "remember", recorded)
    from_memory = _run_chain(tmp_path / "kept", monkeypatch)
    folders = {key.split("/")[0] for key in from_memory}
    assert set(PIPELINE) - {"champion"} | {"champion_decisions"} <= folders, folders
    written = {decoded_frames._digest(data) for data in kept}
    for key, data in from_memory.items():
        digest = decoded_frames._digest(data)
        assert digest in written, f"{key}: written by this process, so kept at its write"
        frame = decoded_frames._frames[digest]
        assert_frame_equal(frame, pl.read_parquet(io.BytesIO(data)), check_exact=True, check_column_order=True)
        assert frame.n_chunks("all") == [1] * frame.width, key

    # the same chain where nothing is kept: every step decodes what the steps before it wrote
    monkeypatch.setattr(store, "remember", lambda data, frame: None)
    decoding = _run_chain(tmp_path / "decoding", monkeypatch)
    assert decoding.keys() == from_memory.keys()
    assert [key for key in from_memory if from_memory[key] != decoding[key]] == []
