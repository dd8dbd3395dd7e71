"""The Archive's health probe against moto's S3 server on loopback: the bucket answers, a missing bucket and a dead
endpoint are down, each naming what it tried."""

from __future__ import annotations

from huracan_core.health import Finding, State, probe, probes
from huracan_core.storage.s3 import S3ArtifactStore
from tests.services.s3 import s3_server


def test_the_s3_archive_answers_and_a_missing_bucket_or_dead_endpoint_is_down(monkeypatch):
    with s3_server(monkeypatch) as s3:
        client = s3.client()
        assert probes.archive(S3ArtifactStore(client, s3.bucket, "huracan")) == Finding(
            State.OK, f"s3://{s3.bucket}/huracan at {s3.endpoint}"
        )
        gone = probes.archive(S3ArtifactStore(client, "no-such-bucket", ""))
        assert gone.state is State.DOWN and "bucket 'no-such-bucket' does not exist" in gone.detail
    # the server stopped: a refused connection surfaces from the probe as a down row naming the endpoint
    status = probe("archive", lambda: probes.archive(S3ArtifactStore(client, s3.bucket, "huracan")))
    assert status.state is State.DOWN and s3.endpoint.split("//")[1] in status.detail
