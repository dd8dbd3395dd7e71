"""A run's equity picture: the same curves give the same bytes, whatever zone their times are stored in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from huracan_core.desk.plots import equity_png

PNG = b"\x89PNG\r\n\x1a\n"


def _curves(zone: str | None) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(3)
    curves = {}
    for symbol in ("BTC-USDT", "ETH-USDT"):
        times = pl.Series([datetime(2024, 12, 1, tzinfo=UTC) + timedelta(minutes=15 * i) for i in range(96 * 3)])
        times = times.dt.convert_time_zone(zone) if zone else times.dt.replace_time_zone(None)
        equity = 10_000 + np.cumsum(rng.normal(0, 3, len(times)))
        curves[symbol] = pl.DataFrame({"timestamp": times, "equity": equity}).reverse()  # any order: drawn sorted
    return curves


def test_the_picture_is_drawn_in_utc_whatever_the_stored_zone() -> None:
    utc = equity_png(_curves("UTC"), "run")
    assert utc.startswith(PNG) and utc == equity_png(_curves("UTC"), "run")
    assert equity_png(_curves("Asia/Tokyo"), "run") == utc  # the same instants, the same picture
    assert equity_png(_curves(None), "run") == utc  # naive times are read as UTC, as matplotlib reads them
    assert equity_png(_curves("UTC"), "another run") != utc
