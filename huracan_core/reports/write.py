"""Write a report as ``<folder>/index.html`` + its JSON, each atomically (temp file + rename), so a reader (a
browser, the Broadcaster) sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from huracan_core.reports.document import Report


def write_report(folder: Path, report: Report) -> Path:
    """Writes ``index.html`` and ``report.json_name`` into ``folder`` (created); returns the HTML's path."""
    folder.mkdir(parents=True, exist_ok=True)
    _atomic(folder / report.json_name, json.dumps(report.json, indent=2, allow_nan=False) + "\n")
    page = folder / "index.html"
    _atomic(page, report.html)
    return page


def _atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
