"""The runs ``huracan run`` cuts a window into: Dagster's backfill cut, then the chain's ranges of neighbouring
symbols over the same days joined, each joined run resolving (as Dagster resolves its range tags) to exactly the
partitions of the runs it replaced."""

from __future__ import annotations

import itertools
import random
from datetime import date

import dagster as dg
import pytest

from huracan_dagster.cli.policy_runs import PolicyRun, _range_symbols, policy_runs, window_keys
from huracan_dagster.defs.definitions import build_definitions, daily_job_name
from huracan_dagster.defs.partitions import RUN_PARTITIONS, asset_key
from huracan_dagster.instance.registration import register_symbols
from huracan_dagster.settings import Settings

REGISTERED = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "BNB-USDT", "ADA-USDT"]
CHAIN = [asset_key("15m", n) for n in ("features", "regimes", "market_quotes")]
CANDLES = [asset_key("15m", "candles")]
#: the bundled sample's last day: its days are the partitions (2024-07-01 … 2024-12-31)
LAST_DAY = date(2024, 12, 31)


@pytest.fixture(scope="module")
def graph():
    return build_definitions(Settings.from_env({})).resolve_job_def(daily_job_name("15m")).asset_layer.asset_graph


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        register_symbols(instance, REGISTERED)
        yield instance


def resolved(graph, instance: dg.DagsterInstance, run: PolicyRun) -> set[str]:
    """The partitions Dagster reads off the run's range tags (a range's product of days and symbols)."""
    partitions_def = graph.get(run.assets[0]).partitions_def
    with dg.partition_loading_context(dynamic_partitions_store=instance):
        return set(partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(run.start, run.end)))


def window(first: str, last: str, symbols) -> list[str]:
    return window_keys(date.fromisoformat(first), date.fromisoformat(last), symbols)


def test_a_month_of_neighbours_is_one_run_covering_each_partition_once(graph, instance):
    symbols = REGISTERED[:5]
    [run] = policy_runs(graph, instance, CHAIN, window("2024-12-01", "2024-12-31", symbols))
    assert run.symbols == tuple(symbols) and set(run.assets) == set(CHAIN)
    assert (run.start, run.end) == ("2024-12-01|BTC-USDT", "2024-12-31|BNB-USDT")
    assert resolved(graph, instance, run) == set(window("2024-12-01", "2024-12-31", symbols)) == set(run.partitions)


def test_candle_runs_join_within_their_policys_bound(graph, instance):
    [month] = policy_runs(graph, instance, CANDLES, window("2024-12-01", "2024-12-31", REGISTERED[:3]))
    assert month.symbols == tuple(REGISTERED[:3])
    half_year = policy_runs(graph, instance, CANDLES, window("2024-07-01", "2024-12-31", REGISTERED[:3]))
    assert sorted(r.symbols for r in half_year) == [("BTC-USDT",), ("ETH-USDT",), ("SOL-USDT",)]  # 184 days each


@pytest.mark.parametrize(("days", "processes"), [(31, 1), (31, 2), (100, 1), (180, 1), (5, 4)])
def test_a_joined_run_holds_at_most_a_year_of_partitions_and_one_per_process(graph, instance, days, processes):
    last = LAST_DAY
    first = date.fromordinal(last.toordinal() - days + 1)
    keys = window_keys(first, last, REGISTERED)
    runs = policy_runs(graph, instance, CHAIN, keys, processes=processes)
    assert all(len(r.symbols) == 1 or len(r.partitions) <= RUN_PARTITIONS for r in runs)
    assert len(runs) >= min(processes, len(REGISTERED))
    sizes = [len(r.symbols) for r in runs]
    assert max(sizes) - min(sizes) <= 1  # nearly equal parts
    assert sorted(itertools.chain.from_iterable(r.partitions for r in runs)) == sorted(keys)


def test_a_phase_cut_by_the_bound_has_as_many_parts_for_each_process_the_longest_first(graph, instance):
    keys = window("2024-07-02", "2024-12-31", REGISTERED[:5])  # 183 days: two symbols a run at most
    alone = policy_runs(graph, instance, CHAIN, keys, processes=1)
    assert [len(r.symbols) for r in alone] == [2, 2, 1]  # as few as the bound allows
    # two processes: four parts, not three, so that neither is left two symbols' runs after the other is done
    helped = policy_runs(graph, instance, CHAIN, keys, processes=2)
    assert [len(r.symbols) for r in helped] == [2, 1, 1, 1] and helped[0].symbols == ("BTC-USDT", "ETH-USDT")
    assert sorted(itertools.chain.from_iterable(r.partitions for r in helped)) == sorted(keys)


def test_a_failed_symbol_runs_alone_and_splits_its_neighbours(graph, instance):
    keys = window("2024-12-01", "2024-12-31", REGISTERED[:5])
    runs = policy_runs(graph, instance, CHAIN, keys, alone={"SOL-USDT"})
    assert sorted(r.symbols for r in runs) == [("BTC-USDT", "ETH-USDT"), ("SOL-USDT",), ("XRP-USDT", "BNB-USDT")]


def test_fewer_days_than_symbols_are_one_run_not_one_a_day(graph, instance):
    keys = window("2024-12-01", "2024-12-04", REGISTERED)  # Dagster cuts these one run a day, every symbol in each
    [run] = policy_runs(graph, instance, CHAIN, keys)
    assert (run.start, run.end, run.symbols) == ("2024-12-01|BTC-USDT", "2024-12-04|ADA-USDT", tuple(REGISTERED))
    runs = policy_runs(graph, instance, CHAIN, keys, processes=2, alone={"ETH-USDT"})
    assert {(r.start[:10], r.end[:10], r.symbols) for r in runs} == {
        ("2024-12-01", "2024-12-04", ("BTC-USDT",)),
        ("2024-12-01", "2024-12-04", ("ETH-USDT",)),
        ("2024-12-01", "2024-12-04", ("SOL-USDT", "XRP-USDT")),
        ("2024-12-01", "2024-12-04", ("BNB-USDT", "ADA-USDT")),
    }


def test_days_apart_are_not_joined(graph, instance):
    keys = window("2024-12-01", "2024-12-02", REGISTERED) + window("2024-12-04", "2024-12-05", REGISTERED)
    runs = policy_runs(graph, instance, CHAIN, keys)
    assert sorted((r.start[:10], r.end[:10]) for r in runs) == [
        ("2024-12-01", "2024-12-02"),
        ("2024-12-04", "2024-12-05"),
    ]


def test_symbols_that_are_no_neighbours_are_not_joined(graph, instance):
    keys = window("2024-12-01", "2024-12-31", ["BTC-USDT", "SOL-USDT", "XRP-USDT"])  # ETH is registered between
    runs = policy_runs(graph, instance, CHAIN, keys)
    assert sorted(r.symbols for r in runs) == [("BTC-USDT",), ("SOL-USDT", "XRP-USDT")]
    for run in runs:  # a range over BTC..SOL would take in ETH's partitions too
        assert resolved(graph, instance, run) == set(run.partitions)


def test_any_window_is_covered_exactly_once_by_what_dagster_resolves(graph, instance):
    rng = random.Random(11)
    for _ in range(12):
        symbols = rng.sample(REGISTERED, rng.randint(1, len(REGISTERED)))
        days = rng.choice([1, 2, 9, 31, 70, 180])
        last = date.fromordinal(LAST_DAY.toordinal() - rng.randint(0, 180 - days))
        first = date.fromordinal(last.toordinal() - days + 1)
        keys = window_keys(first, last, symbols)
        alone = set(rng.sample(symbols, rng.randint(0, 1)))
        runs = policy_runs(graph, instance, CHAIN, keys, processes=rng.randint(1, 3), alone=alone)
        covered = [resolved(graph, instance, r) for r in runs]
        assert sum(map(len, covered)) == len(keys) and set().union(*covered) == set(keys), (symbols, first, days)
        assert all(r.symbols == (s,) for r in runs for s in alone if s in r.symbols)


def test_a_ranges_symbols_must_be_registered_in_its_order():
    """A range of symbols not registered (or reversed) is refused, not read as a run of every symbol."""
    registered = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    assert _range_symbols("2024-12-01|BTC-USDT", "2024-12-05|ETH-USDT", registered) == ("BTC-USDT", "ETH-USDT")
    assert _range_symbols("2024-12-01", "2024-12-05", registered) == ()  # a range of dates: every symbol
    for start, end in [("2024-12-01|SOL-USDT", "2024-12-05|BTC-USDT"), ("2024-12-01|BTC-USDT", "2024-12-05|XRP-USDT")]:
        with pytest.raises(ValueError, match=f"run range {start}..{end}: its symbols are not registered"):
            _range_symbols(start, end, registered)
