"""What runs by itself: the Mechanic's hourly sensor, the Engine's and the shared encoder's schedules, and the
automation conditions under which waiting assets catch up when later data arrives.

The sensor and the schedules are evaluated the way the daemon evaluates them (``evaluate_tick`` on a context
built from the instance and the saved cursor); the conditions with ``evaluate_automation_conditions``, passing
each evaluation's cursor to the next as the automation sensor does. Every check is an invariant of the
automation (one run per hour, yesterday and nothing else, a partition requested once per arrival of its data,
never outside its window), so it holds whatever the candles of the window are.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from huracan_dagster.defs.automation import engine_schedule, mechanic_sensor
from huracan_dagster.defs.definitions import (
    build_definitions,
    daily_job_name,
    encoder_job_name,
    mechanic_job_name,
    timeframe_assets,
)
from huracan_dagster.defs.partitions import DEFAULT_SPACE, asset_key, symbol_blocks
from huracan_dagster.instance.failures import RANGE_END_TAG, RANGE_START_TAG
from huracan_dagster.settings import Settings
from tests.assets.pipeline import (
    CANDLES,
    FEATURES,
    LABELS,
    REGIMES,
    SHADOW_TRADES,
    SIGNALS,
    TF,
    TRADE_ANALYSIS,
    failure_text,
    materialize,
    register,
    resources,
)

ASSETS = timeframe_assets(TF)
CHAMPION, COIN_MODEL, ROSTER, DAILY_SUMMARY, MARKET_QUOTES = (
    asset_key(TF, n) for n in ("champion", "coin_model", "roster", "daily_summary", "market_quotes")
)
MECHANIC_JOB = dg.define_asset_job(
    mechanic_job_name(TF), selection=dg.AssetSelection.assets(asset_key(TF, "challengers"))
)
DAILY_JOB = dg.define_asset_job(daily_job_name(TF), selection=dg.AssetSelection.key_prefixes([TF]))
BTC = "BTC-USDT"
#: the Engine's schedule of a live exchange: every day from 2018-01-01 to yesterday is a partition
LIVE = "ccxt:binance"
#: registered in this order on purpose: the Engine's range follows the registration order, not the alphabet
REGISTERED = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]


@pytest.fixture
def instance():
    """A persistent (temporary) instance: sensor contexts refuse an ephemeral one."""
    with dg.instance_for_test() as instance:
        yield instance


def _day(day: str, offset: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=offset)).isoformat()


# --- the Mechanic's hourly sensor --------------------------------------------------------------------------------


class Clock:
    """The sensor's notion of now, moved by the test."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _candles(instance: dg.DagsterInstance, archive: Path, day: str) -> None:
    """Real candles of one day of BTC from the bundled sample, through the asset: a new candles event."""
    result = materialize(instance, archive, day, day, symbols=[BTC], selection=[CANDLES], assets=ASSETS, universe=[BTC])
    assert result.success, failure_text(result)


def _labels(instance: dg.DagsterInstance, day: str, timeframe: str = TF) -> None:
    """A day's labels recorded (the Mechanic's sensor reads the event log only)."""
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=asset_key(timeframe, "labels"), partition=f"{day}|{BTC}")
    )


def _newest_labels_event(instance: dg.DagsterInstance) -> int:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=asset_key(TF, "labels")), limit=1).records
    return records[0].storage_id


def _tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None):
    """One tick of the daemon: a fresh context from the instance and the cursor it kept."""
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor, sensor_name=sensor.name))


def _skipped(tick) -> bool:
    return not tick.run_requests and bool(tick.skip_message)


def test_mechanic_runs_once_an_hour_and_only_after_new_labels(instance, tmp_path):
    clock = Clock(datetime(2024, 12, 2, 10, 5, tzinfo=UTC))
    sensor = mechanic_sensor(TF, MECHANIC_JOB, running=False, clock=clock)

    nothing = _tick(sensor, instance, None)
    assert _skipped(nothing) and "15m/labels" in nothing.skip_message
    assert nothing.cursor is None

    _labels(instance, "2024-12-01")
    first = _tick(sensor, instance, nothing.cursor)
    [request] = first.run_requests
    assert request.run_key == "mechanic-15m-2024-12-02T10"
    assert json.loads(first.cursor) == {"labels_event": _newest_labels_event(instance), "hour": "2024-12-02T10"}

    clock.now = datetime(2024, 12, 2, 10, 50, tzinfo=UTC)  # new labels in the same hour: they wait for the next one
    _labels(instance, "2024-12-02")
    same_hour = _tick(sensor, instance, first.cursor)
    assert _skipped(same_hour) and "2024-12-02T10" in same_hour.skip_message
    assert same_hour.cursor == first.cursor

    clock.now = datetime(2024, 12, 2, 11, 5, tzinfo=UTC)
    next_hour = _tick(sensor, instance, same_hour.cursor)
    [request] = next_hour.run_requests
    assert request.run_key == "mechanic-15m-2024-12-02T11"
    saved = json.loads(next_hour.cursor)
    assert saved == {"labels_event": _newest_labels_event(instance), "hour": "2024-12-02T11"}
    assert saved["labels_event"] > json.loads(first.cursor)["labels_event"]

    clock.now = datetime(2024, 12, 2, 12, 5, tzinfo=UTC)  # a new hour, but nothing new since the last run
    quiet = _tick(sensor, instance, next_hour.cursor)
    assert _skipped(quiet) and quiet.cursor == next_hour.cursor


def test_mechanic_carries_on_from_its_saved_cursor_after_a_restart(instance, tmp_path):
    clock = Clock(datetime(2024, 12, 2, 10, 5, tzinfo=UTC))
    sensor = mechanic_sensor(TF, MECHANIC_JOB, running=False, clock=clock)
    _labels(instance, "2024-12-01")

    running = dg.build_sensor_context(instance=instance, sensor_name=sensor.name)  # one daemon that never stops
    [request] = sensor.evaluate_tick(running).run_requests
    saved = running.cursor
    assert saved and request.run_key == "mechanic-15m-2024-12-02T10"

    # the daemon restarts within the hour: from the saved cursor it answers what the running one answers
    restarted = _tick(sensor, instance, saved)
    continuing = sensor.evaluate_tick(running)
    assert _skipped(restarted) and _skipped(continuing)
    assert restarted.skip_message == continuing.skip_message and restarted.cursor == continuing.cursor == saved
    # without its cursor it would run again: the cursor is what carries the state
    assert [r.run_key for r in _tick(sensor, instance, None).run_requests] == [request.run_key]

    clock.now = datetime(2024, 12, 2, 11, 5, tzinfo=UTC)
    _labels(instance, "2024-12-02")
    restarted = _tick(sensor, instance, saved)
    continuing = sensor.evaluate_tick(running)
    assert (
        [r.run_key for r in restarted.run_requests]
        == [r.run_key for r in continuing.run_requests]
        == ["mechanic-15m-2024-12-02T11"]
    )
    assert restarted.cursor == continuing.cursor != saved


def test_mechanic_ignores_labels_of_another_timeframe(instance):
    sensor = mechanic_sensor(TF, MECHANIC_JOB, running=False, clock=lambda: datetime(2024, 12, 2, 10, 5, tzinfo=UTC))
    _labels(instance, "2024-12-01", "1h")
    assert _skipped(_tick(sensor, instance, None))
    _labels(instance, "2024-12-01")
    assert len(_tick(sensor, instance, None).run_requests) == 1


def test_mechanic_waits_for_the_days_labels_not_its_candles(instance, tmp_path):
    """New candles alone never start the Mechanic: it learns from the newest labelled day, and a run started by the
    candles before that day's labels existed judged the day before again and skipped the new one."""
    clock = Clock(datetime(2024, 12, 2, 10, 5, tzinfo=UTC))
    sensor = mechanic_sensor(TF, MECHANIC_JOB, running=False, clock=clock)
    _candles(instance, tmp_path / "archive", "2024-12-01")
    waiting = _tick(sensor, instance, None)
    assert _skipped(waiting) and "no 15m/labels materialized yet" in waiting.skip_message
    _labels(instance, "2024-12-01")
    [request] = _tick(sensor, instance, waiting.cursor).run_requests
    assert request.tags["huracan/labels_event"] == str(_newest_labels_event(instance))
    [challengers] = [a for a in ASSETS if a.key == asset_key(TF, "challengers")]
    assert asset_key(TF, "labels") in challengers.dependency_keys  # the lineage says so too


# --- the Engine's and the shared encoder's schedules -------------------------------------------------------------


def _covered(
    instance: dg.DagsterInstance, request: dg.RunRequest, partitions_def=DEFAULT_SPACE.dates_and_symbols
) -> set[str]:
    """The date × symbol partitions a ranged run request stands for, as Dagster resolves its range tags."""
    span = dg.PartitionKeyRange(request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG])
    return set(partitions_def.get_partition_keys_in_range(span, dynamic_partitions_store=instance))


def test_engine_skips_until_symbols_are_registered(instance):
    schedule = engine_schedule(TF, DAILY_JOB, running=False, space=DEFAULT_SPACE, source=LIVE)
    data = schedule.evaluate_tick(
        dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2024, 12, 31, 2, tzinfo=UTC))
    )
    assert not data.run_requests and "symbols" in data.skip_message  # says why, not just "empty result"


@pytest.mark.parametrize(
    "tick, yesterday",
    [
        (datetime(2024, 12, 31, 2, tzinfo=UTC), "2024-12-30"),
        (datetime(2025, 1, 1, 2, tzinfo=UTC), "2024-12-31"),
        (datetime(2024, 3, 1, 2, tzinfo=UTC), "2024-02-29"),
        # the same instant given in New York, where it is still the 30th: the day is yesterday in UTC
        (datetime(2024, 12, 30, 21, tzinfo=ZoneInfo("America/New_York")), "2024-12-30"),
    ],
)
def test_engine_requests_yesterday_of_every_registered_symbol_as_one_ranged_run(instance, tick, yesterday):
    register(instance, REGISTERED)
    schedule = engine_schedule(TF, DAILY_JOB, running=False, space=DEFAULT_SPACE, source=LIVE)
    data = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick))
    [request] = data.run_requests
    assert request.tags[RANGE_START_TAG] == f"{yesterday}|BTC-USDT"
    assert request.tags[RANGE_END_TAG] == f"{yesterday}|SOL-USDT"
    assert _covered(instance, request) == {f"{yesterday}|{s}" for s in REGISTERED}
    assert yesterday in request.run_key
    assert request.partition_key is None  # a range, not one partition


def test_engine_range_follows_registration_order_and_names_each_day(instance):
    register(instance, [*REGISTERED, "ADA-USDT"])  # listed later, sorts first
    schedule = engine_schedule(TF, DAILY_JOB, running=False, space=DEFAULT_SPACE, source=LIVE)
    keys = set()
    for tick in (datetime(2024, 12, 31, 2, tzinfo=UTC), datetime(2025, 1, 1, 2, tzinfo=UTC)):
        [request] = schedule.evaluate_tick(
            dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        ).run_requests
        day = _day(tick.date().isoformat(), -1)
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == (f"{day}|BTC-USDT", f"{day}|ADA-USDT")
        assert _covered(instance, request) == {f"{day}|{s}" for s in [*REGISTERED, "ADA-USDT"]}
        keys.add(request.run_key)
    assert len(keys) == 2  # a run key per day: the daemon never takes the next day's run for a repeat


def test_symbol_blocks_are_runs_of_neighbours_in_registration_order():
    assert symbol_blocks(REGISTERED, REGISTERED) == [REGISTERED]
    assert symbol_blocks(["ETH-USDT", "BTC-USDT"], REGISTERED) == [["BTC-USDT", "ETH-USDT"]]
    assert symbol_blocks(["SOL-USDT", "BTC-USDT"], REGISTERED) == [["BTC-USDT"], ["SOL-USDT"]]
    assert symbol_blocks([], REGISTERED) == []


def test_the_code_locations_schedules_run_the_daily_job_at_0200_and_the_encoder_at_0100(
    huracan_home, monkeypatch, instance
):
    monkeypatch.setenv("HURACAN_TIMEFRAMES", "")
    defs = build_definitions(Settings.from_env())
    engine, encoder = defs.resolve_schedule_def(f"engine_{TF}"), defs.resolve_schedule_def(f"shared_encoder_{TF}_daily")
    assert (engine.cron_schedule, engine.execution_timezone, engine.job_name) == (
        "0 2 * * *",
        "UTC",
        "daily_pipeline_15m",
    )
    assert (encoder.cron_schedule, encoder.execution_timezone, encoder.job_name) == (
        "0 1 * * *",
        "UTC",
        encoder_job_name(TF),
    )

    tick = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2024, 12, 31, 1, tzinfo=UTC),
        repository_def=defs.get_repository_def(),  # resolves the partition of the requested run, as the daemon does
    )
    [request] = encoder.evaluate_tick(tick).run_requests
    assert request.partition_key == "2024-12-30"

    register(instance, REGISTERED)
    tick = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2024, 12, 31, 2, tzinfo=UTC))
    [request] = engine.evaluate_tick(tick).run_requests
    daily = defs.resolve_job_def(engine.job_name)
    assert _covered(instance, request, daily.partitions_def) == {f"2024-12-30|{s}" for s in REGISTERED}


# --- automation conditions: waiting assets catch up by themselves ------------------------------------------------


def _evaluate(defs: dg.Definitions, instance: dg.DagsterInstance, when: datetime, cursor=None):
    return dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=when, cursor=cursor)


def _report(instance: dg.DagsterInstance, key: dg.AssetKey, *partitions: str) -> None:
    """A materialization in the event log without running the asset (the conditions read nothing else)."""
    for partition in partitions:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=partition))


def _window(partitions, first: str, last: str) -> bool:
    return all(first <= str(p).split("|")[0] <= last for p in partitions)


def test_labels_of_the_day_before_materialize_again_when_the_next_days_data_arrives(instance, tmp_path):
    """Real data: D's labels are made before D+1's candles exist (their last trades wait); the Engine's run of
    D+1 brings those candles, and D's labels are requested once, D+1's (made in that very run) are not; a day
    outside the last two is never requested, even when its inputs change."""
    archive = tmp_path / "archive"
    day, before, after = "2024-12-01", "2024-11-30", "2024-12-02"
    when = datetime(2024, 12, 3, 2, 30, tzinfo=UTC)  # after the Engine's 02:00 run of D+1: the window is D, D+1
    defs = dg.Definitions(assets=ASSETS, resources=resources(archive, universe=[BTC]))

    def run(selection, start, end):
        result = materialize(
            instance, archive, start, end, symbols=[BTC], selection=selection, assets=ASSETS, universe=[BTC]
        )
        assert result.success, failure_text(result)

    # D-1 and D with the history they read: features read 12 trailing days, signals 3 warm-up days
    run([CANDLES], _day(before, -3 - 12), day)
    run([FEATURES, REGIMES, MARKET_QUOTES], _day(before, -3), day)
    run([SIGNALS, LABELS], before, day)
    assert {f"{before}|{BTC}", f"{day}|{BTC}"} <= instance.get_materialized_partitions(LABELS)

    first = _evaluate(defs, instance, when)
    assert first.get_requested_partitions(LABELS) == set()  # nothing new for D; D+1 lacks its inputs
    assert first.get_requested_partitions(TRADE_ANALYSIS) == set()

    run([CANDLES, MARKET_QUOTES, FEATURES, REGIMES, SIGNALS, LABELS], after, after)  # the Engine's run of D+1
    arrived = _evaluate(defs, instance, when, first.cursor)
    assert arrived.get_requested_partitions(LABELS) == {f"{day}|{BTC}"}
    assert arrived.get_requested_partitions(TRADE_ANALYSIS) == set()  # no trades of D in this instance

    again = _evaluate(defs, instance, when, arrived.cursor)
    assert again.get_requested_partitions(LABELS) == set()  # requested once per arrival, not every tick
    run([LABELS], day, day)  # the requested run
    done = _evaluate(defs, instance, when, again.cursor)
    assert done.get_requested_partitions(LABELS) == set()

    # D's candles and features corrected: they are inputs of D-1's labels too, but D-1 is outside the window
    run([CANDLES], day, day)
    run([FEATURES], day, day)
    corrected = _evaluate(defs, instance, when, done.cursor)
    requested = corrected.get_requested_partitions(LABELS)
    assert f"{day}|{BTC}" in requested and f"{before}|{BTC}" not in requested
    assert _window(requested, day, after)


def test_trade_analysis_is_requested_with_the_labels_when_the_next_days_data_arrives(instance, tmp_path):
    """Its post-exit outcomes read D+1's candles, and it reads D's labels, which wait for the same data: when the
    Engine's run of D+1 brings them, both are requested on the same tick (one run, labels first)."""
    day, after = "2024-12-01", "2024-12-02"
    when = datetime(2024, 12, 3, 2, 30, tzinfo=UTC)
    defs = dg.Definitions(assets=ASSETS, resources=resources(tmp_path / "archive", universe=[BTC]))
    register(instance, [BTC])
    at, next_day = f"{day}|{BTC}", f"{after}|{BTC}"
    for key in (
        CANDLES,
        MARKET_QUOTES,
        FEATURES,
        REGIMES,
        SIGNALS,
        LABELS,
        CHAMPION,
        SHADOW_TRADES,
        TRADE_ANALYSIS,
    ):  # the Engine's run of D
        _report(instance, key, at)

    first = _evaluate(defs, instance, when)
    assert first.get_requested_partitions(TRADE_ANALYSIS) == first.get_requested_partitions(LABELS) == set()

    for key in (
        CANDLES,
        MARKET_QUOTES,
        FEATURES,
        REGIMES,
    ):  # the Engine's run of D+1 under way: its signals, labels, trades to come
        _report(instance, key, next_day)
    arrived = _evaluate(defs, instance, when, first.cursor)
    assert arrived.get_requested_partitions(LABELS) == {at}  # D+1's wait for their signals
    assert arrived.get_requested_partitions(TRADE_ANALYSIS) == {at}  # D+1's waits for its trades

    quiet = _evaluate(defs, instance, when, arrived.cursor)
    assert quiet.get_requested_partitions(LABELS) == quiet.get_requested_partitions(TRADE_ANALYSIS) == set()


def test_roster_and_daily_summary_follow_once_every_registered_symbol_is_in(instance, tmp_path):
    """Date-partitioned, eager: the newest day only, once its champions and trades (and, for the summary, its
    models) are in for every registered symbol."""
    day, before = "2024-12-01", "2024-11-30"
    when = datetime(2024, 12, 2, 2, 30, tzinfo=UTC)  # the newest complete day is D
    defs = dg.Definitions(assets=ASSETS, resources=resources(tmp_path / "archive", universe=[BTC, "ETH-USDT"]))
    register(instance, [BTC, "ETH-USDT"])

    first = _evaluate(defs, instance, when)
    assert first.get_requested_partitions(ROSTER) == first.get_requested_partitions(DAILY_SUMMARY) == set()

    for key in (COIN_MODEL, CHAMPION, SHADOW_TRADES):  # an older day, complete (late): not the newest day
        _report(instance, key, f"{before}|{BTC}", f"{before}|ETH-USDT")
    _report(instance, CHAMPION, f"{day}|{BTC}")
    _report(instance, SHADOW_TRADES, f"{day}|{BTC}")
    one_coin = _evaluate(defs, instance, when, first.cursor)
    assert one_coin.get_requested_partitions(ROSTER) == set()  # D: ETH's champion and trades are missing
    assert one_coin.get_requested_partitions(DAILY_SUMMARY) == set()

    _report(instance, CHAMPION, f"{day}|ETH-USDT")
    _report(instance, SHADOW_TRADES, f"{day}|ETH-USDT")
    both = _evaluate(defs, instance, when, one_coin.cursor)
    assert both.get_requested_partitions(ROSTER) == {day}
    assert both.get_requested_partitions(DAILY_SUMMARY) == set()  # the day's models are not in yet

    _report(instance, COIN_MODEL, f"{day}|{BTC}", f"{day}|ETH-USDT")
    models = _evaluate(defs, instance, when, both.cursor)
    assert models.get_requested_partitions(DAILY_SUMMARY) == {day}
    assert models.get_requested_partitions(ROSTER) == set()  # already requested for this day's data
