"""The ``patterns`` and ``hamilton`` rows of ``huracan health`` over an Archive: open pauses listed with since when,
lifted ones gone; Hamilton off until it ran, each breaker named from its committed state, and a tripped breaker
never ``down``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from huracan_core.health import State
from huracan_core.health.pauses import PauseEvent, record
from huracan_core.paper.holds import hamilton, pattern_pauses
from huracan_core.paper.state import PaperState, save_state
from huracan_core.risk import RiskSettings
from huracan_core.risk.state import Mark, RiskState
from huracan_core.storage import LocalArtifactStore

TF = "15m"
AT = datetime(2024, 9, 1, 10, 30, tzinfo=UTC)
PATTERN = "TREND_UP:long:trend,momentum"
SETTINGS = RiskSettings()


def test_open_pauses_are_listed_with_since_when_and_a_lift_clears_them(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    empty = pattern_pauses(store, [TF, "1h"])
    assert (empty.state, empty.detail) == (State.OK, "none paused")
    record(store, TF, [PauseEvent(PATTERN, "pause", "cusum", AT, "collapsed")])
    record(store, "1h", [PauseEvent("RANGE:short:none", "pause", "cli:ops", AT, "by hand")])
    found = pattern_pauses(store, [TF, "1h"])
    assert found.state is State.DEGRADED and found.detail.startswith("2 paused")
    assert f"{TF} {PATTERN} since 2024-09-01 10:30 UTC by cusum (in effect from 2024-09-02)" in found.detail
    assert "1h RANGE:short:none since 2024-09-01 10:30 UTC by cli:ops" in found.detail
    assert "RANGE:short:none" not in pattern_pauses(store, [TF]).detail  # each timeframe's own log

    record(store, TF, [PauseEvent(PATTERN, "resume", "telegram", AT + timedelta(hours=1), "lifted")])
    record(store, "1h", [PauseEvent("RANGE:short:none", "resume", "recovery", AT + timedelta(hours=1), "back")])
    cleared = pattern_pauses(store, [TF, "1h"])
    assert (cleared.state, cleared.detail) == (State.OK, "none paused")


def _committed(tmp_path, **risk) -> LocalArtifactStore:
    store = LocalArtifactStore(tmp_path)
    state = RiskState(cash=10_000.0, bar_time=AT, day=AT.date(), day_start_equity=10_000.0)
    for name, value in risk.items():
        setattr(state, name, value)
    save_state(store, TF, PaperState(risk=state, last_bar=AT))
    return store


def test_hamilton_is_off_until_it_ran_and_ok_with_its_breakers_clear(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    never = hamilton(store, TF, SETTINGS, None)
    assert never.state is State.OFF and "never ran in this home" in never.detail
    assert "kill switch is pressed (test)" in hamilton(store, TF, SETTINGS, "test").detail
    calm = {"marks": {"ETH-USDT": Mark(2500.0, SETTINGS.volatility_percentile / 2, AT)}}
    found = hamilton(_committed(tmp_path, **calm), TF, SETTINGS, None)
    assert found.state is State.OK and found.detail.endswith("breakers clear")
    assert "last bar 2024-09-01 10:30 UTC" in found.detail


@pytest.mark.parametrize(
    ("risk", "kill", "said"),
    [
        ({"killed": True, "kill_reason": "funding spike"}, "funding spike", "kill switch on (funding spike)"),
        ({}, "pressed by hand", "kill switch pressed (pressed by hand): on from the next bar"),
        ({"cash": 9_000.0, "daily_stop_day": AT.date()}, None, "daily loss stop tripped (lost 1,000.00 of"),
        ({"losing_streak": SETTINGS.losing_streak}, None, f"losing streak {SETTINGS.losing_streak} (breaker at"),
        ({"marks": {"SOL-USDT": Mark(150.0, 0.99, AT)}}, None, "volatility breaker on SOL-USDT 0.99"),
    ],
)
def test_each_breaker_is_named_and_degraded_never_down(tmp_path, risk, kill, said) -> None:
    found = hamilton(_committed(tmp_path, **risk), TF, SETTINGS, kill)
    assert found.state is State.DEGRADED and "held back by its own breakers, not broken" in found.detail
    assert said in found.detail


def test_only_a_coin_scored_at_the_last_bar_shows_the_volatility_breaker(tmp_path) -> None:
    """A held coin is marked without a rank (it is not scored) and an older mark is no longer judged: neither can
    be refused an entry at the next bar for its volatility, so neither is a breaker on."""
    marks = {"SOL-USDT": Mark(150.0, 0.99, AT - timedelta(minutes=15)), "ETH-USDT": Mark(2500.0, None, AT)}
    assert hamilton(_committed(tmp_path, marks=marks), TF, SETTINGS, None).state is State.OK
