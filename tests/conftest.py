"""Fixtures shared by every tier: the real candles, a throwaway HURACAN_HOME, loopback servers.

Two sets of real candles: the shared set (``../shared/data/candles``, or ``HURACAN_SHARED_CANDLES``: 12 pairs,
5m/15m/1h, 2020..2024) and the sample bundled in the package (5 pairs, 15m, 2024-07..12, an exact cut of the
shared set). Tests that read ``real_candles`` or ``real_15m`` run on either and keep their windows inside the
sample, so they give the same results on both; only tests about data outside the sample (other pairs, timeframes
or years) need the shared set, and skip without it, saying so.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from huracan_core.sources.bundled import SAMPLE_DIR

REPO = Path(__file__).resolve().parents[1]
SAMPLE_START = datetime(2024, 7, 1, tzinfo=UTC)
SHARED_CANDLES = Path(os.environ.get("HURACAN_SHARED_CANDLES", REPO.parent / "shared" / "data" / "candles"))
HAS_SHARED_CANDLES = (SHARED_CANDLES / "BTC-USDT_15m.parquet").is_file()
NO_SHARED_CANDLES = f"real candles not found at {SHARED_CANDLES} (set HURACAN_SHARED_CANDLES)"
#: the real 15m candles of BTC, ETH, SOL, BNB and XRP over 2024-07..12, from whichever set is present
REAL_CANDLES = SHARED_CANDLES if HAS_SHARED_CANDLES else SAMPLE_DIR
#: for tests about data that only the shared set holds (other pairs, timeframes or years)
requires_shared_candles = pytest.mark.skipif(not HAS_SHARED_CANDLES, reason=NO_SHARED_CANDLES)
#: the tiers in the order their files are handed out: ``make test`` gives each of two workers a whole file at a time
#: in collection order (``--dist loadfile --no-loadscope-reorder``), and the tiers that start servers and processes
#: hold the longest files; handed out last, one of them would leave the other worker idle for a minute
TIER_ORDER = ("ui", "e2e", "services", "assets", "definitions", "core")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def tier(item: pytest.Item) -> int:
        name = item.path.relative_to(REPO / "tests").parts[0]
        return TIER_ORDER.index(name) if name in TIER_ORDER else len(TIER_ORDER)

    items.sort(key=tier)  # stable: a file's own tests keep their order


@pytest.fixture(scope="session")
def shared_candles() -> Path:
    if not HAS_SHARED_CANDLES:
        pytest.skip(NO_SHARED_CANDLES)
    return SHARED_CANDLES


@pytest.fixture(scope="session")
def real_candles() -> Path:
    return REAL_CANDLES


@pytest.fixture(scope="session")
def btc_15m() -> pl.DataFrame:
    return real_15m("BTC-USDT")


def real_15m(pair: str) -> pl.DataFrame:
    """One pair's real 15m candles cut to the bundled sample's span, so results do not depend on the set."""
    frame = pl.read_parquet(REAL_CANDLES / f"{pair}_15m.parquet")
    return frame.filter(pl.col("timestamp") >= SAMPLE_START)


@pytest.fixture
def huracan_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HURACAN_HOME with its own Dagster instance, for one test."""
    return use_home(tmp_path / "home", monkeypatch)


def use_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every variable at ``home`` (a module-scoped fixture passes its own ``MonkeyPatch``)."""
    # setenv (not delenv) so that whatever ``huracan`` writes into os.environ is undone after the test
    for name, value in {
        "HURACAN_HOME": str(home),
        "HURACAN_SOURCE": "bundled",
        "HURACAN_TIMEFRAME": "15m",
        "HURACAN_SYMBOLS": "",
        "HURACAN_PG_URL": "",
        "DAGSTER_HOME": str(home / "dagster"),
        "HURACAN_S3_URL": "",
        "HURACAN_S3_ENDPOINT": "",
        "HURACAN_MLFLOW_URI": "",
        "DAGSTER_EVENT_BATCH_SIZE": "1000",
        "HURACAN_RETRAIN_EVERY_DAYS": "",
        "HURACAN_RESEARCH_SPACE": "",
        "HURACAN_RESEARCH_DAYS": "",
        "HURACAN_RESEARCH_CRON": "",
        "HURACAN_RUN_WORKERS": "",
    }.items():
        monkeypatch.setenv(name, value)
    (home / "dagster").mkdir(parents=True)
    return home
