"""The code location's days are the source's: partitions from its first day to its last, schedules that skip, saying
why, a day outside them, an automation sensor whose target the UI can print, and day windows mapped to the upstream
days Dagster would map them to.

The source here is a replay folder cut from real candles to a span of the test's choosing, so every expectation is
read from that span, never from the bundled sample's dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from huracan_dagster.defs.definitions import build_definitions
from huracan_dagster.defs.partitions import SYMBOL_DIMENSION, SYMBOLS_TAG, day_window_upstream, symbols_between
from huracan_dagster.instance.failures import RANGE_END_TAG, RANGE_START_TAG
from huracan_dagster.settings import Settings

TF = "15m"
SYMBOLS = ("BTC-USDT", "ETH-USDT")
#: the replay's days: whole UTC days inside the real candles' span
FIRST, LAST = date(2024, 9, 10), date(2024, 9, 20)


@pytest.fixture
def defs(huracan_home, monkeypatch, real_candles, tmp_path: Path) -> dg.Definitions:
    folder = tmp_path / "replay"
    folder.mkdir()
    since, until = datetime.combine(FIRST, time(), UTC), datetime.combine(LAST + timedelta(days=1), time(), UTC)
    for symbol in SYMBOLS:
        frame = pl.read_parquet(real_candles / f"{symbol}_{TF}.parquet")
        frame.filter((pl.col("timestamp") >= since) & (pl.col("timestamp") < until)).write_parquet(
            folder / f"{symbol}_{TF}.parquet"
        )
    monkeypatch.setenv("HURACAN_SOURCE", f"replay:{folder}")
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "")
    return build_definitions(Settings.from_env())


def _tick(schedule: dg.ScheduleDefinition, defs: dg.Definitions, instance: dg.DagsterInstance, day: date):
    """The schedule's tick at its own hour on ``day``, as the daemon evaluates it (it schedules the day before)."""
    hour = int(str(schedule.cron_schedule).split()[1])
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime.combine(day, time(hour), UTC),
        repository_def=defs.get_repository_def(),
    )
    return schedule.evaluate_tick(context)


def test_every_date_partition_is_a_day_the_source_holds(defs):
    graph = defs.resolve_asset_graph()
    partitioned = [graph.get(k).partitions_def for k in graph.get_all_asset_keys()]
    dates = [
        p.get_partitions_def_for_dimension("date") if isinstance(p, dg.MultiPartitionsDefinition) else p
        for p in partitioned
        if p is not None and not isinstance(p, dg.WeeklyPartitionsDefinition)  # the research weeks: below
    ]
    assert dates, "no partitioned asset"
    for days in dates:
        keys = days.get_partition_keys()
        assert (keys[0], keys[-1], len(keys)) == (FIRST.isoformat(), LAST.isoformat(), (LAST - FIRST).days + 1)


@pytest.mark.parametrize("name", [f"engine_{TF}", f"shared_encoder_{TF}_daily"])
def test_a_schedule_skips_a_day_after_the_sources_last_naming_both(defs, name):
    schedule = defs.resolve_schedule_def(name)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SYMBOL_DIMENSION, list(SYMBOLS))  # registered: only the day can stop it
        for today in (LAST + timedelta(days=2), LAST + timedelta(days=400)):
            data = _tick(schedule, defs, instance, today)
            yesterday = today - timedelta(days=1)
            assert not data.run_requests
            assert data.skip_message and yesterday.isoformat() in data.skip_message
            assert str(LAST) in data.skip_message  # the source's last day
        before = _tick(schedule, defs, instance, FIRST)  # yesterday: the day before the source's first
        assert not before.run_requests and before.skip_message
        assert str(FIRST - timedelta(days=1)) in before.skip_message and str(FIRST) in before.skip_message


def test_inside_the_data_the_schedules_request_yesterday(defs):
    engine, encoder = defs.resolve_schedule_def(f"engine_{TF}"), defs.resolve_schedule_def(f"shared_encoder_{TF}_daily")
    daily = defs.resolve_job_def(engine.job_name)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SYMBOL_DIMENSION, list(SYMBOLS))
        for today in (FIRST + timedelta(days=1), LAST + timedelta(days=1)):  # the first and the last day, yesterday
            day = (today - timedelta(days=1)).isoformat()
            [request] = _tick(engine, defs, instance, today).run_requests
            span = dg.PartitionKeyRange(request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG])
            covered = daily.partitions_def.get_partition_keys_in_range(span, dynamic_partitions_store=instance)
            assert set(covered) == {f"{day}|{s}" for s in SYMBOLS}
            assert request.tags[SYMBOLS_TAG].split(",") == list(SYMBOLS)
            [request] = _tick(encoder, defs, instance, today).run_requests
            assert request.partition_key == day


def test_the_automation_sensors_target_is_selection_syntax_naming_the_assets_it_evaluates(defs):
    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def(f"automation_{TF}")
    assert sensor.asset_selection is not None
    # what the UI is sent (the code location's serialisable form), and prints with str()
    text = str(sensor.asset_selection.to_serializable_asset_selection(repository.asset_graph))
    graph = defs.resolve_asset_graph()
    conditioned = {
        k for k in graph.get_all_asset_keys() if k.path[0] == TF and graph.get(k).automation_condition is not None
    }
    assert conditioned, "no asset of the timeframe has an automation condition"
    assert "AssetSelection(" not in text  # not a Python repr
    assert dg.AssetSelection.from_string(text).resolve(graph) == conditioned  # Dagster's syntax, parsed back


def test_a_source_shorter_than_a_research_window_has_no_research_week_and_the_schedule_says_so(defs):
    """The replay holds 11 days, fewer than the search's window (HURACAN_RESEARCH_DAYS, 150 by default) and a week."""
    weeks = defs.resolve_asset_graph().get(dg.AssetKey("research_search")).partitions_def
    assert isinstance(weeks, dg.WeeklyPartitionsDefinition) and weeks.get_partition_keys() == []
    schedule = defs.resolve_schedule_def("research_weekly")
    with dg.instance_for_test() as instance:
        for today in (FIRST + timedelta(days=7), LAST + timedelta(days=400)):
            data = _tick(schedule, defs, instance, today)
            assert not data.run_requests
            assert data.skip_message and "no whole week after 150 days" in data.skip_message


def test_a_day_windows_upstream_days_are_dagsters_own_answer_for_every_input_of_the_graph(defs):
    """``day_window_upstream`` (what a step's input loads) against Dagster's mapping of the same range, for every
    day-window input of the code location, over ranges at the source's first day (windows reaching before it), in
    its middle and at its last day (a next day that is not a partition), of one symbol and of a block of
    neighbours (a joined run's range: its days × the registered symbols from its first key's to its last key's)."""
    graph = defs.resolve_asset_graph()
    instance = dg.DagsterInstance.ephemeral()
    registered = [*SYMBOLS, "SOL-USDT"]
    instance.add_dynamic_partitions(SYMBOL_DIMENSION, registered)
    blocks = [(a, b) for i, a in enumerate(registered) for b in registered[i:]]  # one symbol, two, all three
    days = [FIRST, FIRST + timedelta(days=4), LAST - timedelta(days=2), LAST]
    compared, declined = 0, []
    for node in graph.asset_nodes:
        for parent in node.parent_keys:
            upstream, mapping = graph.get(parent).partitions_def, node.partition_mappings.get(parent)
            for start, end in [(days[0], days[0]), (days[0], days[-1]), (days[1], days[2]), (days[2], days[3])]:
                for symbol, last_symbol in blocks:
                    keys = dg.PartitionKeyRange(f"{start}|{symbol}", f"{end}|{last_symbol}")
                    quick = day_window_upstream(mapping, node.partitions_def, upstream, keys, instance)
                    if quick is None:
                        declined.append((node.key, parent))
                        continue
                    with dg.partition_loading_context(dynamic_partitions_store=instance):  # as a step does
                        asked = node.partitions_def.empty_subset().with_partition_key_range(node.partitions_def, keys)
                        dagster = mapping.get_upstream_mapped_partitions_result_for_partitions(
                            asked, node.partitions_def, upstream
                        )
                    assert dagster.required_but_nonexistent_subset.is_empty
                    ours, theirs = (
                        sorted(quick.get_partition_keys()),
                        sorted(dagster.partitions_subset.get_partition_keys()),
                    )
                    assert ours == theirs, (node.key, parent, keys)
                    assert [k.keys_by_dimension for k in ours] == [k.keys_by_dimension for k in theirs]
                    compared += 1
    windows = [
        (n.key, p) for n in graph.asset_nodes for p in n.parent_keys if _is_day_window(n.partition_mappings.get(p))
    ]
    assert windows and compared == len(windows) * 4 * len(blocks)  # every day window answered, in every range
    assert not set(windows) & set(declined)


def test_a_ranges_symbols_are_the_registered_ones_between_its_keys():
    registered = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    assert symbols_between("BTC-USDT", "SOL-USDT", registered) == registered
    assert symbols_between("ETH-USDT", "ETH-USDT", registered) == ["ETH-USDT"]
    assert symbols_between("SOL-USDT", "BTC-USDT", registered) == []  # the last registered before the first
    assert symbols_between("BTC-USDT", "XRP-USDT", registered) == []  # not registered


def test_a_day_window_leaves_other_shapes_to_dagster(defs):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(SYMBOL_DIMENSION, [SYMBOLS[0]])
    graph = defs.resolve_asset_graph()
    features = graph.get(dg.AssetKey([TF, "features"]))
    parts = features.partitions_def
    window = next(m for m in features.partition_mappings.values() if _is_day_window(m))

    def quick(first: str, last: str, mapping=window, partitions=parts):
        return day_window_upstream(mapping, partitions, partitions, dg.PartitionKeyRange(first, last), instance)

    assert quick(f"{FIRST}|{SYMBOLS[0]}", f"{LAST}|{SYMBOLS[0]}") is not None
    assert quick(f"{FIRST}|{SYMBOLS[0]}", f"{LAST}|{SYMBOLS[1]}") is None  # a range to a symbol not registered
    assert quick(f"{FIRST}|{SYMBOLS[1]}", f"{LAST}|{SYMBOLS[1]}") is None  # a symbol not registered
    assert quick(f"{FIRST - timedelta(days=1)}|{SYMBOLS[0]}", f"{LAST}|{SYMBOLS[0]}") is None  # a day outside
    assert quick(f"{FIRST}|{SYMBOLS[0]}", f"{LAST}|{SYMBOLS[0]}", mapping=dg.IdentityPartitionMapping()) is None
    static = dg.MultiPartitionsDefinition(
        {
            "date": dg.DailyPartitionsDefinition(FIRST.isoformat()),
            SYMBOL_DIMENSION: dg.StaticPartitionsDefinition(["X"]),
        }
    )
    assert quick(f"{FIRST}|X", f"{LAST}|X", partitions=static) is None


def _is_day_window(mapping: dg.PartitionMapping | None) -> bool:
    dates = (
        mapping.downstream_mappings_by_upstream_dimension.get("date")
        if isinstance(mapping, dg.MultiPartitionMapping)
        else None
    )
    return dates is not None and isinstance(dates.partition_mapping, dg.TimeWindowPartitionMapping)
