"""An evaluation as plain data: what a worker process returns, what the cache keeps, what the judge reads.

JSON on purpose: a cached candidate is read back by any later search on the same inputs and code (no pickle, no
framework object), and a non-finite figure is stored as null rather than a string that could pass for a number.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from huracan_core.research.evaluation import TRADE_COLUMNS, Evaluation

_TRADE_SCHEMA = {
    "entry_time": pl.Datetime("us", "UTC"),
    "exit_time": pl.Datetime("us", "UTC"),
    "direction": pl.Int8,
    "net_bps": pl.Float64,
    "gross_bps": pl.Float64,
    "net_pnl": pl.Float64,
    "regime": pl.String,
}


def record_of(evaluation: Evaluation, params: dict[str, object]) -> dict[str, Any]:
    trades = evaluation.trades.select(TRADE_COLUMNS)
    return {
        "symbol": evaluation.symbol,
        "candidate": evaluation.candidate,
        "params": params,
        "metrics": {k: _number(v) for k, v in evaluation.metrics.items()},
        "gates_passed": evaluation.gates.passed,
        "gates_failed": ", ".join(g.name for g in evaluation.gates.failed),
        "gate_summary": evaluation.gates.summary(),
        "signal": {k: _number(v) for k, v in evaluation.signal.headline().items()},
        "folds": [
            {k: (v.isoformat() if isinstance(v, datetime) else _number(v)) for k, v in row.items()}
            for row in evaluation.folds
        ],
        "trades": {
            c: [v.isoformat() if isinstance(v, datetime) else v for v in trades[c].to_list()] for c in TRADE_COLUMNS
        },
        "oos_start": evaluation.oos_start.isoformat(),
        "oos_end": evaluation.oos_end.isoformat(),
    }


def trades_frame(record: dict[str, Any]) -> pl.DataFrame:
    raw = record["trades"]
    columns = {
        c: [datetime.fromisoformat(v) for v in raw[c]] if dtype == pl.Datetime("us", "UTC") else raw[c]
        for c, dtype in _TRADE_SCHEMA.items()
    }
    return pl.DataFrame(columns, schema=_TRADE_SCHEMA)


def figure(value: object) -> float:
    """A stored figure as a float (null → NaN)."""
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def write_records(path: Path, records: list[dict[str, Any]]) -> None:
    """Written to a temporary name and renamed: a killed search leaves no half-written cache entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(records, sort_keys=True, allow_nan=False))
    tmp.replace(path)


def read_records(path: Path) -> list[dict[str, Any]] | None:
    """The cached records, or None when absent or unreadable (then the candidate is evaluated again)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _number(value: object) -> float | int | None:
    if isinstance(value, bool) or value is None:
        return value  # type: ignore[return-value]
    if isinstance(value, int):
        return value
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None
