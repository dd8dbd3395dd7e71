"""The candles asset: one partition in memory, and ranged materializations into a real instance.

Checks are partitioned: every run records one evaluation per check and per partition it judged.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from huracan_dagster.dagster_internals import AssetCheckExecutionRecordStatus
from huracan_dagster.defs.assets.candles import candle_assets
from huracan_dagster.defs.io_manager import PartitionedFrameIOManager
from huracan_dagster.defs.partitions import SYMBOL_DIMENSION
from huracan_dagster.defs.resources import ArchiveResource, CandleSourceResource
from tests.assets.pipeline import CANDLES, TF, evaluations, failure_text, latest_metadata, materialize

[candles] = candle_assets(TF)
CHECKS = {"candles_valid", "no_gaps", "no_zero_volume_candles", "no_extreme_prints"}
#: each warning check, and the materialization metadata that counts what it flags
WARNING_COUNTS = {
    "no_gaps": "missing_candles",
    "no_zero_volume_candles": "zero_volume_candles",
    "no_extreme_prints": "extreme_prints",
}


def test_one_partition_in_memory_returns_validated_frames_and_a_verdict_per_check():
    """The asset without any archive: ``materialize_to_memory`` (direct invocation cannot take the per-partition
    ``AssetCheckEvaluation`` events a partitioned check needs in Dagster 1.13)."""
    key = "2024-12-02|BTC-USDT"
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(SYMBOL_DIMENSION, ["BTC-USDT"])
    result = dg.materialize_to_memory(
        [candles], instance=instance, resources={"source": CandleSourceResource()}, partition_key=key
    )
    assert result.success
    frame = result.output_for_node(candles.op.name)[key]
    day = datetime(2024, 12, 2, tzinfo=UTC)
    assert frame.height > 0 and frame["timestamp"].is_sorted() and frame["timestamp"].is_unique().all()
    assert frame["timestamp"].min() >= day and frame["timestamp"].max() < day + timedelta(days=1)
    assert (
        frame.select(
            (pl.col("low") <= pl.min_horizontal("open", "close"))
            & (pl.col("high") >= pl.max_horizontal("open", "close"))
        )
        .to_series()
        .all()
    )

    verdicts = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(verdicts) == CHECKS and all(e.partition == key for e in verdicts.values())
    assert verdicts["candles_valid"].passed  # the frame was produced, so every blocking rule held
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["rows"].value == frame.height
    assert verdicts["no_gaps"].passed == (frame.height == 96) == (meta["missing_candles"].value == 0)
    for check, count in WARNING_COUNTS.items():
        assert verdicts[check].passed == (meta[count].value == 0), check
        assert isinstance(verdicts[check].metadata["found"].value, str) and verdicts[check].metadata["found"].value


def materialize_range(
    instance: dg.DagsterInstance, archive: Path, source: str, start: str, end: str, symbols: list[str]
) -> dg.ExecuteInProcessResult:
    return materialize(instance, archive, start, end, symbols, assets=[candles], source=source)


def days(start: str, end: str) -> list[str]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def test_a_ranged_run_materializes_and_records_every_partition_with_metadata(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    symbols = ["BTC-USDT", "ETH-USDT"]
    result = materialize_range(instance, tmp_path / "a", "bundled", "2024-12-01", "2024-12-04", symbols)
    assert result.success
    expected = {f"{d}|{s}" for d in days("2024-12-01", "2024-12-04") for s in symbols}
    assert instance.get_materialized_partitions(CANDLES) == expected
    files = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*.parquet"))
    assert files == sorted(f"candles/{s}/{TF}/{d}.parquet" for d in days("2024-12-01", "2024-12-04") for s in symbols)
    for key in expected:
        meta = latest_metadata(instance, CANDLES, key)
        day, symbol = key.split("|")
        stored = pl.read_parquet(tmp_path / "a" / f"candles/{symbol}/{TF}/{day}.parquet")
        assert meta["rows"].value == stored.height and meta["missing_candles"].value == 96 - stored.height
        assert meta["first_timestamp"].value == stored["timestamp"].min().isoformat()
        assert meta["first_timestamp"].value.startswith(day) and "| timestamp |" in meta["preview"].value


def test_a_ranged_run_records_one_verdict_per_check_and_partition(tmp_path):
    """Each check judges every partition of the run, on that partition's own figures."""
    instance = dg.DagsterInstance.ephemeral()
    symbols = ["BTC-USDT", "ETH-USDT"]
    result = materialize_range(instance, tmp_path, "bundled", "2024-12-04", "2024-12-06", symbols)
    assert result.success  # warning checks report, they never fail the run
    keys = {f"{d}|{s}" for d in days("2024-12-04", "2024-12-06") for s in symbols}
    for check in CHECKS:
        judged = evaluations(result, check)
        assert sorted(e.partition for e in judged) == sorted(keys), check  # exactly one verdict per partition
        assert all(e.asset_key == CANDLES for e in judged)
    assert all(e.passed for e in evaluations(result, "candles_valid"))
    for check, count in WARNING_COUNTS.items():
        for e in evaluations(result, check):
            flagged = latest_metadata(instance, CANDLES, e.partition)[count].value
            assert e.passed == (flagged == 0), (check, e.partition)
            found = e.metadata["found"].value
            assert isinstance(found, str) and "\n" not in found
            if not e.passed:  # a failed verdict says how many bars and which
                assert found.startswith(f"{flagged} ") and "T" in found, found


def test_a_later_narrower_run_never_hides_an_earlier_flag(tmp_path):
    """The latest verdict per partition is what the instance keeps: re-running other days leaves a flag alone."""
    instance = dg.DagsterInstance.ephemeral()
    symbols = ["BTC-USDT", "ETH-USDT"]
    first = materialize_range(instance, tmp_path, "bundled", "2024-12-04", "2024-12-06", symbols)
    assert first.success
    flagged = {(e.check_name, e.partition) for e in first.get_asset_check_evaluations() if not e.passed}
    narrower = [s for s in days("2024-12-04", "2024-12-06") if not any(p.startswith(s) for _, p in flagged)] or [
        "2024-12-04"
    ]
    assert materialize_range(instance, tmp_path, "bundled", narrower[0], narrower[0], symbols).success
    for check in CHECKS:
        infos = instance.event_log_storage.get_asset_check_partition_info([dg.AssetCheckKey(CANDLES, check)])
        failing = {
            i.partition_key for i in infos if i.latest_execution_status == AssetCheckExecutionRecordStatus.FAILED
        }
        assert failing == {p for c, p in flagged if c == check}, check
        assert {i.partition_key for i in infos} == {
            f"{d}|{s}" for d in days("2024-12-04", "2024-12-06") for s in symbols
        }


def test_rematerializing_writes_the_same_bytes(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_range(instance, tmp_path / "a", "bundled", "2024-12-01", "2024-12-03", ["SOL-USDT"]).success
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").rglob("*.parquet")}
    assert len(first) == 3
    assert materialize_range(instance, tmp_path / "a", "bundled", "2024-12-01", "2024-12-03", ["SOL-USDT"]).success
    assert {p.name: p.read_bytes() for p in (tmp_path / "a").rglob("*.parquet")} == first


def test_bad_data_fails_the_run_naming_the_partition_and_keeps_the_good_partition(tmp_path, real_candles):
    replay = tmp_path / "replay"
    replay.mkdir()
    shutil.copy(real_candles / "BTC-USDT_15m.parquet", replay / "BTC-USDT_15m.parquet")
    instance = dg.DagsterInstance.ephemeral()
    archive = tmp_path / "archive"
    good_key, bad_key = "2024-12-01|BTC-USDT", "2024-12-02|BTC-USDT"
    assert materialize_range(instance, archive, f"replay:{replay}", "2024-12-01", "2024-12-02", ["BTC-USDT"]).success
    before = {p: p.read_bytes() for p in archive.rglob("*.parquet")}
    assert len(before) == 2

    frame = pl.read_parquet(replay / "BTC-USDT_15m.parquet")
    broken = frame.with_columns(
        pl.when(pl.col("timestamp").dt.date() == date(2024, 12, 2))
        .then(pl.col("low") * 0 - 1)
        .otherwise(pl.col("low"))
        .alias("low")
    )
    broken.write_parquet(replay / "BTC-USDT_15m.parquet")
    result = materialize_range(instance, archive, f"replay:{replay}", "2024-12-01", "2024-12-02", ["BTC-USDT"])
    assert not result.success
    message = failure_text(result)
    assert bad_key in message and "column 'low'" in message and "price is not positive" in message
    assert good_key not in message
    assert {p: p.read_bytes() for p in archive.rglob("*.parquet")} == before  # nothing written, good or bad
    assert not result.get_asset_materialization_events()
    failed = [c for c in evaluations(result, "candles_valid") if not c.passed]
    assert [c.partition for c in failed] == [bad_key]
    assert failed[0].blocking and "low" in failed[0].metadata["found"].value
    assert "price is not positive" in failed[0].metadata["problems"].value
    assert all(c.passed for c in evaluations(result, "candles_valid") if c.partition != bad_key)


@pytest.mark.parametrize("corruption", ["truncated", "garbage"])
def test_a_half_written_upstream_object_is_a_clear_error(tmp_path, corruption):
    """A reader meets a damaged object (written outside the atomic path): it fails naming it, nothing else."""
    archive = tmp_path / "a"
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_range(instance, archive, "bundled", "2024-12-01", "2024-12-01", ["BTC-USDT"]).success
    path = archive / f"candles/BTC-USDT/{TF}/2024-12-01.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if corruption == "truncated" else b"not parquet")
    io = PartitionedFrameIOManager(archive=ArchiveResource(root=str(archive)))
    upstream = dg.build_output_context(asset_key=CANDLES, definition_metadata=candles.metadata_by_key[CANDLES])
    context = dg.build_input_context(
        asset_key=CANDLES,
        upstream_output=upstream,
        instance=instance,
        asset_partition_key_range=dg.PartitionKeyRange("2024-12-01|BTC-USDT", "2024-12-01|BTC-USDT"),
    )
    with pytest.raises(OSError, match=r"2024-12-01\|BTC-USDT.*cannot read"):
        io.load_input(context)
