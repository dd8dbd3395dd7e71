"""A step reads what an earlier step of its process wrote from memory (``decoded_frames.remember``): that is only
sound if every frame kept is exactly what its object decodes to, for every asset of the chain."""

from __future__ import annotations

import io
from collections import OrderedDict

import polars as pl
from polars.testing import assert_frame_equal

from huracan_core.storage import decoded_frames, store
from huracan_dagster.cli.main import main
from tests.e2e.test_huracan_run import PER_DAY_CHAIN, PIPELINE


def test_every_frame_kept_at_its_write_is_what_its_object_decodes_to(huracan_home, monkeypatch):
    kept: list[bytes] = []
    remember = decoded_frames.remember

    def recorded(data: bytes, frame: pl.DataFrame) -> None:
        kept.append(data)
        remember(data, frame)

    monkeypatch.setattr(store, "remember", recorded)
    monkeypatch.setattr(decoded_frames, "_frames", OrderedDict())
    monkeypatch.setattr(decoded_frames, "_held", 0)
    symbols = "BTC/USDT,ETH/USDT,SOL/USDT"
    monkeypatch.setenv("HURACAN_SYMBOLS", symbols)
    assert (
        main(["run", "--start", "2024-12-01", "--end", "2024-12-02", "--symbols", symbols, "--select", PER_DAY_CHAIN])
        == 0
    )
    objects = sorted((huracan_home / "archive").rglob("*.parquet"))
    written = {decoded_frames._digest(data) for data in kept}
    folders = {path.relative_to(huracan_home / "archive").parts[0] for path in objects}
    assert set(PIPELINE) - {"champion"} | {"champion_decisions"} <= folders, folders
    for path in objects:
        data = path.read_bytes()
        digest = decoded_frames._digest(data)
        assert digest in written, f"{path}: written by this process, so kept at its write"
        frame = decoded_frames._frames[digest]
        assert_frame_equal(frame, pl.read_parquet(io.BytesIO(data)), check_exact=True, check_column_order=True)
        assert frame.n_chunks("all") == [1] * frame.width, path
