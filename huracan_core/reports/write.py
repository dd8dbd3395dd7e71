"""Write a report as ``<folder>/index.html`` + its JSON, each atomically (temp file + rename), so a reader (a
browser, the Broadcaster) sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
from pathlib import Path

from huracan_core.reports.document import Report
from huracan_core.storage.local import LocalArtifactStore


def write_report(folder: Path, report: Report) -> Path:
    """Writes ``index.html`` and ``report.json_name`` into ``folder`` (created) through the local store's atomic
    write; returns the HTML's path."""
    store = LocalArtifactStore(folder)
    store.write_bytes(report.json_name, (json.dumps(report.json, indent=2, allow_nan=False) + "\n").encode())
    store.write_bytes("index.html", report.html.encode())
    return store.root / "index.html"
