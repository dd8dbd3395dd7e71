"""The Archive on S3 (moto's server on loopback, the real boto3 / dagster-aws client): the same keys as the local
folder, checksums verified on read, a lock that holds across processes, and the whole chain materialized on it."""

from __future__ import annotations

import json
import multiprocessing
import time
from datetime import datetime, timedelta

import dagster as dg
import duckdb
import polars as pl
import pytest

from huracan_core.champions.book import ChampionBook
from huracan_core.models.artifacts import REQUIRED_FILES, read_model_folder, write_model_folder
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.s3 import LOCK_LEASE_S, CorruptArtifact, S3ArtifactStore, parse_s3_url
from huracan_core.storage.store import ArtifactNotFound
from huracan_dagster.defs.assets.exports import analytics_database
from huracan_dagster.defs.io_manager import PartitionedFrameIOManager
from huracan_dagster.defs.partitions import asset_key
from huracan_dagster.defs.resources import ArchiveResource, ExportsResource, MLflowResource
from tests.assets.pipeline import SYMBOLS, TF, failure_text, materialize
from tests.assets.test_trading_assets import ASSETS, CHEAP, EVERYTHING, MODELS, TRAIN_DAYS
from tests.core.test_champion_book import promote_many
from tests.services.s3 import s3_server


@pytest.fixture
def s3(monkeypatch):
    with s3_server(monkeypatch) as server:
        yield server


def _store(s3, prefix: str = "huracan") -> S3ArtifactStore:
    return S3ArtifactStore(s3.client(), s3.bucket, prefix)


def test_objects_round_trip_under_the_same_keys_and_a_damaged_one_names_itself(s3) -> None:
    store = _store(s3)
    frame = pl.DataFrame({"a": [1.0, 2.0]})
    store.write_parquet("candles/BTC-USDT/15m/2024-12-01.parquet", frame)
    store.write_json("champions/roster.json", {"x": 1})
    assert store.read_parquet("candles/BTC-USDT/15m/2024-12-01.parquet").equals(frame)
    assert store.list_keys("") == ["candles/BTC-USDT/15m/2024-12-01.parquet", "champions/roster.json"]
    assert store.uri("champions/roster.json") == f"s3://{s3.bucket}/huracan/champions/roster.json"
    with pytest.raises(ArtifactNotFound, match="summaries/daily/2024-12-01.json"):
        store.read_json("summaries/daily/2024-12-01.json")
    # bytes changed behind the Archive's back (a bad copy, a tool that rewrote it): never read as data
    s3.client().put_object(
        Bucket=s3.bucket, Key="huracan/champions/roster.json", Body=b'{"x": 2}', Metadata={"sha256": "0" * 64}
    )
    with pytest.raises(CorruptArtifact, match=r"s3://.*/huracan/champions/roster.json: 8 bytes with sha256"):
        store.read_json("champions/roster.json")
    s3.client().put_object(Bucket=s3.bucket, Key="huracan/champions/other.json", Body=b"{}")
    with pytest.raises(CorruptArtifact, match="carries no sha256"):
        store.read_json("champions/other.json")
    with pytest.raises(ValueError, match="escapes the store root"):
        store.write_bytes("../outside", b"")
    with pytest.raises(ValueError, match="not an s3://bucket"):
        parse_s3_url("archive/folder")


def test_a_model_folder_altered_on_s3_fails_its_checksum(s3) -> None:
    store = _store(s3)
    write_model_folder(store, "models/BTC-USDT/15m/a", {f: f"{f}\n".encode() for f in REQUIRED_FILES})
    assert set(read_model_folder(store, "models/BTC-USDT/15m/a")) >= set(REQUIRED_FILES)
    store.write_bytes(f"models/BTC-USDT/15m/a/{REQUIRED_FILES[0]}", b"swapped")  # a valid object, the wrong content
    with pytest.raises(Exception, match="sha256"):
        read_model_folder(store, "models/BTC-USDT/15m/a")


def test_the_lock_is_exclusive_and_a_dead_holders_lock_is_broken_after_its_lease(s3) -> None:
    store, other = _store(s3), S3ArtifactStore(s3.client(), s3.bucket, "huracan", lock_wait_s=0.3)
    with (
        store.lock("champions/promotions.jsonl"),
        pytest.raises(TimeoutError, match="stayed held"),
        other.lock("champions/promotions.jsonl"),
    ):
        pass
    with other.lock("champions/promotions.jsonl"):  # released: free again
        pass
    # a run killed while holding it leaves the object behind, stamped long ago
    stale = json.dumps({"owner": "gone:1", "since": time.time() - LOCK_LEASE_S - 1}).encode()
    s3.client().put_object(Bucket=s3.bucket, Key="huracan/.locks/champions/promotions.jsonl.lock", Body=stale)
    with other.lock("champions/promotions.jsonl"):
        pass
    assert store.list_keys("") == []  # locks are not artifacts


def _promote_many(endpoint: str, bucket: str, worker: int, rounds: int, go) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    promote_many(S3ArtifactStore(client, bucket, "huracan"), worker, rounds, go)


def test_two_processes_promoting_one_coin_on_s3_lose_no_decision(s3) -> None:
    """S3 cannot append: each history write rewrites the object, so without the lock one of two writers' lines
    would be lost."""
    rounds = 12
    spawn = multiprocessing.get_context("spawn")
    go = spawn.Event()
    workers = [spawn.Process(target=_promote_many, args=(s3.endpoint, s3.bucket, w, rounds, go)) for w in (0, 1)]
    for w in workers:
        w.start()
    go.set()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    book = ChampionBook(_store(s3), "15m")
    history = book.history("BTC-USDT")
    assert len({h["decision_key"] for h in history}) == len(history) == 2 * rounds
    assert book.pointer("BTC-USDT") == book.in_force("BTC-USDT", None)["champion"]


def test_a_mirror_holds_exactly_the_objects_and_fetches_only_what_changed(s3, tmp_path) -> None:
    store = _store(s3)
    for n in range(3):
        store.write_bytes(f"exports/t/15m/{n}.parquet", f"v1 {n}".encode())
    assert store.mirror("exports/", tmp_path) == 3
    assert store.mirror("exports/", tmp_path) == 0  # nothing changed: nothing travels
    store.write_bytes("exports/t/15m/1.parquet", b"v2 1")  # same size, other bytes
    store.delete("exports/t/15m/2.parquet")
    assert store.mirror("exports/", tmp_path) == 1
    local = LocalArtifactStore(tmp_path)
    assert local.list_keys("exports/") == ["exports/t/15m/0.parquet", "exports/t/15m/1.parquet"]
    assert local.read_bytes("exports/t/15m/1.parquet") == b"v2 1"


def test_the_whole_chain_materializes_on_s3_with_mlflow_artifacts_beside_it(s3, tmp_path) -> None:
    """Candles to shadow trades, the champion book, the exports and the analysts' DuckDB file, with the Archive
    and MLflow's artifacts on S3: every partition's object is in the bucket at its key, nothing but the exports'
    mirror is written locally, and the views read the same rows as the objects hold."""
    archive = ArchiveResource(
        root=str(tmp_path / "archive"), s3_url=f"s3://{s3.bucket}/huracan", s3_endpoint=s3.endpoint
    )
    mlflow = MLflowResource.for_home(
        tmp_path, artifact_root=f"s3://{s3.bucket}/huracan/mlflow", s3_endpoint=s3.endpoint
    )
    overrides = {
        "archive": archive,
        "frames_io": PartitionedFrameIOManager(archive=archive),
        "mlflow": mlflow,
        "costs": CHEAP,
        "models": MODELS,
    }
    day = "2024-11-29"
    before = datetime.fromisoformat(day).date()

    def run(selection, start, end, assets=ASSETS):
        result = materialize(
            instance, tmp_path / "unused", start, end, assets=assets, selection=selection, extra_resources=overrides
        )
        assert result.success, failure_text(result)

    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        run([asset_key(TF, "candles")], (before - timedelta(days=TRAIN_DAYS + 15)).isoformat(), day)
        run(
            [asset_key(TF, n) for n in ("features", "regimes")],
            (before - timedelta(days=TRAIN_DAYS + 3)).isoformat(),
            day,
        )
        run([asset_key(TF, n) for n in ("signals", "labels")], (before - timedelta(days=TRAIN_DAYS)).isoformat(), day)
        run([*EVERYTHING[4:], asset_key(TF, "exports")], day, day)
        analytics = ExportsResource.for_home(tmp_path)
        result = dg.materialize(
            [analytics_database(TF, [])], instance=instance, resources={"archive": archive, "analytics": analytics}
        )
        assert result.success
    store = archive.store()
    for symbol in SYMBOLS:
        for name in (
            "candles",
            "regimes",
            "signals",
            "labels",
            "coin_model",
            "champion_decisions",
            "shadow_trades",
            "trade_analysis",
        ):
            assert store.exists(f"{name}/{symbol}/{TF}/{day}.parquet"), (name, symbol)
        [folder] = {f.rsplit("/", 1)[0] for f in store.list_keys(f"models/{symbol}/{TF}/")}
        assert set(read_model_folder(store, folder)) >= set(REQUIRED_FILES)  # complete and checksum-valid
    assert store.list_keys("champions/promotions.jsonl")
    assert any(k.endswith("model.bin") or "/artifacts/" in k for k in store.list_keys("mlflow/"))  # MLflow's, on S3
    assert not (tmp_path / "mlflow" / "artifacts").exists()
    local = {p.relative_to(tmp_path / "archive").parts[0] for p in (tmp_path / "archive").rglob("*") if p.is_file()}
    assert local == {"exports"}
    with duckdb.connect(analytics.database, read_only=True) as con:
        for symbol in SYMBOLS:
            ledger = store.read_parquet(f"shadow_trades/{symbol}/{TF}/{day}.parquet")
            rows = con.execute(
                "SELECT count(*) FROM trade_history WHERE partition_key = ?", [f"{day}|{symbol}"]
            ).fetchone()[0]
            assert rows == ledger.height
