"""The candles asset: direct invocation with build_asset_context, and materializations into a real instance."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from huracan_dagster.assets.candles import candles
from huracan_dagster.io_manager import PartitionedFrameIOManager
from huracan_dagster.partitions import SYMBOL_DIMENSION
from huracan_dagster.resources import ArchiveResource, CandleSourceResource


def test_direct_invocation_returns_validated_frames_and_check_results():
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(SYMBOL_DIMENSION, ["BTC-USDT"])
    context = dg.build_asset_context(partition_key="2024-12-02|BTC-USDT", instance=instance)
    events = list(candles(context, source=CandleSourceResource()))
    [output] = [e for e in events if isinstance(e, dg.Output)]
    frame = output.value["2024-12-02|BTC-USDT"]
    assert frame.height == 96 and frame["timestamp"].min().isoformat() == "2024-12-02T00:00:00+00:00"
    checks = {e.check_name: e.passed for e in events if isinstance(e, dg.AssetCheckResult)}
    assert checks == {"candles_valid": True, "no_gaps": True, "no_zero_volume_candles": True, "no_extreme_prints": True}


def resources(archive: Path, source: str) -> dict:
    store = ArchiveResource(root=str(archive))
    return {"source": CandleSourceResource(spec=source), "archive": store, "frames_io": PartitionedFrameIOManager(archive=store)}


def materialize_range(instance: dg.DagsterInstance, archive: Path, source: str, start: str, end: str, symbols: list[str]) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions(SYMBOL_DIMENSION, [s for s in symbols if s not in instance.get_dynamic_partitions(SYMBOL_DIMENSION)])
    return dg.materialize(
        [candles], instance=instance, resources=resources(archive, source), raise_on_error=False,
        tags={"dagster/asset_partition_range_start": f"{start}|{symbols[0]}", "dagster/asset_partition_range_end": f"{end}|{symbols[-1]}"},
    )


def test_a_ranged_run_materializes_and_records_every_partition_with_metadata(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_range(instance, tmp_path / "a", "bundled", "2024-12-01", "2024-12-04", ["BTC-USDT", "ETH-USDT"])
    assert result.success
    expected = {f"2024-12-0{d}|{s}" for d in range(1, 5) for s in ("BTC-USDT", "ETH-USDT")}
    assert instance.get_materialized_partitions(dg.AssetKey("candles")) == expected
    files = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*.parquet"))
    assert files == sorted(f"candles/{s}/15m/2024-12-0{d}.parquet" for d in range(1, 5) for s in ("BTC-USDT", "ETH-USDT"))
    record = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey("candles"), asset_partitions=["2024-12-03|ETH-USDT"]), limit=1).records[0]
    meta = record.asset_materialization.metadata
    assert meta["rows"].value == 96 and meta["missing_candles"].value == 0
    assert meta["first_timestamp"].value == "2024-12-03T00:00:00+00:00" and "| timestamp |" in meta["preview"].value


def test_rematerializing_writes_the_same_bytes(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_range(instance, tmp_path / "a", "bundled", "2024-12-01", "2024-12-03", ["SOL-USDT"]).success
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").rglob("*.parquet")}
    assert materialize_range(instance, tmp_path / "a", "bundled", "2024-12-01", "2024-12-03", ["SOL-USDT"]).success
    assert {p.name: p.read_bytes() for p in (tmp_path / "a").rglob("*.parquet")} == first


def test_bad_data_fails_the_run_naming_the_partition_and_keeps_the_good_partition(tmp_path, shared_candles):
    replay = tmp_path / "replay"
    replay.mkdir()
    shutil.copy(shared_candles / "BTC-USDT_15m.parquet", replay / "BTC-USDT_15m.parquet")
    instance = dg.DagsterInstance.ephemeral()
    archive = tmp_path / "archive"
    assert materialize_range(instance, archive, f"replay:{replay}", "2024-02-01", "2024-02-02", ["BTC-USDT"]).success
    good = (archive / "candles/BTC-USDT/15m/2024-02-02.parquet").read_bytes()

    frame = pl.read_parquet(replay / "BTC-USDT_15m.parquet")
    broken = frame.with_columns(
        pl.when(pl.col("timestamp").dt.date() == date(2024, 2, 2)).then(pl.col("low") * 0 - 1).otherwise(pl.col("low")).alias("low")
    )
    broken.write_parquet(replay / "BTC-USDT_15m.parquet")
    result = materialize_range(instance, archive, f"replay:{replay}", "2024-02-01", "2024-02-02", ["BTC-USDT"])
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    assert "2024-02-02|BTC-USDT" in message and "column 'low'" in message and "price is not positive" in message
    assert "2024-02-01|BTC-USDT" not in message
    assert (archive / "candles/BTC-USDT/15m/2024-02-02.parquet").read_bytes() == good
    [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == "candles_valid"]
    assert not check.passed and check.metadata["affected"].value == ["2024-02-02|BTC-USDT"]


@pytest.mark.parametrize("corruption", ["truncated", "garbage"])
def test_a_half_written_upstream_object_is_a_clear_error(tmp_path, corruption):
    """A reader meets a damaged object (written outside the atomic path): it fails naming it, nothing else."""
    archive = tmp_path / "a"
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_range(instance, archive, "bundled", "2024-12-01", "2024-12-01", ["BTC-USDT"]).success
    path = archive / "candles/BTC-USDT/15m/2024-12-01.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if corruption == "truncated" else b"not parquet")
    io = PartitionedFrameIOManager(archive=ArchiveResource(root=str(archive)))
    context = dg.build_input_context(asset_key=dg.AssetKey("candles"), asset_partition_key_range=dg.PartitionKeyRange("2024-12-01|BTC-USDT", "2024-12-01|BTC-USDT"), instance=instance)
    with pytest.raises(Exception, match="2024-12-01"):
        io.load_input(context)
