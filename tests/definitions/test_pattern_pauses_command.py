"""``huracan health pause|resume|patterns``: each change is one logged, undoable event in the Archive."""

from __future__ import annotations

from huracan_core.health.pauses import load_book
from huracan_core.storage import LocalArtifactStore
from huracan_dagster.cli.main import main

PATTERN = "TREND:long:momentum,breakout"


def test_pause_resume_round_trip_is_logged_and_a_repeat_is_refused(huracan_home, capsys) -> None:
    assert main(["health", "pause", PATTERN, "--reason", "looked wrong"]) == 0
    assert main(["health", "pause", PATTERN]) == 1
    assert f"pattern {PATTERN} (15m): already paused" in capsys.readouterr().err
    book = load_book(LocalArtifactStore(huracan_home / "archive"), "15m")
    assert list(book.paused()) == [PATTERN] and book.events[0].reason == "looked wrong"
    assert main(["health", "resume", PATTERN]) == 0
    book = load_book(LocalArtifactStore(huracan_home / "archive"), "15m")
    assert book.paused() == {} and [e.action for e in book.events] == ["pause", "resume"]
    capsys.readouterr()
    assert main(["health", "patterns"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("0 pattern(s) paused") and listed.count(PATTERN) == 2
