"""A built report: its JSON document, its HTML page, and the names they are written under."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Report:
    kind: str  # "daily" or "window"
    folder_name: str  # under HURACAN_HOME/reports
    json_name: str  # beside index.html
    json: dict[str, Any]
    html: str


def jsonable(value: Any) -> Any:
    """Plain JSON values: dates as ISO text, and undefined numbers (NaN, ±inf) as null, never 0."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return str(value)
