"""The services the settings name, each with a client built for a health check: a timeout of ``timeout_s`` and no
retries (the pipeline's own clients wait and retry, which is right for a run and wrong for a probe)."""

from __future__ import annotations

from huracan_core.broadcast.telegram import (
    CHAT_VARIABLE,
    DEFAULT_BASE_URL,
    TOKEN_VARIABLE,
    URL_VARIABLE,
    TelegramClient,
)
from huracan_core.health import Finding, State, probes
from huracan_core.storage import ArtifactStore, LocalArtifactStore
from huracan_core.storage.s3 import S3ArtifactStore, parse_s3_url
from huracan_dagster.defs.definitions import mlflow_resource
from huracan_dagster.defs.resources import ArchiveResource
from huracan_dagster.settings import Settings


def instance_database(settings: Settings, timeout_s: float) -> Finding:
    """The instance's PostgreSQL answers (before Dagster opens it: Dagster retries a dead server for a long while)."""
    return probes.database(settings.pg_url, timeout_s, count="runs", created_by="the first `huracan` command")


def archive(settings: Settings, timeout_s: float) -> Finding:
    return probes.archive(archive_store(settings, timeout_s))


def archive_store(settings: Settings, timeout_s: float) -> ArtifactStore:
    """The Archive the settings name; on S3 with a client that gives up after ``timeout_s`` and one attempt."""
    if not settings.s3_url:
        return LocalArtifactStore(settings.archive_root)
    import boto3
    from botocore.config import Config

    bucket, prefix = parse_s3_url(settings.s3_url)
    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint or None,
        region_name=ArchiveResource.model_fields["s3_region"].default,
        config=Config(connect_timeout=timeout_s, read_timeout=timeout_s, retries={"total_max_attempts": 1}),
    )
    return S3ArtifactStore(client, bucket, prefix)


def mlflow_store(settings: Settings, timeout_s: float) -> Finding:
    """MLflow's tracking store (SQLite under the home, or ``HURACAN_MLFLOW_URI``); its artifacts live beside the
    Archive, which has its own row."""
    uri = mlflow_resource(settings).config().tracking_uri
    return probes.database(uri, timeout_s, count="runs", created_by="the first coin model's training")


def exchange(settings: Settings, timeout_s: float) -> Finding:
    """The exchange of a ``ccxt:`` source; a recorded source calls none."""
    kind, _, exchange_id = settings.source.partition(":")
    if kind != "ccxt":
        return Finding(State.OFF, f"HURACAN_SOURCE={settings.source}: recorded candles, no exchange is called")
    from huracan_core.sources.ccxt_source import CcxtSource

    return probes.exchange(CcxtSource.from_id(exchange_id).exchange, timeout_s)


def telegram(settings: Settings, timeout_s: float) -> Finding:
    client = TelegramClient(
        settings.env.get(TOKEN_VARIABLE, ""),
        settings.env.get(CHAT_VARIABLE, ""),
        base_url=settings.env.get(URL_VARIABLE) or DEFAULT_BASE_URL,
        retries=0,
        timeout_s=timeout_s,
    )
    return probes.telegram(client)
