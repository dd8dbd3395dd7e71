"""The map ships with the code: the README links every docs page, no file points at a document outside the
repository, and the README stays a quickstart."""

from __future__ import annotations

import re
import subprocess

from huracan_core.models.gates import GATE_PROFILES
from tests.conftest import REPO

DOCS = REPO / "docs"


def test_the_readme_is_a_quickstart_that_links_every_docs_page() -> None:
    readme = (REPO / "README.md").read_text()
    assert readme.count("\n") <= 150
    assert readme.index("make run") < readme.index("## Documentation") and "make test" in readme
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)", readme))
    assert linked >= {p.name for p in DOCS.glob("*.md")} - {"index.md"}, sorted(
        {p.name for p in DOCS.glob("*.md")} - linked
    )


def test_no_tracked_file_refers_to_a_document_outside_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for name in tracked:
        path = REPO / name
        if path.suffix in {".py", ".md", ".yml", ".yaml", ".toml", ".sql", ".txt"} or path.name == "Makefile":
            text = path.read_text(errors="replace")
            if re.search(r"DESIGN\.md|\.\./shared/(DESIGN|STACK)", text) and name != "tests/definitions/test_docs.py":
                offenders.append(name)
    assert offenders == []


def test_every_docs_page_is_in_the_navigation() -> None:
    nav = (REPO / "mkdocs.yml").read_text()
    assert all(f": {p.name}" in nav for p in DOCS.glob("*.md")), "a page missing from mkdocs.yml's nav"


def test_the_learning_page_states_every_gate_profile_as_the_code_does() -> None:
    page = " ".join((DOCS / "learning.md").read_text().split())
    for name, gates in GATE_PROFILES.items():
        assert f"`{name}`: " + ", ".join(f"`{gate}`" for gate in gates) in page, (
            f"docs/learning.md: gate profile {name}"
        )
