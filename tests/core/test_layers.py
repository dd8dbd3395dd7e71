"""The layers of ``huracan_core``, read from the source: its packages import each other without a cycle (a package
above sees those below, never the reverse), and nothing in it imports Dagster."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "huracan_core"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _package(module: str) -> str | None:
    """``huracan_core.models.training`` -> ``models``; a top-level module of huracan_core is its own package."""
    parts = module.split(".")
    return parts[1] if parts[0] == "huracan_core" and len(parts) > 1 else None


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in CORE.rglob("*.py"):
        relative = path.relative_to(CORE).with_suffix("")
        own = relative.parts[0]
        uses = {p for m in _imports(path) if (p := _package(m)) and p != own}
        graph.setdefault(own, set()).update(uses)
    return graph


def test_the_packages_of_huracan_core_import_each_other_without_a_cycle() -> None:
    graph = package_graph()
    assert {"trading", "models", "desk", "champions"} <= set(graph)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"package cycle in huracan_core: {' -> '.join(error.args[1])}") from None
    assert order  # a topological order exists
    # the day's trading sits above both the trading machinery and the models, which never reach up to it
    assert {"trading", "models"} <= graph["desk"] and "trading" in graph["models"]
    assert not graph["trading"] & {"models", "desk"} and "desk" not in graph["models"]


def test_huracan_core_never_imports_dagster() -> None:
    offenders = [
        str(p.relative_to(CORE))
        for p in CORE.rglob("*.py")
        if any(m.split(".")[0].startswith("dagster") for m in _imports(p))
    ]
    assert offenders == []
