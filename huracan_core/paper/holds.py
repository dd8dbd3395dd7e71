"""What holds trading back on purpose, as ``huracan health`` rows: the open pattern pauses and Hamilton's breakers
(beside Hamilton's state, which they read: ``health`` itself never imports ``paper``, which reads its pauses).

Neither is ever ``down``: a pause or a tripped breaker is the platform protecting itself, working as designed, so
it is ``degraded`` (a person should know, and may lift it) with the reason, and everything else about the
component stays judged by its own row. Both read the Archive, so they are only asked when the Archive answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from huracan_core.health.pauses import load_book
from huracan_core.health.status import Finding, State
from huracan_core.paper.state import load_state
from huracan_core.risk import RiskManager, RiskSettings
from huracan_core.storage.keys import live_state_key
from huracan_core.storage.store import ArtifactStore


def pattern_pauses(store: ArtifactStore, timeframes: Sequence[str]) -> Finding:
    """The patterns paused as recorded now (a pause recorded today takes effect tomorrow: the row says from when)."""
    paused = [
        f"{tf} {pattern} since {event.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC by {event.by} "
        f"(in effect from {event.effective_from.isoformat()})"
        for tf in timeframes
        for pattern, event in load_book(store, tf).paused().items()
    ]
    if not paused:
        return Finding(State.OK, "none paused")
    return Finding(
        State.DEGRADED,
        f"{len(paused)} paused, skipped by the shadow trader and Hamilton (`huracan health resume PATTERN` lifts "
        f"one): {'; '.join(paused)}",
    )


def hamilton(store: ArtifactStore, timeframe: str, settings: RiskSettings, kill: str | None) -> Finding:
    """Hamilton's breakers from the state its last bar committed; ``kill``: the home's kill switch file's reason
    (pressed: on from the next bar) or None."""
    state = load_state(store, timeframe)
    if state is None:
        pressed = f"; the kill switch is pressed ({kill})" if kill is not None else ""
        return Finding(
            State.OFF, f"never ran in this home: no state at {store.uri(live_state_key(timeframe))}{pressed}"
        )
    risk, r = RiskManager(settings, state.risk), state.risk
    on = []
    if r.killed:
        on.append(f"kill switch on ({r.kill_reason}): every position closed, no entry until it is cleared")
    elif kill is not None:
        on.append(f"kill switch pressed ({kill}): on from the next bar")
    breakers = risk.breakers()
    daily, streak = breakers["daily_loss_stop"], breakers["losing_streak"]
    assert isinstance(daily, dict) and isinstance(streak, dict)
    if daily["tripped"]:
        on.append(
            f"daily loss stop tripped (lost {daily['day_loss']:,.2f} of {daily['limit']:,.2f} allowed): no entry "
            "until the next UTC day"
        )
    if streak["tripped"]:
        on.append(f"losing streak {streak['losses']} (breaker at {streak['threshold']}): entries at half size")
    hot = [
        f"{symbol} {m.volatility_percentile:.2f}"
        for symbol, m in sorted(r.marks.items())
        if m.at == r.bar_time
        and m.volatility_percentile is not None
        and m.volatility_percentile > settings.volatility_percentile
    ]
    if hot:
        on.append(f"volatility breaker on {', '.join(hot)} (rank above {settings.volatility_percentile:g})")
    last = "none" if state.last_bar is None else f"{state.last_bar:%Y-%m-%d %H:%M} UTC"
    where = f"{timeframe} last bar {last}, equity {risk.equity:,.2f}, {len(r.positions)} open"
    if not on:
        return Finding(State.OK, f"{where}; breakers clear")
    return Finding(State.DEGRADED, f"{where}; held back by its own breakers, not broken: {'; '.join(on)}")
