"""The Overview timeline, the UI's landing page, shows the runs ``huracan run`` made: asked with the query the page
itself sends (``CompletedRunTimelineQuery``), and seen on the page in headless Chromium.

The page draws a run only when it carries its job's origin in a code location (``repositoryOrigin``), one row per
job of that location; a run without one is left out however recent it is.
"""

from __future__ import annotations

import time

import pytest

from huracan_dagster.cli.main import main
from huracan_dagster.defs.definitions import daily_job_name
from tests.conftest import use_home
from tests.ui.conftest import needs_browser, screenshot
from tests.ui.dagster_service import dagster_ui, graphql

DAILY_JOB = daily_job_name("15m")
SYMBOLS = ("BTC-USDT", "ETH-USDT")

#: the page's own query (dagster-webserver's RunTimelineFragment), over the runs completed in its time range
COMPLETED_RUNS = """
query CompletedRunTimelineQuery($completedFilter: RunsFilter!, $limit: Int!) {
  completed: runsOrError(filter: $completedFilter, limit: $limit) {
    __typename
    ... on Runs {
      results {
        id
        pipelineName
        status
        startTime
        endTime
        tags { key value }
        repositoryOrigin { repositoryName repositoryLocationName }
      }
    }
  }
}"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """``huracan run`` over two days of two coins' candles on the bundled sample, then ``huracan ui`` over its home."""
    root = tmp_path_factory.mktemp("timeline")
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_home(root / "home", monkeypatch)
        monkeypatch.setenv("HURACAN_SYMBOLS", "BTC/USDT,ETH/USDT")  # the declared universe: no other coin's candles
        started = time.time()
        argv = ["run", "--start", "2024-12-30", "--end", "2024-12-31", "--symbols", "BTC/USDT,ETH/USDT"]
        assert main([*argv, "--select", "candles"]) == 0
        with dagster_ui(root / "ui.log") as url:
            yield url, started


def test_the_timeline_query_returns_every_run_of_huracan_run_under_its_job_in_the_code_location(ui):
    url, started = ui
    window = {"statuses": ["SUCCESS", "FAILURE", "CANCELED"], "updatedAfter": started - 1, "updatedBefore": time.time()}
    answer = graphql(url, COMPLETED_RUNS, {"completedFilter": window, "limit": 100})["completed"]
    assert answer["__typename"] == "Runs"
    runs = answer["results"]
    assert runs, "no run completed in the window the page asks about"
    for run in runs:  # the page draws a run under its job's row only with an origin in a code location
        assert run["repositoryOrigin"] == {"repositoryName": "__repository__", "repositoryLocationName": "huracan"}
        assert run["pipelineName"] == DAILY_JOB and run["status"] == "SUCCESS"
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert tags["huracan/window"].endswith("..2024-12-31")
        assert set(tags["huracan/symbols"].split(",")) <= set(SYMBOLS)
        assert tags["dagster/code_location"] == "huracan"
    assert {
        s for run in runs for t in run["tags"] if t["key"] == "huracan/symbols" for s in t["value"].split(",")
    } == set(SYMBOLS)


@needs_browser
def test_the_overview_page_shows_the_daily_jobs_row_with_its_runs(ui, browser, tmp_path):
    from selenium.webdriver.common.by import By

    url, _ = ui
    browser.get(f"{url}/overview/activity/timeline")
    deadline, text = time.time() + 60, ""
    while time.time() < deadline:
        text = browser.find_element(By.TAG_NAME, "body").text
        if DAILY_JOB in text:
            break
        time.sleep(0.5)
    screenshot(browser, tmp_path, "overview_timeline")
    assert DAILY_JOB in text, f"the Overview timeline shows no {DAILY_JOB} row:\n{text[:2000]}"
    assert "No runs or scheduled ticks in this time period" not in text
