"""What a research search found, for people and for analysts: a per-coin table for the terminal, one self-contained
HTML page (inline CSS and SVG, no script and no address elsewhere, so it opens offline from a copied folder), and the
files a search writes to the Archive — its candidates as the ``research_candidates`` export (a view of the analysts'
DuckDB file), their daily equity, their IC per fold and the page.

Nothing here judges a candidate: every figure and verdict comes from the frames given. Rows are put in one order
first, so the same candidates give the same text and the same bytes whatever order they arrive in.
"""

from __future__ import annotations

import textwrap
from datetime import date
from html import escape
from typing import Any

import polars as pl

from huracan_core.exports.tables import TABLES
from huracan_core.reports.charts import bar_chart, line_chart
from huracan_core.reports.html import NA, cards, figure, note, page, section, table
from huracan_core.storage.keys import export_search_key, research_key
from huracan_core.storage.store import parquet_bytes

TABLE = "research_candidates"
#: the polars type of each DuckDB type ``tables.py`` declares for the table
_POLARS = {"VARCHAR": pl.String, "DATE": pl.Date, "BOOLEAN": pl.Boolean, "BIGINT": pl.Int64, "DOUBLE": pl.Float64}
#: a candidate row: the lineage it carries (symbol, timeframe) and the columns ``tables.py`` declares, so the file and
#: the view's contract cannot drift apart
CANDIDATE_SCHEMA = pl.Schema(
    {
        "symbol": pl.String,
        "timeframe": pl.String,
        **{name: _POLARS[column.type] for name, column in TABLES[TABLE].columns.items()},
    }
)
#: one candidate's cumulative net return (a fraction: 0.1 is +10 %) at the end of each day
EQUITY_SCHEMA = pl.Schema({"symbol": pl.String, "candidate": pl.String, "day": pl.Date, "equity": pl.Float64})
#: one candidate's rank IC in each walk-forward fold (null: undefined)
FOLDS_SCHEMA = pl.Schema(
    {"symbol": pl.String, "candidate": pl.String, "fold": pl.Int64, "test_start": pl.Date, "ic": pl.Float64}
)

#: the figures of issue 24's table, in its order: (column, header's upper line, its lower line, how it reads)
FIGURES = (
    ("trades", "", "trades", "int"),
    ("net_bps", "net", "bps", "bps"),
    ("sharpe", "OOS", "Sharpe", "sharpe"),
    ("ic_mean", "", "IC", "ic"),
    ("top_quintile_net_bps", "top quintile", "net bps", "bps"),
    ("dsr", "", "DSR", "prob"),
    ("pbo", "", "PBO", "prob"),
    ("quarters_positive", "quarters", "positive", "share"),
    ("sharpe_vs_hold", "Sharpe", "vs hold", "signed"),
    ("gates_passed", "gates", "passed", "bool"),
)
#: the terminal's width, and the candidates it shows per coin (the selected one always among them)
WIDTH = 120
SHOWN = 8
#: candidates per coin drawn on the page besides the selected one: the best by Sharpe
PLOTTED = 3
MARK = "*"
#: the search's corrections as the page's summary shows them, for each coin's selected candidate
CORRECTIONS = (
    ("dsr", "DSR", "prob"),
    ("spa_p", "SPA p", "prob"),
    ("pbo", "PBO", "prob"),
    ("quarters_positive", "Quarters positive", "share"),
    ("max_year_share", "Largest year share", "share"),
    ("sharpe_vs_hold", "Sharpe vs hold", "signed"),
    ("gates_passed", "Gates passed", "bool"),
)
NOTHING_SURVIVED = "no candidate survived the search's corrections"


def terminal_table(candidates: pl.DataFrame) -> str:
    """Per coin, its candidates by out-of-sample Sharpe (the best ``SHOWN``, the selected one marked), then the
    coin's verdict, within ``WIDTH`` columns."""
    frame = _candidates(candidates)
    cells = [[_figure(row[key], kind) for key, _, _, kind in FIGURES] for row in frame.iter_rows(named=True)]
    widths = [
        max(len(upper), len(lower), *(len(row[i]) for row in cells)) for i, (_, upper, lower, _) in enumerate(FIGURES)
    ]
    room = WIDTH - len(MARK) - 1 - sum(w + 2 for w in widths)
    name_width = max(len("candidate"), min(room, max(map(len, frame["candidate"]))))

    def line(mark: str, name: str, texts: list[str]) -> str:
        figures = "".join(f"  {text:>{width}}" for text, width in zip(texts, widths, strict=True))
        return f"{mark:<{len(MARK)}} {name:<{name_width}}{figures}".rstrip()

    first = frame.row(0, named=True)
    out = [
        f"Research search {first['search_id']} · {first['window_start']} … {first['window_end']} · "
        f"{frame['symbol'].n_unique()} coins, {frame.height} candidates",
        f"{MARK} the coin's selected candidate (its best by out-of-sample Sharpe); {NA}: undefined, or not computed "
        "for the row",
    ]
    position = 0
    for symbol, rows in _coins(frame):
        shown = _shown(rows)
        many = "candidate" if rows.height == 1 else "candidates"
        out += ["", f"{symbol} · {rows.height} {many}, {rows['trials'].max()} trials counted by the DSR"]
        out.append(line("", "", [upper for _, upper, _, _ in FIGURES]))
        out.append(line("", "candidate", [lower for _, _, lower, _ in FIGURES]))
        for index, row in enumerate(rows.iter_rows(named=True)):
            if index in shown:
                mark = MARK if row["selected"] else ""
                out.append(line(mark, _fitted(row["candidate"], name_width), cells[position + index]))
        if rows.height > len(shown):
            out.append(f"  … {rows.height - len(shown)} more candidates, not shown")
        out += textwrap.wrap(
            _outcome(rows), WIDTH, initial_indent="  verdict: ", subsequent_indent=" " * len("  verdict: ")
        )
        position += rows.height
    return "\n".join(out) + "\n"


def html_report(candidates: pl.DataFrame, equity: pl.DataFrame, folds: pl.DataFrame, *, title: str) -> str:
    """One page: what the search concluded per coin, every candidate's figures, and for the selected candidate and
    the best ``PLOTTED`` of each coin an equity curve and a chart of its IC per fold."""
    frame = _candidates(candidates)
    curves = _conformed(equity, EQUITY_SCHEMA, "equity").sort("symbol", "candidate", "day")
    ics = _conformed(folds, FOLDS_SCHEMA, "folds").sort("symbol", "candidate", "fold")
    first = frame.row(0, named=True)
    coins = _coins(frame)
    subtitle = (
        f"Search {first['search_id']} over {first['window_start']} … {first['window_end']}: {frame.height} candidates "
        f"on {len(coins)} coins, each judged out of sample after costs. Each coin's best by Sharpe is admitted only if "
        "it survives the search's corrections (DSR, SPA, PBO, stability in time, buy-and-hold)."
    )
    sections = [_conclusions(frame, coins), _tables(coins), _charts(coins, curves, ics)]
    return page(title, subtitle, sections)


def research_files(candidates: pl.DataFrame, equity: pl.DataFrame, folds: pl.DataFrame) -> dict[str, bytes]:
    """``{archive key: bytes}`` of one search, for the search to write through its ``ArtifactStore``: the candidates
    where the ``research_candidates`` view reads them, and beside them the equity, the folds and the page."""
    frame = _candidates(candidates)
    curves = _conformed(equity, EQUITY_SCHEMA, "equity").sort("symbol", "candidate", "day")
    ics = _conformed(folds, FOLDS_SCHEMA, "folds").sort("symbol", "candidate", "fold")
    search = frame["search_id"][0]
    return {
        export_search_key(TABLE, search): parquet_bytes(frame),
        research_key(search, "equity.parquet"): parquet_bytes(curves),
        research_key(search, "folds.parquet"): parquet_bytes(ics),
        research_key(search, "index.html"): html_report(frame, curves, ics, title=f"Research search {search}").encode(),
    }


# ── the rows ──────────────────────────────────────────────────────────────────────────────────────────────────────


def _conformed(frame: pl.DataFrame, schema: pl.Schema, what: str) -> pl.DataFrame:
    """``frame`` with exactly ``schema``'s columns and types; NaN reads as null (undefined), in the files too."""
    missing = [name for name in schema if name not in frame.columns]
    undeclared = [name for name in frame.columns if name not in schema]
    if missing or undeclared:
        raise ValueError(f"{what}: missing columns {missing}, undeclared columns {undeclared}; expected {list(schema)}")
    try:
        cast = frame.select(pl.col(name).cast(kind, strict=True) for name, kind in schema.items())
    except pl.exceptions.PolarsError as error:
        raise ValueError(f"{what}: a column does not have its declared type: {error}") from error
    return cast.with_columns(pl.col(name).fill_nan(None) for name, kind in schema.items() if kind == pl.Float64)


def _candidates(candidates: pl.DataFrame) -> pl.DataFrame:
    """The candidates of one search, checked, by coin and then by Sharpe (best first, undefined last)."""
    frame = _conformed(candidates, CANDIDATE_SCHEMA, TABLE)
    if frame.is_empty():
        raise ValueError(f"{TABLE}: no candidates")
    for name in ("search_id", "symbol", "candidate", "selected", "admitted"):
        if frame[name].null_count():
            raise ValueError(f"{TABLE}: {frame[name].null_count()} rows without {name}")
    searches = frame.select("search_id", "window_start", "window_end").unique()
    if searches.height > 1:
        raise ValueError(f"{TABLE}: one search per report, got {searches.sort('search_id').rows()}")
    twice = frame.filter(pl.struct("symbol", "candidate").is_duplicated())
    if not twice.is_empty():
        raise ValueError(f"{TABLE}: candidates listed twice: {sorted(set(twice.select('symbol', 'candidate').rows()))}")
    chosen = (
        frame.filter("selected")
        .group_by("symbol")
        .agg(pl.col("candidate").sort())
        .filter(pl.col("candidate").list.len() > 1)
    )
    if not chosen.is_empty():
        raise ValueError(f"{TABLE}: more than one selected candidate per coin: {sorted(chosen.rows())}")
    unselected = frame.filter(pl.col("admitted") & ~pl.col("selected"))
    if not unselected.is_empty():
        raise ValueError(
            f"{TABLE}: admitted but not selected (only a coin's selected candidate can be admitted): "
            f"{sorted(unselected.select('symbol', 'candidate').rows())}"
        )
    return frame.sort(["symbol", "sharpe", "candidate"], descending=[False, True, False], nulls_last=True)


def _coins(frame: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    """Each coin's rows, in the frame's order (the frame is sorted by coin)."""
    return [(str(key[0]), rows) for key, rows in frame.group_by("symbol", maintain_order=True)]


def _shown(rows: pl.DataFrame) -> set[int]:
    """The positions shown: the best ``SHOWN`` by Sharpe, the selected one in place of the last when it is not."""
    best = set(range(min(SHOWN, rows.height)))
    selected = rows["selected"].arg_true().to_list()
    if selected and selected[0] not in best:
        return (best - {SHOWN - 1}) | {selected[0]}
    return best


def _selected(rows: pl.DataFrame) -> dict | None:
    chosen = rows.filter("selected")
    return chosen.row(0, named=True) if chosen.height else None


def _outcome(rows: pl.DataFrame) -> str:
    """The coin's verdict in one sentence: the admitted winner, or that none survived and why."""
    chosen = _selected(rows)
    if chosen is None:
        return f"{NOTHING_SURVIVED}: no candidate was selected."
    if chosen["admitted"]:
        return f"admitted {chosen['candidate']}: {chosen['verdict']}"
    return f"{NOTHING_SURVIVED}; the best by Sharpe, {chosen['candidate']}: {chosen['verdict']}"


def _figure(value: Any, kind: str) -> str:
    """A figure as both the terminal and the page show it; null (undefined, or not computed for the row) is n/a."""
    if value is None:
        return NA
    if kind == "bool":
        return "yes" if value else "no"
    number = float(value)
    return {
        "int": f"{number:,.0f}",
        "bps": f"{number:,.1f}",
        "sharpe": f"{number:.2f}",
        "ic": f"{number:.3f}",
        "prob": f"{number:.2f}",
        "share": f"{number * 100:.0f} %",
        "signed": f"{number:+.2f}",
    }[kind]


def _fitted(text: str, width: int) -> str:
    """``text`` in ``width`` characters: a long candidate id keeps its start and its end, which tell candidates apart."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return f"{text[:head]}…{text[len(text) - (width - 1 - head) :]}"


# ── the page ──────────────────────────────────────────────────────────────────────────────────────────────────────


def _conclusions(frame: pl.DataFrame, coins: list[tuple[str, pl.DataFrame]]) -> str:
    rows = []
    for symbol, candidates in coins:
        chosen = _selected(candidates) or {}
        rows.append(
            {
                "symbol": symbol,
                "outcome": "admitted" if chosen.get("admitted") else NOTHING_SURVIVED,
                "selected": chosen.get("candidate"),
                "why": chosen.get("verdict", "no candidate was selected"),
                "trials": _figure(candidates["trials"].max(), "int"),
                **{key: _figure(chosen.get(key), kind) for key, _, kind in CORRECTIONS},
            }
        )
    columns = [
        ("symbol", "Coin", "text"),
        ("outcome", "Outcome", "text"),
        ("selected", "Selected", "text"),
        ("trials", "Trials", "num"),
        *((key, header, "num") for key, header, _ in CORRECTIONS),
        ("why", "Why", "text"),
    ]
    admitted = frame.filter("admitted").height
    return section(
        "What the search concluded",
        cards([("Coins", f"{len(coins)}"), ("Candidates", f"{frame.height}"), ("Admitted", f"{admitted}")]),
        note(
            "The figures are the selected candidate's (each coin's best by out-of-sample Sharpe): the Deflated Sharpe "
            "probability, Hansen's SPA p-value against staying flat, the Probability of Backtest Overfitting, the "
            "share of quarters positive after costs, the largest share of its PnL in one year, and its Sharpe "
            "against holding."
        ),
        table(columns, rows, "no candidates"),
    )


def _tables(coins: list[tuple[str, pl.DataFrame]]) -> str:
    columns = [
        ("mark", "", "text"),
        ("candidate", "Candidate", "text"),
        ("family", "Family", "text"),
        *((key, f"{upper} {lower}".strip(), "num") for key, upper, lower, _ in FIGURES),
        ("gates_failed", "Gates failed", "text"),
    ]
    parts = [note(f"By out-of-sample Sharpe after costs, best first; ★ marks the selected candidate; {NA}: undefined.")]
    for symbol, rows in coins:
        shown = [
            {
                **row,
                "mark": ("★ admitted" if row["admitted"] else "★ selected") if row["selected"] else "",
                **{key: _figure(row[key], kind) for key, _, _, kind in FIGURES},
            }
            for row in rows.iter_rows(named=True)
        ]
        parts += [f"<h3>{escape(symbol)}</h3>", table(columns, shown, "no candidates")]
    return section("Candidates", *parts)


def _charts(coins: list[tuple[str, pl.DataFrame]], equity: pl.DataFrame, folds: pl.DataFrame) -> str:
    parts = [
        note(
            f"Each coin's selected candidate and its best {PLOTTED} by Sharpe: the cumulative net return after costs "
            "day by day, and the rank IC of its predictions in each walk-forward fold."
        )
    ]
    for symbol, rows in coins:
        for row in rows.filter(pl.col("selected") | (pl.int_range(pl.len()) < PLOTTED)).iter_rows(named=True):
            parts.append(_candidate_charts(symbol, row, equity, folds))
    return section("Equity and IC per fold", *parts)


def _candidate_charts(symbol: str, row: dict, equity: pl.DataFrame, folds: pl.DataFrame) -> str:
    name = row["candidate"]
    own = (pl.col("symbol") == symbol) & (pl.col("candidate") == name)
    days = equity.filter(own & pl.col("equity").is_not_null())
    points = [(day.toordinal(), value * 100) for day, value in days.select("day", "equity").iter_rows()]
    curve = line_chart(
        {name: points},
        f"{symbol} {name}: equity",
        lambda x: date.fromordinal(round(x)).isoformat(),
        "%",
        x_ticks=[x for x, _ in points],
    )
    fold_rows = folds.filter(own)
    bars = [(f"fold {f} · {start}", ic) for f, start, ic in fold_rows.select("fold", "test_start", "ic").iter_rows()]
    undefined = [label for label, ic in bars if ic is None]
    ic_chart = bar_chart([(label, ic) for label, ic in bars if ic is not None], f"{symbol} {name}: IC per fold", "")
    lost = f"; IC undefined in {', '.join(undefined)}" if undefined else ""
    return (
        f"<h3>{escape(symbol)} · {escape(name)}</h3>"
        + note(
            f"{'selected' if row['selected'] else 'not selected'} · OOS Sharpe {_figure(row['sharpe'], 'sharpe')} · "
            f"{_figure(row['trades'], 'int')} trades · net {_figure(row['net_bps'], 'bps')} bps a trade · "
            f"IC {_figure(row['ic_mean'], 'ic')}"
        )
        + figure(curve, "Cumulative net return after costs (%), by day.", "No equity recorded for this candidate.")
        + figure(
            ic_chart,
            f"Spearman rank IC of predicted edge vs realized net bps, per fold{lost}.",
            "IC undefined in every fold." if undefined else "No folds recorded for this candidate.",
        )
    )
