"""The real Binance sample shipped inside the package, so that the default run needs no network."""

from __future__ import annotations

from pathlib import Path

from huracan_core.sources.replay import ReplaySource

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample"


def bundled_source() -> ReplaySource:
    return ReplaySource(SAMPLE_DIR, name="bundled")
