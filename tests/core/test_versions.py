"""Code versions: they follow source text and config values, and nothing else (no paths, no line numbers)."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import linecache
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from huracan_core.desk.version import code_version
from huracan_core.features import FeatureRecipe
from huracan_core.trading.consensus import ConsensusConfig
from huracan_core.trading.costs import CostModel, FeeSchedule
from huracan_core.trading.engines import DEFAULT_ENGINES
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.meta import MetaConfig
from huracan_core.trading.recorded_quotes import RecordedQuotes
from huracan_core.versions import CANDLE_CODE, candles_code_version, modules_used, source_hash

BUILDER = "def builder(n: int) -> int:\n    return n + 1\n"


def _module(folder: Path, text: str) -> ModuleType:
    """A module named ``versioned`` loaded from ``folder``: the same name wherever the file lies."""
    folder.mkdir()
    (folder / "versioned.py").write_text(text)
    spec = importlib.util.spec_from_file_location("versioned", folder / "versioned.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_source_hash_reads_text_not_paths_or_line_numbers(tmp_path: Path) -> None:
    here = _module(tmp_path / "here", BUILDER)
    elsewhere = _module(tmp_path / "elsewhere", BUILDER)
    moved_down = _module(tmp_path / "moved", "# a comment and a blank line push the function down\n\n" + BUILDER)
    edited = _module(tmp_path / "edited", BUILDER.replace("n + 1", "1 + n"))
    version = source_hash(here.builder)
    assert re.fullmatch("[0-9a-f]{12}", version), version
    assert source_hash(elsewhere.builder) == version
    assert source_hash(moved_down.builder) == version
    assert source_hash(edited.builder) != version
    assert source_hash(here) == source_hash(elsewhere) != source_hash(moved_down)


def test_source_hash_reads_config_values() -> None:
    vip = {("binance", "*"): FeeSchedule(maker_bps=1.0, taker_bps=2.0)}
    assert source_hash(extra=CostModel(fees=vip)) == source_hash(extra=CostModel(fees=dict(vip)))
    assert source_hash(extra=CostModel(fees=vip)) != source_hash(extra=CostModel())
    assert source_hash(extra={"a": 1, "b": 2}) == source_hash(extra={"b": 2, "a": 1})
    assert source_hash(extra=[1, 2]) != source_hash(extra=[2, 1])
    with pytest.raises(TypeError, match="no canonical form .* object"):
        source_hash(extra=object())  # its repr holds a memory address: no stable version


def test_modules_used_follows_imports_of_functions_and_constants() -> None:
    candles = [m.__name__ for m in modules_used(CANDLE_CODE)]
    assert {"huracan_core.candles", "huracan_core.validation.rules"} <= set(candles)
    assert "huracan_core.schema" in candles  # rules take only constants from it
    recipe = [m.__name__ for m in modules_used(FeatureRecipe)]
    assert "huracan_core.features.smoothing" in recipe  # helpers of the builders, imported by their modules
    assert all(name.startswith("huracan_core.") for name in recipe + candles)
    assert "huracan_core.features.causality" not in recipe  # a module the recipe never runs
    assert re.fullmatch("[0-9a-f]{12}", candles_code_version())


def test_an_edited_module_is_walked_by_its_new_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports are parsed once per source text: the same text is not parsed again, an edit is."""
    package = tmp_path / "edited"
    package.mkdir()
    (package / "__init__.py").write_text('"""A package of the test."""\n')
    for name in ("first", "second"):
        (package / f"{name}.py").write_text("VALUE = 1\n")
    (package / "root.py").write_text("from edited import first\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    root = importlib.import_module("edited.root")
    walked = [m.__name__ for m in modules_used(root, within="edited")]
    assert (
        walked == [m.__name__ for m in modules_used(root, within="edited")] == ["edited", "edited.first", "edited.root"]
    )
    (package / "root.py").write_text("from edited import second\n")
    linecache.checkcache()
    root = importlib.reload(root)
    assert [m.__name__ for m in modules_used(root, within="edited")] == ["edited", "edited.root", "edited.second"]
    for name in ("edited", "edited.first", "edited.second", "edited.root"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_trading_version_follows_every_config() -> None:
    version = code_version(costs=CostModel())
    assert code_version(list(DEFAULT_ENGINES), costs=CostModel(), config=ConsensusConfig()) == version
    first = DEFAULT_ENGINES[0]
    retuned = dataclasses.replace(
        first, config=dataclasses.replace(first.config, activation=first.config.activation + 0.01)
    )
    changed = [
        code_version(engines=DEFAULT_ENGINES[1:], costs=CostModel()),
        code_version(engines=(retuned, *DEFAULT_ENGINES[1:]), costs=CostModel()),
        code_version(costs=CostModel(default_fees=FeeSchedule(maker_bps=0.0, taker_bps=0.0))),
        code_version(costs=CostModel(slip_impact_bps=5.0)),
        code_version(costs=CostModel(order_type="maker")),
        code_version(costs=CostModel(quotes=RecordedQuotes(funding_rate=None))),
        code_version(costs=CostModel(), config=ConsensusConfig(safety_margin_bps=2.0)),
        code_version(costs=CostModel(), config=ConsensusConfig(exits=ExitConfig(trail_keep=0.6))),
        code_version(costs=CostModel(), config=ConsensusConfig(meta=MetaConfig(alpha=0.2))),
        code_version(costs=CostModel(), extra={"timeframe": "1h"}),
    ]
    assert version not in changed and len(set(changed)) == len(changed)
