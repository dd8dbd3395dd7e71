"""The pattern review over the Archive: every shadow trade and would-be trade so far, judged, the decisions logged.

It reads the ledgers from the Archive rather than as asset inputs because a pattern's record spans every day and
symbol traded so far, and it writes nothing but events in the pause log (``health.pauses``): no model, config or
ledger is touched.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from huracan_core.health.patterns import PatternHealthConfig
from huracan_core.health.pauses import PauseBook, PauseEvent, load_book, record, review
from huracan_core.storage.store import ArtifactStore

RECORD_COLUMNS = ("trade_id", "exit_time", "net_bps", "regime", "direction", "engines_agreeing")


def ledgers(store: ArtifactStore, prefix: str, timeframe: str) -> pl.DataFrame:
    """Every ``<prefix><SYMBOL>/<timeframe>/<date>.parquet`` ledger's pattern columns, stacked."""
    keys = [k for k in store.list_keys(prefix) if k.endswith(".parquet") and f"/{timeframe}/" in k]
    frames = [store.read_parquet(k).select(RECORD_COLUMNS) for k in keys]
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(
            schema={
                "trade_id": pl.String,
                "exit_time": pl.Datetime("us", "UTC"),
                "net_bps": pl.Float64,
                "regime": pl.String,
                "direction": pl.Int8,
                "engines_agreeing": pl.String,
            }
        )
    return pl.concat(frames, how="vertical_relaxed")


def review_archive(
    store: ArtifactStore, timeframe: str, now: datetime, config: PatternHealthConfig = PatternHealthConfig()
) -> tuple[PauseBook, list[PauseEvent]]:
    """The pause log after this review, and the pauses and lifts it decided at ``now``."""
    trades = ledgers(store, "shadow_trades/", timeframe)
    would_be = ledgers(store, "health/would_be/", timeframe)
    events = review(trades, would_be, load_book(store, timeframe), now, config)
    return (record(store, timeframe, events) if events else load_book(store, timeframe)), events
