"""Fixtures shared by every tier: the real candles, a throwaway HURACAN_HOME, loopback servers."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_CANDLES = Path(os.environ.get("HURACAN_SHARED_CANDLES", REPO.parent / "shared" / "data" / "candles"))
#: for modules that read the real candles at import or in module fixtures
requires_shared_candles = pytest.mark.skipif(
    not (SHARED_CANDLES / "BTC-USDT_15m.parquet").is_file(),
    reason=f"real candles not found at {SHARED_CANDLES} (set HURACAN_SHARED_CANDLES)",
)


@pytest.fixture(scope="session")
def shared_candles() -> Path:
    if not (SHARED_CANDLES / "BTC-USDT_15m.parquet").is_file():
        pytest.skip(f"real candles not found at {SHARED_CANDLES} (set HURACAN_SHARED_CANDLES)")
    return SHARED_CANDLES


@pytest.fixture(scope="session")
def btc_15m(shared_candles: Path) -> pl.DataFrame:
    return pl.read_parquet(shared_candles / "BTC-USDT_15m.parquet")


@pytest.fixture
def huracan_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HURACAN_HOME with its own Dagster instance, for one test."""
    home = tmp_path / "home"
    # setenv (not delenv) so that whatever ``huracan`` writes into os.environ is undone after the test
    for name, value in {
        "HURACAN_HOME": str(home), "HURACAN_SOURCE": "bundled", "HURACAN_TIMEFRAME": "15m",
        "HURACAN_SYMBOLS": "", "HURACAN_PG_URL": "", "DAGSTER_HOME": str(home / "dagster"),
    }.items():
        monkeypatch.setenv(name, value)
    (home / "dagster").mkdir(parents=True)
    return home
