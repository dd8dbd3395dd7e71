"""Hamilton's logs in the Archive: ``live_logs/<kind>/<tf>/<YYYYMMDD>.parquet`` for ``trades`` (every fill: entry,
exit, a maker entry missed, an approved entry dropped), ``decisions`` (every coin at every bar: the score, the
outcome and, for a refusal, the rule and its figures) and ``equity`` (one row a bar).

A bar's rows are written by replacing the day's object whole, its rows of that bar and later dropped first: a
process killed after writing a bar's logs but before committing its state writes the same rows again when it
redoes the bar, so no row is ever doubled and none is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from huracan_core.storage.keys import live_log_key, live_logs_prefix
from huracan_core.storage.store import ArtifactStore

TIME = pl.Datetime("us", "UTC")
SCHEMAS: dict[str, pl.Schema] = {
    "trades": pl.Schema(
        {
            "bar_time": TIME,
            "symbol": pl.String,
            #: entry | exit | missed (a maker limit not traded through) | dropped (the kill switch went on first)
            "event": pl.String,
            "position_id": pl.String,
            "direction": pl.Int8,
            #: the open time of the bar the fill happened in (an exit at a close: that bar)
            "fill_bar": TIME,
            "price": pl.Float64,
            "notional": pl.Float64,
            #: this leg's costs in quote currency (an exit's funding: over the whole hold)
            "fees": pl.Float64,
            "spread": pl.Float64,
            "slippage": pl.Float64,
            "funding": pl.Float64,
            #: the round trip's net P&L, both legs' costs in (exits only)
            "net_pnl": pl.Float64,
            "net_bps": pl.Float64,
            "exit_reason": pl.String,
            "model_folder": pl.String,
            "mlflow_version": pl.String,
            #: the risk decision behind the entry: the rule that set its size, and why
            "risk_rule": pl.String,
            "risk_why": pl.String,
        }
    ),
    "decisions": pl.Schema(
        {
            "bar_time": TIME,
            "symbol": pl.String,
            #: approved | refused | no_signal | holding | champion_refused | not_scored | no_champion | no_roster |
            #: paused | outside_top_n (kept from entering by Telegram's /pause or /trade N)
            "outcome": pl.String,
            "model_folder": pl.String,
            "mlflow_version": pl.String,
            "long_edge_bps": pl.Float64,
            "short_edge_bps": pl.Float64,
            #: the champion's call: +1, −1, 0
            "direction": pl.Int8,
            "regime": pl.String,
            "volatility_percentile": pl.Float64,
            #: the risk rule that set the size or refused it (``champion`` for a champion refused, ``control`` for
            #: a coin paused or outside the top N, ``pattern_paused`` for a call whose pattern is paused: its key
            #: is in ``why`` and ``figures``)
            "rule": pl.String,
            "notional": pl.Float64,
            "why": pl.String,
            #: every figure the risk rules judged by, as JSON
            "figures": pl.String,
        }
    ),
    "equity": pl.Schema(
        {
            "bar_time": TIME,
            "equity": pl.Float64,
            "cash": pl.Float64,
            "day_loss": pl.Float64,
            "daily_limit": pl.Float64,
            "gross_exposure": pl.Float64,
            "open_risk": pl.Float64,
            "positions": pl.Int64,
            "pending": pl.Int64,
            "killed": pl.Boolean,
            "daily_stop": pl.Boolean,
            "losing_streak": pl.Int64,
        }
    ),
}


def log_frame(kind: str, rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Rows of ``kind`` as a frame of its schema (a column a row leaves out is null)."""
    schema = SCHEMAS[kind]
    return pl.DataFrame([{name: row.get(name) for name in schema} for row in rows], schema=schema, orient="row")


def write_bar(
    store: ArtifactStore, timeframe: str, bar: datetime, rows: Mapping[str, Sequence[Mapping[str, Any]]]
) -> None:
    """The bar's rows of every kind into its day's objects, replacing what an earlier attempt at the bar (or any
    later bar) left there."""
    for kind in SCHEMAS:
        key = live_log_key(kind, timeframe, bar.date())
        earlier = store.read_parquet(key).filter(pl.col("bar_time") < bar) if store.exists(key) else log_frame(kind, [])
        store.write_parquet(key, pl.concat([earlier, log_frame(kind, rows.get(kind, ()))]))


def read_logs(store: ArtifactStore, kind: str, timeframe: str) -> pl.DataFrame:
    """Every day's rows of ``kind``, in time order."""
    frames = [store.read_parquet(key) for key in store.list_keys(live_logs_prefix(kind, timeframe))]
    return pl.concat(frames) if frames else log_frame(kind, [])
