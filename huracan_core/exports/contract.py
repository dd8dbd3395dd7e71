"""The export tables as people read them, generated from ``tables.py`` into a page between two markers, so the page
and the code never disagree: ``python -m huracan_core.exports.contract docs/exports.md`` (``make docs``) rewrites
the page's tables, and a test fails when the page is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from huracan_core.exports.tables import DATE, DATE_SYMBOL, DERIVED, LINEAGE, PATTERNS, SEARCH, TABLES

BEGIN = (
    "<!-- export tables: generated from huracan_core/exports/tables.py (python -m huracan_core.exports.contract) -->"
)
END = "<!-- end of the generated export tables -->"
#: how often each grain of table is exported
EXPORTED = {
    DATE_SYMBOL: "per source partition (date × symbol)",
    DATE: "per day",
    SEARCH: "per research search (one file per search, replaced whole)",
}


def contract_markdown() -> str:
    """Every table: its grain, what a row is, what it holds, and each column with its type and meaning."""
    out = ["Every row carries its lineage:", "", "| column | meaning |", "|---|---|"]
    out += [f"| `{name}` | {_cell(text)} |" for name, text in LINEAGE.items()]
    out += [
        "",
        "A column not listed below is described by its prefix or suffix:",
        "",
        "| name | meaning |",
        "|---|---|",
    ]
    out += [
        f"| `{pattern}…` | {_cell(text)} |" if pattern.endswith("_") else f"| `…{pattern}` | {_cell(text)} |"
        for pattern, text in PATTERNS.items()
    ]
    for table in TABLES.values():
        row = "" if "one row per" in table.comment else f" One row per {table.row}."
        out += [
            "",
            f"### `{table.name}`",
            "",
            f"{table.comment}{row} Exported {EXPORTED[table.grain]}.",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        out += [f"| `{name}` | {column.type} | {_cell(column.comment)} |" for name, column in table.columns.items()]
    for name, (comment, sql) in DERIVED.items():
        out += ["", f"### `{name}` (a view)", "", comment, "", "```sql", sql, "```"]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    """A table cell: a pipe inside the text (``YYYY-MM-DD|BASE-QUOTE``) would end the cell."""
    return text.replace("|", "\\|")


def with_contract(page: str) -> str:
    """``page`` with the text between the markers replaced by ``contract_markdown()``."""
    head, begin, rest = page.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the page lacks the markers {BEGIN!r} … {END!r}")
    return f"{head}{BEGIN}\n\n{contract_markdown()}\n{END}{tail}"


if __name__ == "__main__":
    page = Path(sys.argv[1])
    page.write_text(with_contract(page.read_text()))
