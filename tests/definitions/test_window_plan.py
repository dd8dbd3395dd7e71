"""Window planning reads the look-backs the partition mappings declare: the days each selected asset must have
before a window, and the earliest input a window cannot do without."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import pytest

from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import history_days
from huracan_core.models.training import ModelConfig
from huracan_core.trading.signals import WARMUP_DAYS
from huracan_dagster.cli.window_plan import date_offsets, plan_window
from huracan_dagster.defs.definitions import build_definitions
from huracan_dagster.defs.partitions import asset_key, day_window, same_date
from huracan_dagster.settings import Settings

START, END = date(2024, 12, 30), date(2024, 12, 31)


@pytest.fixture(scope="module")
def graph():
    return build_definitions(Settings.from_env({"HURACAN_HOME": "unused"})).resolve_asset_graph()


def keys(*names: str) -> set[dg.AssetKey]:
    return {asset_key("15m", name) for name in names}


def test_each_mapping_says_its_day_offsets() -> None:
    assert date_offsets(day_window(-150, -1)) == (-150, -1)
    assert date_offsets(day_window(0, 1, all_symbols=True)) == (0, 1)
    assert date_offsets(same_date()) == (0, 0)
    assert date_offsets(dg.TimeWindowPartitionMapping(start_offset=-3)) == (-3, 0)
    assert date_offsets(None) == (0, 0)


def test_the_whole_chain_plans_the_models_history_back_to_the_features_trailing_window(graph) -> None:
    selected = {k for k in graph.get_all_asset_keys() if k.path[0] == "15m" and len(k.path) == 2}
    plan = plan_window(graph, selected, START, END)
    train, warm, history = ModelConfig().train_days, WARMUP_DAYS, history_days(FeatureRecipe.default("15m"))
    firsts = {key.path[-1]: first for key, (first, last) in plan.spans.items() if last == END}
    assert firsts["signals"] == firsts["labels"] == START - timedelta(days=train)
    # the quotes of every day a signal warms up on are priced: as far back as the features it reads
    assert firsts["features"] == firsts["regimes"] == firsts["market_quotes"] == START - timedelta(days=train + warm)
    assert firsts["candles"] == START - timedelta(days=train + warm + history)
    assert all(
        first == START
        for name, first in firsts.items()
        if name not in ("candles", "features", "regimes", "market_quotes", "signals", "labels")
    )
    assert [[k.path[-1] for k in assets] for _, assets in plan.history_phases(START)] == [
        ["candles"],
        ["features", "market_quotes", "regimes"],
        ["labels", "signals"],
    ]
    # the features compute from whatever history exists; the signals' warm-up does not
    need = plan.earliest_need
    assert need.asset.path[-1] == "signals" and need.first == START - timedelta(days=train + warm)


def test_a_selection_plans_only_its_own_assets(graph) -> None:
    plan = plan_window(graph, keys("candles", "features"), START, END)
    assert plan.spans[asset_key("15m", "candles")][0] < START and plan.earliest_need is None  # partial history
    alone = plan_window(graph, keys("coin_model"), START, END)
    assert dict(alone.spans) == {asset_key("15m", "coin_model"): (START, END)}
    assert str(alone.earliest_need).startswith(
        f"coin_model of {START} reads "
    ) and alone.earliest_need.first == START - timedelta(days=ModelConfig().train_days)
