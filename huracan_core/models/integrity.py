"""Is every model folder in the Archive still what was written? Checked right after a folder is written, and again
across the whole Archive on a schedule, so a damaged or altered file is found the day it happens — not the day its
model is loaded as champion, which may be months later.

A folder's ``sha256.txt`` (``artifacts``) lists every file with its hash and is written last. A folder whose
listed files do not match is damaged (an ERROR); a folder without its marker was never finished (its writer was
killed, or is writing it now) and is only reported: no pointer ever names it, and the next training replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from huracan_core.models.artifacts import CHECKSUMS, REQUIRED_FILES, CorruptModelError, read_model_folder
from huracan_core.models.day_models import ENCODER_FILE
from huracan_core.storage.keys import CHALLENGER_FOLDER_LAYOUT, ENCODER_FOLDER_LAYOUT, MODEL_FOLDER_LAYOUT
from huracan_core.storage.store import ArtifactStore


def verify_folder(store: ArtifactStore, folder: str, required: Sequence[str] = REQUIRED_FILES) -> str | None:
    """None when every file matches its listed hash; else what is wrong, naming the folder and the file."""
    try:
        read_model_folder(store, folder, required)
    except CorruptModelError as error:
        return str(error)
    return None


@dataclass(frozen=True)
class IntegrityReport:
    """One sweep's findings: folders checked, damaged ones (``{folder: what is wrong}``) and unfinished ones."""

    checked: int
    damaged: dict[str, str] = field(default_factory=dict)
    unfinished: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        return not self.damaged and not self.unfinished

    def summary(self, kind: str) -> str:
        if self.intact:
            return f"all {self.checked} {kind} folders match their {CHECKSUMS}"
        parts = []
        if self.damaged:
            parts.append(
                f"{len(self.damaged)} of {self.checked} {kind} folders fail their {CHECKSUMS}: "
                + "; ".join(self.damaged.values())
            )
        if self.unfinished:
            parts.append(
                f"{len(self.unfinished)} unfinished (no {CHECKSUMS}: a writer killed or still writing): "
                + ", ".join(self.unfinished)
            )
        return ". ".join(parts)


def sweep_folders(
    store: ArtifactStore, layouts: Sequence[str], timeframe: str, required: Sequence[str]
) -> IntegrityReport:
    """Every folder of ``layouts`` (``MODEL_FOLDER_LAYOUT`` …) of one timeframe, each verified."""
    folders = sorted({folder for layout in layouts for folder in _folders(store, layout, timeframe)})
    damaged, unfinished = {}, []
    for folder, has_marker in folders:
        if not has_marker:
            unfinished.append(store.uri(folder))
            continue
        problem = verify_folder(store, folder, required)
        if problem:
            damaged[folder] = problem
    return IntegrityReport(len(folders), damaged, tuple(unfinished))


def sweep_models(store: ArtifactStore, timeframe: str) -> IntegrityReport:
    """The Engine's models and the Mechanic's challengers of ``timeframe``."""
    return sweep_folders(store, (MODEL_FOLDER_LAYOUT, CHALLENGER_FOLDER_LAYOUT), timeframe, REQUIRED_FILES)


def sweep_encoders(store: ArtifactStore, timeframe: str) -> IntegrityReport:
    return sweep_folders(store, (ENCODER_FOLDER_LAYOUT,), timeframe, (ENCODER_FILE,))


def _folders(store: ArtifactStore, layout: str, timeframe: str) -> set[tuple[str, bool]]:
    """``(folder, has its marker)`` for each folder a layout such as ``models/{symbol}/{timeframe}/{cutoff}`` names:
    the keys under its fixed prefix, grouped by the layout's depth, kept where the timeframe level matches."""
    parts = layout.split("/")
    prefix = parts[0] + "/"
    level = parts.index("{timeframe}")
    found: dict[str, bool] = {}
    for key in store.list_keys(prefix):
        pieces = key.split("/")
        if len(pieces) != len(parts) + 1 or pieces[level] != timeframe:
            continue
        folder = "/".join(pieces[:-1])
        found[folder] = found.get(folder, False) or pieces[-1] == CHECKSUMS
    return set(found.items())
