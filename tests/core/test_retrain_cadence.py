"""The retrain cadence: which days train coin models (and the shared encoder), and what the others store."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from huracan_core.models.cadence import RetrainCadence
from huracan_core.models.day_models import INDEX_SCHEMA, no_model_index, retrain_split

DAYS = [date(2024, 7, 1) + timedelta(days=n) for n in range(60)]


@pytest.mark.parametrize("every", [1, 2, 7, 30])
def test_every_day_knows_its_last_and_next_retrain_day(every: int) -> None:
    cadence = RetrainCadence(every)
    retrain_days = [d for d in DAYS if cadence.is_retrain_day(d)]
    assert all((b - a).days == every for a, b in itertools.pairwise(retrain_days)), "evenly spaced"
    for day in DAYS:
        last, following = cadence.last_retrain_day(day), cadence.next_retrain_day(day)
        assert cadence.is_retrain_day(last) and cadence.is_retrain_day(following)
        assert last <= day < following and (following - last).days == every
        assert (last == day) == cadence.is_retrain_day(day)


def test_a_weekly_cadence_retrains_on_mondays_whatever_the_window() -> None:
    cadence = RetrainCadence(7)
    assert [d for d in DAYS if cadence.is_retrain_day(d)] == [d for d in DAYS if d.weekday() == 0]
    assert RetrainCadence(1).describe() == "every day" and "Mondays" in cadence.describe()
    assert "next 2024-07-08" in cadence.why_not(date(2024, 7, 3))


@pytest.mark.parametrize("every", [0, -7])
def test_a_cadence_below_one_day_is_refused(every: int) -> None:
    with pytest.raises(ValueError, match=f"every {every} days is not a cadence"):
        RetrainCadence(every)


def test_split_keeps_every_key_once_and_trains_only_retrain_days() -> None:
    wanted = [(d, s) for s in ("ETH-USDT", "BTC-USDT") for d in DAYS[:15]]
    retrain, idle = retrain_split(wanted, RetrainCadence(7))
    assert sorted(retrain + idle) == sorted(wanted) and not set(retrain) & set(idle)
    assert {d.weekday() for d, _ in retrain} == {0} and all(d.weekday() for d, _ in idle)
    assert retrain_split(wanted, RetrainCadence(1)) == (sorted(wanted), [])


def test_a_day_without_a_model_stores_an_empty_index_of_the_same_columns() -> None:
    frame = no_model_index()
    assert frame.height == 0 and frame.schema == INDEX_SCHEMA


def test_a_day_without_a_model_exports_an_empty_model_performance_table() -> None:
    from huracan_core.exports.rows import model_performance

    table = model_performance(no_model_index(), {})
    assert table.height == 0 and {"model_version", "policy", "fold", "sharpe"} <= set(table.columns)
