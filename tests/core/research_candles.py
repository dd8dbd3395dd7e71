"""Candles with a known truth for the research search's honesty tests.

A random walk (no edge: what a search must not promote), optionally with planted events: at an event bar the coin
jumps on heavy volume, and over the next ``hold`` bars it drifts on in the jump's direction (a real edge at that
horizon, visible to the features at the event bar: its return and its volume). ``edge_until`` ends the drift at that
moment while the events keep their look: an edge that holds in one part of history only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl


def planted_candles(
    symbols: list[str],
    start: datetime,
    days: int,
    *,
    edge_bps: float = 0.0,
    hold: int = 4,
    every: int = 6,
    seed: int = 1,
    edge_until: datetime | None = None,
    noise_bps: float = 30.0,
) -> dict[str, pl.DataFrame]:
    """Hourly candles per symbol over ``days`` from ``start``; ``edge_bps`` of drift per bar for ``hold`` bars after
    each event (an event every ``every`` bars on average, never closer than ``hold`` + 1)."""
    bars = days * 24
    times = [start + timedelta(hours=h) for h in range(bars)]
    out = {}
    for k, symbol in enumerate(symbols):
        rng = np.random.default_rng(seed * 1000 + k)
        step = rng.normal(0.0, noise_bps / 1e4, bars)
        volume = rng.lognormal(3.0, 0.3, bars)
        t = hold + 1
        while t < bars - hold - 1:
            direction = 1.0 if rng.random() < 0.5 else -1.0
            step[t] = direction * 4 * noise_bps / 1e4  # the jump the features see
            volume[t] *= 6.0
            gone = edge_until is not None and times[t] >= edge_until
            drift = 0.0 if gone else edge_bps / 1e4 * direction
            step[t + 1 : t + 1 + hold] += drift
            t += hold + 1 + int(rng.integers(0, max(1, 2 * every - 2 * hold)))
        close = 100.0 * np.exp(np.cumsum(step))
        open_ = np.concatenate([[100.0], close[:-1]])
        wiggle = np.abs(rng.normal(0.0, noise_bps / 2e4, bars))
        out[symbol] = pl.DataFrame(
            {
                "timestamp": pl.Series(times, dtype=pl.Datetime("ms", "UTC")),
                "open": open_,
                "high": np.maximum(open_, close) * (1 + wiggle),
                "low": np.minimum(open_, close) * (1 - wiggle),
                "close": close,
                "volume": volume,
            }
        )
    return out


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)
