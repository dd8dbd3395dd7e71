"""The research report on small searches built here: the terminal table shows issue 24's columns, n/a for what is
undefined and the selected candidate marked; the HTML page is self-contained, escapes what it shows, draws each
plotted candidate's two charts and gives the same bytes for the same candidates in any order; and the files of a
search are what the DuckDB view ``research_candidates`` reads, with exactly the columns ``tables.py`` declares."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import duckdb
import polars as pl
import pytest

from huracan_core.exports.database import build_database
from huracan_core.exports.tables import LINEAGE, TABLES
from huracan_core.research.report import (
    CANDIDATE_SCHEMA,
    NOTHING_SURVIVED,
    PLOTTED,
    SHOWN,
    WIDTH,
    html_report,
    research_files,
    terminal_table,
)
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import export_search_key, research_key

START, END = date(2021, 1, 1), date(2024, 12, 31)
#: the columns a selected row alone carries (the search's corrections)
SEARCH_FIGURES = ("dsr", "spa_p", "pbo", "quarters_positive", "max_year_share")


def candidate(symbol: str, name: str, sharpe: float, *, search: str = "s1", selected: bool = False, **figures):
    """One row of ``research_candidates``: the corrections' figures only when ``selected``."""
    row = {
        "search_id": search,
        "window_start": START,
        "window_end": END,
        "symbol": symbol,
        "candidate": name,
        "timeframe": name.split("·")[0],
        "exit": "hold6",
        "family": "market_neutral" if symbol == "UNIVERSE" else "coin_lgbm",
        "encoder": name.endswith("enc"),
        "trials": 12,
        "trades": 300,
        "net_bps": 4.5,
        "net_pnl": 135.0,
        "sharpe": sharpe,
        "ic_mean": 0.02,
        "top_quintile_net_bps": 9.0,
        "dsr": 0.97 if selected else None,
        "spa_p": 0.01 if selected else None,
        "pbo": 0.12 if selected else None,
        "quarters_positive": 0.75 if selected else None,
        "max_year_share": 0.4 if selected else None,
        "sharpe_vs_hold": sharpe - 0.5,
        "hold_sharpe": 0.5,
        "gates_passed": True,
        "gates_failed": "",
        "selected": selected,
        "admitted": False,
        "verdict": "not the best by Sharpe",
    }
    return {**row, **figures}


def search(search_id: str = "s1") -> pl.DataFrame:
    """BTC: ten candidates, the best admitted, one without a Sharpe (NaN), one without an IC. ETH: three, the best
    not admitted. The market-neutral candidate alone, not admitted."""
    rows = [
        candidate(
            "BTC-USDT",
            f"4h·hold{i}·coin",
            2.0 - i / 10,
            search=search_id,
            selected=i == 0,
            admitted=i == 0,
            verdict="admitted: DSR 0.97 ≥ 0.95, SPA p 0.01, PBO 0.12" if i == 0 else "not the best by Sharpe",
        )
        for i in range(10)
    ]
    rows[4]["sharpe"] = math.nan
    rows[6]["ic_mean"] = None
    rows += [
        candidate(
            "ETH-USDT",
            f"1d·hold{i}·coin·enc",
            0.9 - i / 10,
            search=search_id,
            selected=i == 0,
            gates_passed=i != 0,
            gates_failed="min_trades" if i == 0 else "",
            verdict="not admitted: PBO 0.55 > 0.2; quarters positive 40 % < 60 %" if i == 0 else "lower Sharpe",
        )
        for i in range(3)
    ]
    rows.append(
        candidate(
            "UNIVERSE", "1h·hold4·neutral", 0.3, search=search_id, selected=True, verdict="not admitted: DSR 0.41"
        )
    )
    return pl.DataFrame(rows, schema=CANDIDATE_SCHEMA)


def curves(frame: pl.DataFrame, days: int = 40) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every candidate's daily equity and four folds' IC (fold 2 undefined)."""
    equity, folds = [], []
    for symbol, name, sharpe in frame.select("symbol", "candidate", "sharpe").iter_rows():
        drift = 0.001 * (sharpe if sharpe == sharpe else 0.0)
        equity += [(symbol, name, START + timedelta(days=d), drift * d) for d in range(days)]
        folds += [(symbol, name, f, START + timedelta(days=90 * f), None if f == 2 else 0.01 * f) for f in range(4)]
    return (
        pl.DataFrame(equity, schema=["symbol", "candidate", "day", "equity"], orient="row"),
        pl.DataFrame(folds, schema=["symbol", "candidate", "fold", "test_start", "ic"], orient="row"),
    )


def _rows_of(text: str, symbol: str) -> list[str]:
    """The candidate lines of one coin's block in the terminal table."""
    block = text.split(f"\n{symbol} · ")[1].split("\n\n")[0].splitlines()
    return [line for line in block[3:] if not line.lstrip().startswith(("…", "verdict:"))]


def test_the_terminal_table_shows_each_coin_by_sharpe_with_its_columns_na_and_verdict() -> None:
    frame = search()
    text = terminal_table(frame)
    assert all(len(line) <= WIDTH for line in text.splitlines())
    header = "\n".join(text.split("\nBTC-USDT · ")[1].splitlines()[1:3])
    for words in ("trades", "net", "bps", "OOS", "Sharpe", "IC", "top quintile", "net bps", "DSR", "PBO"):
        assert words in header, words
    for words in ("quarters", "positive", "vs hold", "gates", "passed", "candidate"):
        assert words in header, words

    btc = _rows_of(text, "BTC-USDT")
    expected = (
        frame.filter(pl.col("symbol") == "BTC-USDT")
        .with_columns(pl.col("sharpe").fill_nan(None))
        .sort("sharpe", descending=True, nulls_last=True)["candidate"]
        .to_list()
    )
    assert [line.split()[1] if line.startswith("*") else line.split()[0] for line in btc] == expected[:SHOWN]
    assert f"… {10 - SHOWN} more candidates" in text
    # the selected row is marked, once per coin, and carries the corrections; the others read n/a there
    assert [line for line in btc if line.startswith("*")] == [btc[0]]
    assert "0.97" in btc[0] and "75 %" in btc[0] and "+1.50" in btc[0] and "n/a" not in btc[0]
    assert all(line.count("n/a") == 3 for line in btc[1:] if "hold6" not in line)
    assert btc[5].split()[0] == "4h·hold6·coin" and btc[5].count("n/a") == 4  # its IC undefined too
    assert "4h·hold4·coin" not in text  # NaN Sharpe: last, beyond the rows shown

    verdicts = [line for line in text.splitlines() if line.startswith("  verdict:")]
    assert verdicts[0].startswith("  verdict: admitted 4h·hold0·coin: admitted: DSR 0.97")
    assert verdicts[1].startswith(f"  verdict: {NOTHING_SURVIVED}; the best by Sharpe, 1d·hold0·coin·enc: not admitted")
    assert len(verdicts) == 3  # BTC, ETH, UNIVERSE


def test_a_selected_candidate_beyond_the_best_shown_is_still_shown_and_marked() -> None:
    frame = search().with_columns(
        selected=(pl.col("symbol") != "BTC-USDT") & pl.col("selected") | (pl.col("candidate") == "4h·hold9·coin"),
        admitted=pl.lit(False),
    )
    btc = _rows_of(terminal_table(frame), "BTC-USDT")
    assert len(btc) == SHOWN and btc[-1].startswith("* 4h·hold9·coin")


def test_a_long_candidate_id_is_shortened_in_its_middle_to_keep_the_table_in_its_width() -> None:
    long = "4h·" + "·".join(f"feature_set_{i}" for i in range(6)) + "·coin·enc"
    frame = search().with_columns(
        candidate=pl.when(pl.col("candidate") == "4h·hold1·coin").then(pl.lit(long)).otherwise("candidate")
    )
    text = terminal_table(frame)
    assert all(len(line) <= WIDTH for line in text.splitlines())
    [row] = [line for line in _rows_of(text, "BTC-USDT") if "…" in line]
    shown = row.split()[0]
    assert len(shown) < len(long) and long.startswith(shown.split("…")[0]) and long.endswith(shown.split("…")[1])
    assert row.split()[1:4] == ["300", "4.5", "1.90"]


def test_the_page_is_self_contained_and_charts_each_plotted_candidate() -> None:
    frame = search()
    equity, folds = curves(frame)
    page = html_report(frame, equity, folds, title="Research")
    assert "<script" not in page and "http" not in page and "url(" not in page and "@import" not in page
    assert not re.search(r"\b(src|href)\s*=", page)
    # the selected candidate and the best PLOTTED by Sharpe of each coin: BTC 3, ETH 3, UNIVERSE 1
    plotted = 2 * PLOTTED + 1
    assert page.count("<svg") == 2 * plotted
    assert len(re.findall(r"<title>[^<]*: equity</title>", page)) == plotted
    assert len(re.findall(r"<title>[^<]*: IC per fold</title>", page)) == plotted
    assert "IC undefined in fold 2 · 2021-06-30" in page
    # the conclusion per coin: outcome, selected candidate, trials, the corrections' figures, why
    conclusions = page.split("What the search concluded")[1].split("<h2>")[0]
    eth = re.search(r"<td[^>]*>ETH-USDT</td>(.*?)</tr>", conclusions)
    assert eth is not None
    cells = [unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", eth.group(1))]
    assert cells == [
        NOTHING_SURVIVED,
        "1d·hold0·coin·enc",
        "12",
        *("0.97", "0.01", "0.12", "75 %", "40 %", "+0.40", "no"),
        "not admitted: PBO 0.55 > 0.2; quarters positive 40 % < 60 %",
    ]
    assert '<td class="text">admitted</td><td class="text">4h·hold0·coin</td>' in conclusions
    assert "n/a" in page


def test_the_same_candidates_in_any_order_give_the_same_bytes() -> None:
    frame = search()
    equity, folds = curves(frame)
    page = html_report(frame, equity, folds, title="Research")
    assert html_report(frame, equity, folds, title="Research") == page
    shuffled = [f.sample(fraction=1.0, shuffle=True, seed=7) for f in (frame, equity, folds)]
    assert html_report(*shuffled, title="Research") == page
    assert terminal_table(shuffled[0]) == terminal_table(frame)
    assert research_files(*shuffled) == research_files(frame, equity, folds)


def test_the_page_escapes_what_it_shows() -> None:
    hostile = '<script>alert("x")</script>-USDT'
    frame = search().with_columns(
        symbol=pl.when(pl.col("symbol") == "ETH-USDT").then(pl.lit(hostile)).otherwise("symbol"),
        verdict=pl.col("verdict") + ' <img src="http://elsewhere">',
    )
    equity, folds = curves(frame)
    page = html_report(frame, equity, folds, title="<b>Research</b> & co")
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert not re.search(r"\b(src|href)\s*=", page.replace("src=&quot;", ""))
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;-USDT" in page
    assert "&lt;b&gt;Research&lt;/b&gt; &amp; co" in page
    assert page.count("<svg") == 2 * (2 * PLOTTED + 1)


def test_the_duckdb_view_reads_the_files_of_each_search_with_the_contracts_columns(tmp_path: Path) -> None:
    archive = LocalArtifactStore(tmp_path / "archive")
    for search_id in ("s1", "s2"):
        frame = search(search_id)
        files = research_files(frame, *curves(frame))
        assert set(files) == {
            export_search_key("research_candidates", search_id),
            research_key(search_id, "equity.parquet"),
            research_key(search_id, "folds.parquet"),
            research_key(search_id, "index.html"),
        }
        for key, data in files.items():
            archive.write_bytes(key, data)
    database = tmp_path / "huracan.duckdb"
    views = build_database(database, tmp_path / "archive")
    assert views["research_candidates"].endswith("exports/research_candidates/**/*.parquet")

    table = TABLES["research_candidates"]
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = 'research_candidates' "
            "ORDER BY column_index"
        ).fetchall()
        declared = {"symbol": ("VARCHAR", LINEAGE["symbol"]), "timeframe": ("VARCHAR", LINEAGE["timeframe"])}
        declared |= {name: (column.type, column.comment) for name, column in table.columns.items()}
        assert {name: (kind, comment) for name, kind, comment in columns} == declared
        view = con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'research_candidates'").fetchone()
        assert view == (table.comment,)

        per_search = con.execute("SELECT search_id, count(*) FROM research_candidates GROUP BY 1 ORDER BY 1").fetchall()
        assert per_search == [("s1", 14), ("s2", 14)]
        # NaN is stored as NULL (undefined), and the corrections sit on the selected rows alone
        assert con.execute("SELECT count(*) FROM research_candidates WHERE sharpe IS NULL").fetchone() == (2,)
        chosen = con.execute(
            "SELECT symbol, candidate, admitted, dsr FROM research_candidates WHERE selected AND search_id = 's1' "
            "ORDER BY symbol"
        ).fetchall()
        assert chosen == [
            ("BTC-USDT", "4h·hold0·coin", True, 0.97),
            ("ETH-USDT", "1d·hold0·coin·enc", False, 0.97),
            ("UNIVERSE", "1h·hold4·neutral", False, 0.97),
        ]
        assert con.execute(
            f"SELECT count(*) FROM research_candidates WHERE NOT selected AND ({' OR '.join(f'{c} IS NOT NULL' for c in SEARCH_FIGURES)})"
        ).fetchone() == (0,)
    page = (tmp_path / "archive" / research_key("s1", "index.html")).read_text()
    equity, folds = curves(search("s1"))
    assert page == html_report(search("s1"), equity, folds, title="Research search s1")


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda f: f.with_columns(selected=pl.col("symbol") == "ETH-USDT"), "more than one selected candidate"),
        (lambda f: f.with_columns(admitted=pl.col("candidate") == "4h·hold3·coin"), "admitted but not selected"),
        (lambda f: f.with_columns(search_id=pl.col("symbol")), "one search per report"),
        (lambda f: pl.concat([f, f.head(1)]), "candidates listed twice: [('BTC-USDT', '4h·hold0·coin')]"),
        (lambda f: f.drop("pbo"), "missing columns ['pbo']"),
        (lambda f: f.with_columns(note=pl.lit("x")), "undeclared columns ['note']"),
        (lambda f: f.with_columns(trades=pl.lit("many")), "does not have its declared type"),
        (lambda f: f.head(0), "no candidates"),
    ],
)
def test_candidates_that_break_the_contract_are_refused_saying_why(change, says) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        terminal_table(change(search()))


def test_a_search_id_that_is_not_one_path_segment_names_no_key() -> None:
    frame = search("../champions")
    with pytest.raises(ValueError, match=re.escape("search id '../champions' cannot name a storage key")):
        research_files(frame, *curves(frame))
