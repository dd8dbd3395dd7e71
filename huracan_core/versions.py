"""Code versions: short hashes over what determines an output — source text and configuration values.

Each asset carries one as its Dagster ``code_version``, so the UI marks partitions stale after a change to the
code or the defaults behind them. A hash reads source text and values only — never file paths, line numbers or
object ids — so the same checkout gives the same versions on every machine. This module imports nothing from the
rest of the package at import time: the feature recipe uses it without pulling in validation (pandera).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib
import importlib.util
import inspect
import json
import sys
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, TypeAlias

VERSION_CHARS = 12
CANDLE_CODE = "huracan_core.candles"
#: what a version hashes the source of: a module, a class or a function
Code: TypeAlias = ModuleType | type | Callable[..., Any]


def source_hash(*objects: str | Code, extra: object = None) -> str:
    """Short hex hash over the source text of ``objects`` and the value of ``extra``.

    ``objects`` are modules, module names (imported on demand, so a caller need not import what it only hashes),
    classes or functions; ``extra`` is plain data or frozen config dataclasses (see ``_canonical``).
    """
    spec = [[_label(obj), _source(obj)] for obj in map(_resolve, objects)]
    payload = json.dumps([spec, _canonical(extra)], sort_keys=True, allow_nan=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:VERSION_CHARS]


def modules_used(*roots: str | Code, within: str = "huracan_core") -> list[ModuleType]:
    """The modules of ``roots`` and, transitively, every module of package ``within`` that they import.

    A change to a helper or a constant that a builder takes from another module must change the version too;
    the closure follows each module's import statements (read from its source, so ``from m import CONSTANT``
    counts as well as functions and classes). Sorted by name.
    """
    found: dict[str, ModuleType] = {}
    todo = [_module_of(_resolve(root)) for root in roots]
    while todo:
        module = todo.pop()
        if module.__name__ in found or not _inside(module.__name__, within):
            continue
        found[module.__name__] = module
        todo += [sys.modules[name] for name in _imported(module) if name in sys.modules]
    return [found[name] for name in sorted(found)]


def candles_code_version() -> str:
    """The candles asset's version: loading, day splitting, the candle schema and the validation rules."""
    return source_hash(*modules_used(CANDLE_CODE))


def _canonical(value: object) -> object:
    """``value`` as JSON-ready data that is equal exactly when the configurations are equal.

    Dataclasses become their class name and fields, mappings sorted key/value pairs (keys may be tuples),
    sequences lists, functions their source. Anything else is refused: a ``repr`` may hold a memory address.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return [type(value).__qualname__, fields]
    if isinstance(value, Mapping):
        return sorted(([_canonical(k), _canonical(v)] for k, v in value.items()), key=json.dumps)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=json.dumps)
    if callable(value):
        return [_label(value), _source(value)]
    raise TypeError(f"no canonical form for a code version of {type(value).__qualname__}: {value!r}")


def _resolve(obj: str | Code) -> Code:
    return importlib.import_module(obj) if isinstance(obj, str) else obj


def _label(obj: Code) -> str:
    return obj.__name__ if isinstance(obj, ModuleType) else f"{obj.__module__}.{obj.__qualname__}"


def _source(obj: Code) -> str:
    """Source text with normalised line ends (a Windows checkout must hash like a Linux one)."""
    return inspect.getsource(obj).replace("\r\n", "\n")


def _module_of(obj: Code) -> ModuleType:
    return obj if isinstance(obj, ModuleType) else sys.modules[obj.__module__]


#: CPython 3.11's parser keeps its recursion depth in shared state: two threads parsing at once (definitions built
#: while a code server or a test's thread loads them) fail with "AST constructor recursion depth mismatch"
_PARSING = threading.Lock()


def _imported(module: ModuleType) -> frozenset[str]:
    """Names of the modules that ``module``'s import statements load: ``from p import m`` may name a submodule."""
    return _imports_in(_source(module), module.__package__ or "")


@functools.cache
def _imports_in(source: str, package: str) -> frozenset[str]:
    """Kept by the source text itself, so an edited module is parsed anew: every asset's version walks the same
    modules, and parsing them was most of building the definitions (about 0.7 of 0.8 s, each time they were built)."""
    names: set[str] = set()
    with _PARSING:
        tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(names)


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")
