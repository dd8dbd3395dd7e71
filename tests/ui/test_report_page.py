"""The daily and window reports as a person opens them: ``index.html`` from disk (``file://``, offline) in
headless Chromium, with the figures on the page and the charts drawn.

Set HURACAN_UI_SCREENSHOTS=DIR to keep the screenshots for a look.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from huracan_core.reports import daily_report, window_report, write_report
from tests.core.test_reports import END, QUIET_DAY, START, connect, ledger, write_exports
from tests.ui.conftest import chromium, needs_browser, screenshot

pytestmark = needs_browser


@pytest.fixture(scope="module")
def browser():
    driver = chromium("1400,2400")  # tall: a report is one long page
    yield driver
    driver.quit()


def open_page(driver, page: Path) -> str:
    from selenium.webdriver.common.by import By

    html = page.read_text()
    assert not re.search(r"https?://", html), f"{page} refers to the network"
    driver.get(page.as_uri())
    return driver.find_element(By.TAG_NAME, "body").text


def drawn_charts(driver) -> list:
    """The inline SVG charts, each with a real size on the page and something drawn in it."""
    from selenium.webdriver.common.by import By

    charts = driver.find_elements(By.CSS_SELECTOR, "figure svg")
    for chart in charts:
        assert chart.size["width"] > 300 and chart.size["height"] > 50
        assert chart.find_elements(By.CSS_SELECTOR, "polyline, rect, circle")
    return charts


def test_daily_report_page(browser, tmp_path) -> None:
    con = connect(write_exports(tmp_path / "archive", ledger()))
    report = daily_report(
        con,
        START,
        [
            {
                "asset": "15m/candles",
                "check": "no_flash_crash",
                "partition": f"{START}|ETH-USDT",
                "description": "1 bar beyond 10x ATR",
            }
        ],
    )
    page = write_report(tmp_path / "reports" / str(START), report)
    text = open_page(browser, page)
    doc = report.json
    assert f"Huracan daily report {START}" in text
    assert re.search(r"Total trades\s+3", text)
    assert re.search(rf"Hit rate\s+{doc['hit_rate_pct']:.2f} %", text)
    assert re.search(rf"Avg net P&L per trade\s+{doc['avg_pnl_pct']:.2f} %", text)
    assert re.search(r"Models trained\s+2", text) and re.search(r"Promotions\s+1", text)
    assert "first gate-passing model that makes money becomes champion" in text
    assert "BTC-USDT" in text and "ETH-USDT" in text and "no_flash_crash" in text
    assert len(drawn_charts(browser)) == 2  # equity per coin, regime mix
    screenshot(browser, tmp_path, "daily_report")

    quiet = write_report(tmp_path / "reports" / str(QUIET_DAY), daily_report(con, QUIET_DAY))
    text = open_page(browser, quiet)
    assert f"No trades on {QUIET_DAY}" in text and "kill switch: 3 losing days" in text
    assert re.search(r"Hit rate\s+n/a", text)


def test_window_report_page(browser, tmp_path) -> None:
    con = connect(write_exports(tmp_path / "archive", ledger()))
    report = window_report(con, START, END)
    page = write_report(tmp_path / "reports" / report.folder_name, report)
    text = open_page(browser, page)
    s = report.json["summary"]
    assert f"Huracan window report {START} .. {END}" in text
    assert re.search(rf"Sharpe \(daily, annualised\)\s+{s['sharpe']:,.2f}", text)
    assert re.search(rf"Profit factor\s+{s['profit_factor']:,.2f}", text)
    assert "from 2024-12-02 to 2024-12-03" in text  # the drawdown's dates
    for heading in (
        "Per coin",
        "Exit reasons",
        "Breakdown by day, week and month",
        "Costs paid by kind",
        "Regime mix",
        "Which model or policy decided",
        "Gates passed and failed by each coin's models",
        "Champion decisions",
    ):
        assert heading in text
    assert "take_profit" in text and "no model has passed its gates yet" in text
    assert len(drawn_charts(browser)) == 5  # equity, per coin, daily P&L, costs by kind, regime mix
    screenshot(browser, tmp_path, "window_report")
