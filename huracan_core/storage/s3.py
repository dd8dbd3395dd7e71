"""The Archive on S3 (or any S3-compatible server): the same keys as the local folder under ``s3://bucket/prefix``.

Every write is one ``put_object`` of the whole object, so a reader sees the old object or the new one, never half.
Each object carries the sha256 of its bytes in its metadata (and the server checks the upload against it): a read
whose bytes do not match raises ``CorruptArtifact`` naming the object, so a damaged or half-copied object never
passes for data. The client is handed in (``boto3.client("s3", endpoint_url=…)``): this module only speaks the S3
API, and the endpoint, credentials and retries are the caller's configuration.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from huracan_core.storage.local import LocalArtifactStore
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore

CHECKSUM_METADATA = "sha256"
#: a lock whose holder has not renewed it for this long is taken to be dead (a killed run) and broken
LOCK_LEASE_S = 120.0


class CorruptArtifact(OSError):
    """An object's bytes do not match the checksum it was written with."""


class LockTimeout(TimeoutError):
    """A lock stayed held by another live process for longer than the caller would wait."""


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")``; anything else is an error naming the URL."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"HURACAN_S3_URL={url!r} is not an s3://bucket[/prefix] URL")
    return parsed.netloc, parsed.path.strip("/")


class S3ArtifactStore(ArtifactStore):
    def __init__(self, client: Any, bucket: str, prefix: str = "", *, lock_wait_s: float = 300.0) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.lock_wait_s = lock_wait_s

    def _key(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"key {key!r} escapes the store root {self.uri('')}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def write_bytes(self, key: str, data: bytes) -> None:
        digest = hashlib.sha256(data)
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(key),
            Body=data,
            Metadata={CHECKSUM_METADATA: digest.hexdigest()},
            ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
        )

    def read_bytes(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            raise ArtifactNotFound(f"no artifact {key!r} in {self.uri('')}") from None
        data = response["Body"].read()
        expected = response.get("Metadata", {}).get(CHECKSUM_METADATA)
        if expected is None:
            raise CorruptArtifact(f"{self.uri(key)} carries no sha256: it was not written by the Archive")
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise CorruptArtifact(
                f"{self.uri(key)}: {len(data)} bytes with sha256 {actual[:12]}…, written as {expected[:12]}…"
            )
        return data

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def list_keys(self, prefix: str) -> list[str]:
        root = f"{self.prefix}/" if self.prefix else ""
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=root + prefix):
            keys += [item["Key"][len(root) :] for item in page.get("Contents", [])]
        return sorted(k for k in keys if not k.startswith(".locks/") and not k.rsplit("/", 1)[-1].startswith("."))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """An object ``.locks/<key>.lock`` created with a conditional put (``If-None-Match: *``): the server lets
        exactly one writer create it. S3 has no lease of its own, so the object says who holds it and since when;
        one older than ``LOCK_LEASE_S`` belongs to a process that died holding it (a killed run) and is broken,
        with a conditional delete on its ETag so that only that stale lock is removed, never a fresh one."""
        lock_key = self._key(f".locks/{key}.lock")
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        deadline = time.monotonic() + self.lock_wait_s
        pause = 0.02
        while not self._try_lock(lock_key, owner):
            if time.monotonic() > deadline:
                raise LockTimeout(f"{self.uri(f'.locks/{key}.lock')} stayed held for {self.lock_wait_s:.0f} s")
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
        try:
            yield
        finally:
            self.client.delete_object(Bucket=self.bucket, Key=lock_key)

    def _try_lock(self, lock_key: str, owner: str) -> bool:
        body = json.dumps({"owner": owner, "since": time.time()}).encode()
        try:
            self.client.put_object(Bucket=self.bucket, Key=lock_key, Body=body, IfNoneMatch="*")
            return True
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") not in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
                "412",
                "409",
            ):
                raise
        self._break_if_stale(lock_key)
        return False

    def _break_if_stale(self, lock_key: str) -> None:
        try:
            held = self.client.get_object(Bucket=self.bucket, Key=lock_key)
        except self.client.exceptions.NoSuchKey:
            return
        since = json.loads(held["Body"].read() or b"{}").get("since", 0.0)
        if time.time() - since > LOCK_LEASE_S:
            # taken over or released meanwhile: the next conditional put decides
            with contextlib.suppress(self.client.exceptions.ClientError):
                self.client.delete_object(Bucket=self.bucket, Key=lock_key, IfMatch=held["ETag"])

    def mirror(self, prefix: str, folder: Path) -> int:
        """Make ``folder`` hold exactly the objects under ``prefix`` (same relative keys), for tools that read files
        (DuckDB views, dbt). An object is fetched only when its ETag (the MD5 of a whole-object put) differs from
        the local copy's, fetched through ``read_bytes`` (so checksum-verified) and written atomically; local files
        whose object is gone are removed. Returns how many objects were fetched."""
        local = LocalArtifactStore(folder)
        root = f"{self.prefix}/" if self.prefix else ""
        remote = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=root + prefix):
            remote |= {item["Key"][len(root) :]: item["ETag"].strip('"') for item in page.get("Contents", [])}
        fetched = 0
        for key, etag in sorted(remote.items()):
            path = folder / key
            if not (path.is_file() and hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest() == etag):
                local.write_bytes(key, self.read_bytes(key))
                fetched += 1
        for key in set(local.list_keys(prefix)) - set(remote):
            local.delete(key)
        return fetched

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}" if key else f"s3://{self.bucket}/{self.prefix}"
