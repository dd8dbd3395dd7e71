"""HTML for the reports: one self-contained page (inline CSS, inline SVG charts, no scripts, no external URL),
so that ``index.html`` opens offline from a copied folder. Undefined figures read ``n/a``, never 0."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from html import escape
from typing import Any

from huracan_core.reports.verdicts import grouped_by_verdict

NA = "n/a"

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;
color:#1d2330;background:#fff;padding:0 16px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 8px;border-bottom:2px solid #e3e7ef;padding-bottom:4px}
.sub{color:#5b6475;margin:0 0 16px}.note{color:#5b6475;font-size:.9em;margin:4px 0 8px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{border:1px solid #e3e7ef;border-radius:6px;padding:8px 12px;min-width:140px;background:#f8f9fc}
.card .label{font-size:.8em;color:#5b6475}.card .value{font-size:1.25em;font-weight:600}
table{border-collapse:collapse;margin:6px 0 12px;font-size:.9em}
th,td{border:1px solid #e3e7ef;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f1f3f8}td.text,th.text{text-align:left}tr.total td{font-weight:600;background:#f8f9fc}
.pos{color:#1a7f37}.neg{color:#c62828}.empty{color:#5b6475;font-style:italic}
.alert{border-left:4px solid #c62828;background:#fdf1f1;padding:6px 10px;margin:8px 0}
figure{margin:8px 0 16px}figcaption{color:#5b6475;font-size:.85em}
svg text{font-size:11px;fill:#1d2330}svg .grid{stroke:#e3e7ef}svg .zero{stroke:#7f7f7f;stroke-dasharray:4 3}
"""


#: the champion decisions (promotions table) as both reports show them
DECISION_COLUMNS = [
    ("effective_from", "Effective", "text"),
    ("symbol", "Coin", "text"),
    ("source", "Source", "text"),
    ("promoted", "Promoted", "bool"),
    ("champion_before", "Before", "text"),
    ("champion_after", "After", "text"),
    ("reason", "Reason", "text"),
    ("test", "Test", "text"),
    ("p_value", "p", "p"),
]


def fmt(value: Any, kind: str = "text") -> str:
    """``value`` as shown on the page; None (an undefined figure) is ``n/a``. ``kind`` says what ``value`` is
    (a number for the numeric kinds)."""
    if value is None:
        return NA
    if kind == "int":
        return f"{int(value):,}"
    if kind == "usdt":
        return f"{float(value):,.2f} USDT"
    if kind == "pct":
        return f"{float(value):.2f} %"
    if kind == "bps":
        return f"{float(value):,.1f} bps"
    if kind == "ratio":
        return f"{float(value):,.2f}"
    if kind == "p":
        return f"{float(value):.4g}"
    if kind == "duration":
        return duration(float(value))
    if kind == "bool":
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    return (f"{days}d " if days else "") + f"{hours}h{minutes:02d}m"


def _css_class(value: Any, kind: str) -> str:
    numeric = kind in ("usdt", "pct", "bps", "ratio")
    if not numeric:
        return "text" if kind in ("text", "date") else ""
    if value is None or value == 0:
        return ""
    return "pos" if float(value) > 0 else "neg"


def table(columns: Sequence[tuple[str, str, str]], rows: Iterable[dict], empty: str, signed: Sequence[str] = ()) -> str:
    """``columns``: (key, header, kind). ``signed``: keys whose cells are coloured by sign. A row with
    ``_total`` set is drawn as a total row."""
    rows = list(rows)
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(
        f'<th class="{"text" if kind in ("text", "date") else ""}">{escape(title)}</th>' for _, title, kind in columns
    )
    body = []
    for row in rows:
        cells = []
        for key, _, kind in columns:
            value = row.get(key)
            css = _css_class(value, kind) if key in signed else ("text" if kind in ("text", "date") else "")
            cells.append(f'<td class="{css}">{escape(fmt(value, kind))}</td>')
        body.append(f'<tr class="{"total" if row.get("_total") else ""}">{"".join(cells)}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def said_once(rows: Iterable[dict], columns: Sequence[tuple[str, str, str]], reason: str = "reason") -> list[dict]:
    """A table's per-coin rows with each verdict said once: coins whose other cells and ``reason`` agree share a
    row."""
    return grouped_by_verdict(rows, [key for key, _, _ in columns if key not in ("symbol", reason)], reason)


def cards(items: Sequence[tuple[str, str]]) -> str:
    inner = "".join(
        f'<div class="card"><div class="label">{escape(label)}</div><div class="value">{escape(value)}</div></div>'
        for label, value in items
    )
    return f'<div class="cards">{inner}</div>'


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def alert(text: str) -> str:
    return f'<div class="alert">{escape(text)}</div>'


def figure(svg: str, caption: str, empty: str) -> str:
    if not svg:
        return f'<p class="empty">{escape(empty)}</p>'
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def section(title: str, *parts: str, anchor: str = "") -> str:
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return f"<section{ident}><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def missing(tables: dict[str, str], table: str, otherwise: str) -> str:
    """The text for a section over ``table``: why it is not available, or ``otherwise``."""
    return f"{table} not available: {tables[table]}" if table in tables else otherwise


def missing_section(tables: dict[str, str]) -> str:
    if not tables:
        return ""
    rows = [{"table": k, "reason": v} for k, v in tables.items()]
    return section("Tables not available", table([("table", "Table", "text"), ("reason", "Reason", "text")], rows, ""))


def page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="sub">{escape(subtitle)}</p>{"".join(sections)}</body></html>\n'
    )
