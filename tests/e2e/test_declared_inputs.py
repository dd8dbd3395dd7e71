"""A partition is a pure function of its declared inputs, and two timeframes share one HURACAN_HOME untouched.

Issue: BTC's ``rs_rank`` used to depend on which other candle partitions happened to exist. Now the universe is
declared per day and every partition reads exactly its window: the same bytes in a fresh home, in a busy one
and in a home that ran the day inside a longer range.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from huracan_core.champions.book import ChampionBook
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.sources.bundled import SAMPLE_DIR
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import PROMOTIONS_KEY, daily_summary_key, roster_key
from huracan_dagster.cli.main import main

DAY = "2024-12-04"
UNIVERSE = "BTC/USDT,ETH/USDT,SOL/USDT"


def feature_bytes(home: Path, symbol: str = "BTC-USDT", day: str = DAY) -> bytes:
    recipe = FeatureRecipe.default("15m").version_hash
    return (home / "archive" / "features" / recipe / symbol / f"{day}.parquet").read_bytes()


def use_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("HURACAN_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.setenv("HURACAN_SYMBOLS", UNIVERSE)


@pytest.mark.slow
def test_a_feature_partition_is_the_same_bytes_in_fresh_busy_and_ranged_homes(huracan_home, tmp_path, monkeypatch):
    # fresh: only BTC asked for; the declared universe's and the reference's candles come along by themselves
    use_home(monkeypatch, tmp_path / "fresh")
    assert main(["run", "--date", DAY, "--symbols", "BTC/USDT", "--select", "+features"]) == 0
    fresh = feature_bytes(tmp_path / "fresh")
    # busy: more symbols registered and materialized (XRP, BNB are not in the universe), the day run again narrowly
    use_home(monkeypatch, tmp_path / "busy")
    assert (
        main(
            [
                "run",
                "--start",
                "2024-12-01",
                "--end",
                "2024-12-05",
                "--symbols",
                "BTC/USDT,ETH/USDT,XRP/USDT,SOL/USDT,BNB/USDT",
                "--select",
                "+features",
            ]
        )
        == 0
    )
    ranged = feature_bytes(tmp_path / "busy")
    assert main(["run", "--date", DAY, "--symbols", "BTC/USDT,SOL/USDT", "--select", "+features"]) == 0
    busy = feature_bytes(tmp_path / "busy")
    assert fresh == ranged == busy
    frame = pl.read_parquet(
        tmp_path
        / "fresh"
        / "archive"
        / "features"
        / FeatureRecipe.default("15m").version_hash
        / "BTC-USDT"
        / f"{DAY}.parquet"
    )
    assert frame["rs_rank"].null_count() == 0 and frame["universe_hash"].n_unique() == 1
    # the universe is recorded on the partition, where a person looks
    instance = dg.DagsterInstance.get()
    record = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(["15m", "features"]), asset_partitions=[f"{DAY}|BTC-USDT"]), limit=1
    ).records[0]
    assert record.asset_materialization.metadata["universe"].value == "BTC-USDT, ETH-USDT, SOL-USDT"


def write_replay(folder: Path, symbols: list[str]) -> None:
    """15m files copied from the bundled sample, 1h files resampled from them (a real-shaped second timeframe)."""
    folder.mkdir(parents=True)
    for symbol in symbols:
        candles = pl.read_parquet(SAMPLE_DIR / f"{symbol}_15m.parquet")
        candles.write_parquet(folder / f"{symbol}_15m.parquet")
        hourly = (
            candles.sort("timestamp")
            .group_by_dynamic("timestamp", every="1h")
            .agg(
                pl.col("open").first(),
                pl.col("high").max(),
                pl.col("low").min(),
                pl.col("close").last(),
                *[pl.col(c).sum() for c in candles.columns if c not in ("timestamp", "open", "high", "low", "close")],
            )
            .filter(pl.len().over(pl.col("timestamp").dt.date()) == 24)
        )
        hourly.select(candles.columns).write_parquet(folder / f"{symbol}_1h.parquet")


def digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


@pytest.mark.slow
def test_two_timeframes_in_one_home_never_touch_each_other(huracan_home, tmp_path, monkeypatch):
    replay = tmp_path / "replay"
    write_replay(replay, ["BTC-USDT", "ETH-USDT"])
    monkeypatch.setenv("HURACAN_SYMBOLS", "BTC/USDT,ETH/USDT")
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "15m,1h")
    common = ["--date", DAY, "--source", f"replay:{replay}", "--select", "+regimes"]
    assert main(["run", "--timeframe", "15m", *common]) == 0
    archive = huracan_home / "archive"
    before = digests(archive)
    assert main(["run", "--timeframe", "1h", *common]) == 0
    after = digests(archive)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing of 15m was rewritten
    new = set(after) - set(before)
    assert new and all("/1h/" in k or k.startswith("features/") for k in new)
    assert not any(
        k.startswith("features/") and k.split("/")[1] == FeatureRecipe.default("15m").version_hash for k in new
    )
    instance = dg.DagsterInstance.get()
    for timeframe in ("15m", "1h"):
        for asset in ("candles", "features", "regimes"):
            assert f"{DAY}|BTC-USDT" in instance.get_materialized_partitions(dg.AssetKey([timeframe, asset]))

    # through the champions, the roster and the daily summary: each timeframe decides and summarises its own day
    decided = ["--date", DAY, "--source", f"replay:{replay}", "--select", "champion or roster or daily_summary"]
    assert main(["run", "--timeframe", "15m", *decided]) == 0
    before = digests(archive)
    assert main(["run", "--timeframe", "1h", *decided]) == 0
    after = digests(archive)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed - {PROMOTIONS_KEY} and all("/1h/" in k for k in changed - {PROMOTIONS_KEY}), changed
    store = LocalArtifactStore(archive)
    for timeframe in ("15m", "1h"):
        lines = ChampionBook(store, timeframe).history()
        assert {(line["symbol"], line["timeframe"]) for line in lines} == {
            ("BTC-USDT", timeframe),
            ("ETH-USDT", timeframe),
        }
        assert store.read_json(daily_summary_key(timeframe, date.fromisoformat(DAY)))["timeframe"] == timeframe
        assert store.read_json(roster_key(timeframe))["timeframe"] == timeframe
