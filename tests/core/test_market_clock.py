"""Hamilton's market clock: accelerated from its origin, never past the real time it is limited by, and how long
the loop waits for a moment on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from huracan_core.paper.forward import MarketClock

ORIGIN = datetime(2024, 9, 1, tzinfo=UTC)


def test_an_accelerated_clock_runs_from_its_origin_and_waits_in_wall_seconds() -> None:
    wall = [100.0]
    clock = MarketClock(ORIGIN, 900.0, wall=lambda: wall[0])
    assert clock.now() == ORIGIN
    wall[0] += 2.0
    assert clock.now() == ORIGIN + timedelta(minutes=30)
    assert clock.wall_seconds_until(ORIGIN + timedelta(minutes=45)) == pytest.approx(1.0)
    assert clock.wall_seconds_until(ORIGIN) < 0  # already passed


def test_a_live_clock_never_runs_past_the_real_time() -> None:
    wall, real = [0.0], [ORIGIN + timedelta(hours=1)]
    clock = MarketClock(ORIGIN, 3600.0, wall=lambda: wall[0], limit=lambda: real[0])
    wall[0] = 0.5
    assert clock.now() == ORIGIN + timedelta(minutes=30)  # catching up
    wall[0] = 5.0
    assert clock.now() == real[0]  # caught up: the real time, not five hours on
    assert clock.wall_seconds_until(real[0] + timedelta(minutes=15)) == pytest.approx(900.0)  # real seconds now
    as_fast = MarketClock(ORIGIN, 0.0, limit=lambda: real[0])
    assert as_fast.now() == real[0] and as_fast.wall_seconds_until(real[0] - timedelta(minutes=1)) < 0
    with pytest.raises(ValueError, match="speed -1 is below 0"):
        MarketClock(ORIGIN, -1.0)
