"""The Archive: one artifact store, a local folder or S3, with the key layout of docs/architecture.md#storage-keys."""

from huracan_core.storage.local import LocalArtifactStore
from huracan_core.storage.store import ArtifactStore

__all__ = ["ArtifactStore", "LocalArtifactStore"]
