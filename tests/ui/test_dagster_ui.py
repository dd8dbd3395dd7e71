"""The web UI as a person sees it: `huracan ui` (dagster dev) on 127.0.0.1, headless Chromium, screenshots.

Set HURACAN_UI_SCREENSHOTS=DIR to keep the screenshots for a look.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import polars as pl
import pytest

from huracan_core.health.anomalies import CHECKS
from huracan_dagster.cli.main import main
from huracan_dagster.dagster_internals import AssetCheckExecutionRecordStatus
from huracan_dagster.defs.assets.learning import GATES
from huracan_dagster.defs.assets.system_health import SENSOR_NAME, SYSTEM_HEALTH
from huracan_dagster.defs.definitions import build_definitions, daily_job_name
from huracan_dagster.defs.partitions import asset_key
from huracan_dagster.instance.prepare import prepare_dagster_home
from huracan_dagster.settings import Settings
from tests.conftest import use_home
from tests.ui.conftest import chromium, needs_browser, screenshot
from tests.ui.dagster_service import dagster_ui, launch_backfill, wait_backfill
from tests.ui.model_home import train_one_model

pytestmark = needs_browser

TF = "15m"
CANDLES = asset_key(TF, "candles")
ASSET_PATH = "/assets/" + "/".join(CANDLES.path)  # /assets/15m/candles
SYMBOLS = ("BTC-USDT", "ETH-USDT")
#: a flash-crash print planted in real candles: a bar whose range is far beyond 10× any trailing ATR
SPIKE_SYMBOL, SPIKE_BAR = "ETH-USDT", datetime(2024, 12, 5, 12, 0, tzinfo=UTC)
SPIKE_PARTITION = f"{SPIKE_BAR.date().isoformat()}|{SPIKE_SYMBOL}"
#: the day of the home's one coin model: its chain ends before the candles the tests below look at
MODEL_DAY = date(2024, 11, 20)
COIN_MODEL = asset_key(TF, "coin_model")


class UI(NamedTuple):
    url: str
    replay: Path
    #: the partition of the home's coin model
    model: str


def replay_with_spike(real_candles: Path, folder: Path) -> Path:
    """The real candles of ``SYMBOLS`` as a replay source, with one bar's low at a third of its open."""
    folder.mkdir()
    for symbol in SYMBOLS:
        frame = pl.read_parquet(real_candles / f"{symbol}_{TF}.parquet")
        if symbol == SPIKE_SYMBOL:
            at = pl.col("timestamp") == SPIKE_BAR
            assert frame.filter(at).height == 1
            frame = frame.with_columns(
                pl.when(at).then(pl.min_horizontal("open", "close") / 3).otherwise(pl.col("low")).alias("low")
            )
        frame.write_parquet(folder / f"{symbol}_{TF}.parquet")
    return folder


@pytest.fixture(scope="module")
def ui(tmp_path_factory, real_candles):
    """One `huracan ui` for the module (a start costs ~10 s): one coin model (about 10 s to train with its chain),
    then 3 days of candles, one with a planted print (last: their verdicts are the newest). The tests that only look
    come before the one that backfills."""
    root = tmp_path_factory.mktemp("ui")
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_home(root / "home", monkeypatch)
        monkeypatch.setenv("HURACAN_SOURCE", f"replay:{replay_with_spike(real_candles, root / 'replay')}")
        settings = Settings.from_env()
        prepare_dagster_home(settings)
        model = train_one_model(settings, MODEL_DAY, SPIKE_SYMBOL, reference=SYMBOLS[0])
        assert (
            main(
                [
                    "run",
                    "--start",
                    "2024-12-04",
                    "--end",
                    "2024-12-06",
                    "--symbols",
                    "BTC/USDT,ETH/USDT",
                    "--select",
                    "candles",
                ]
            )
            == 0
        )
        with dagster_ui(root / "ui.log") as url:
            yield UI(url, root / "replay", model)


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def text_when(driver, *needles: str, timeout: float = 60) -> str:
    deadline, text = time.time() + timeout, ""
    while time.time() < deadline:
        text = driver.find_element("tag name", "body").text
        if all(n in text for n in needles):
            return text
        time.sleep(0.5)
    raise AssertionError(f"{driver.current_url} never showed {needles}; it showed:\n{text[:3000]}")


def page_text_when(driver, url: str, *needles: str, timeout: float = 60) -> str:
    driver.get(url)
    return text_when(driver, *needles, timeout=timeout)


def click_tab(driver, label: str) -> None:
    """The last button so labelled: the check's own tabs come after the asset's."""
    from selenium.webdriver.common.by import By

    buttons = driver.find_elements(By.XPATH, f"//button[normalize-space(.)='{label}']")
    assert buttons, f"no {label!r} tab on {driver.current_url}"
    buttons[-1].click()


def table_rows_when(driver, keys: list[str], timeout: float = 30) -> dict[str, str]:
    """``{key: text of the table row that names it}``, once every key has its row."""
    from selenium.webdriver.common.by import By

    deadline, rows = time.time() + timeout, {}
    while time.time() < deadline:
        rows = {
            key: row.text for row in driver.find_elements(By.TAG_NAME, "tr") for key in keys if key in squeeze(row.text)
        }
        if len(rows) == len(keys):
            return rows
        time.sleep(0.5)
    raise AssertionError(f"{driver.current_url}: rows for {sorted(set(keys) - set(rows))} never showed")


def overview_check_results(driver) -> dict[str, str]:
    """``{check: "Failed" | "Succeeded" | "Not evaluated" …}`` as the asset's Overview tab says it under "Latest check
    results": one tag per status, whose popover (on hover) lists its checks."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    text_when(driver, "Latest check results")
    results = {}
    for tag in driver.find_elements(By.CSS_SELECTOR, ".chunk-popover-target"):
        ActionChains(driver).move_to_element(tag).perform()
        deadline, lines = time.time() + 10, []
        while not lines and time.time() < deadline:
            shown = [p.text for p in driver.find_elements(By.CSS_SELECTOR, "[class*=popover-content]") if p.text]
            lines = shown[0].splitlines() if shown else []
            time.sleep(0.3)
        assert lines and lines[0].endswith(" checks"), f"no popover over the tag {tag.text!r}"
        status = lines[0].removesuffix(" checks")
        results |= {line: status for line in lines[1:] if "_" in line}  # check names; the rest are timestamps
        ActionChains(driver).move_by_offset(0, 400).perform()  # away, so the next popover replaces this one
        time.sleep(0.5)
    return results


def failed_verdicts(check: str, asset: dg.AssetKey = CANDLES) -> dict[str, str]:
    """``{partition: found}`` of the check's latest failing verdicts, as the instance holds them."""
    key = dg.AssetCheckKey(asset, check)
    with dg.DagsterInstance.get() as instance:
        infos = instance.event_log_storage.get_asset_check_partition_info([key])
        history = instance.event_log_storage.get_asset_check_execution_history(key, limit=100)
    failing = {i.partition_key for i in infos if i.latest_execution_status == AssetCheckExecutionRecordStatus.FAILED}
    found = {}
    for record in history:
        evaluation = record.event.dagster_event.event_specific_data if record.event else None
        if isinstance(evaluation, dg.AssetCheckEvaluation) and evaluation.partition in failing:
            found.setdefault(evaluation.partition, evaluation.metadata["found"].value)
    return found


def first_and_last_day(replay: Path) -> tuple[str, str]:
    from huracan_core.sources.replay import ReplaySource

    first, last = ReplaySource(replay).recorded_days([TF])
    return first.isoformat(), last.isoformat()


def squeeze(text: str) -> str:
    """Table cells wrap long keys (``2024-12-05|ETH-`` / ``USDT``): compare without whitespace."""
    return "".join(text.split())


def test_ui_shows_candles_partitions_and_each_partitions_check_verdict(ui, browser, tmp_path):
    # 3 days × 2 symbols materialized (more once the backfill below ran) out of the partitions: the days the
    # replayed files hold, from their first
    first, last = first_and_last_day(ui.replay)
    with dg.DagsterInstance.get() as instance:
        materialized = len(instance.get_materialized_partitions(CANDLES))
    assert materialized >= 6
    text = page_text_when(
        browser,
        f"{ui.url}{ASSET_PATH}?view=partitions",
        TF,
        "candles",
        first,
        f"Materialized ({materialized})",
        "Failed (0)",
    )
    assert last in text
    assert "Missing" in text and all(s in text for s in SYMBOLS)
    screenshot(browser, tmp_path, "candles_partitions")

    page_text_when(
        browser,
        f"{ui.url}{ASSET_PATH}?view=checks",
        "candles_valid",
        "no_gaps",
        "no_zero_volume_candles",
        "no_extreme_prints",
    )
    screenshot(browser, tmp_path, "candles_checks")

    # the planted print fails no_extreme_prints on its partition (real prints may fail others: each is shown)
    failing = failed_verdicts("no_extreme_prints")
    assert SPIKE_PARTITION in failing
    # where a person looks: the check's execution history, one row per partition judged, the failure on its own row
    browser.get(f"{ui.url}{ASSET_PATH}?view=checks&checkDetail=no_extreme_prints")
    text_when(browser, "Execution history")
    click_tab(browser, "Execution history")
    text_when(browser, "Failed")
    judged = [f"2024-12-0{d}|{s}" for d in (4, 5, 6) for s in SYMBOLS]
    rows = table_rows_when(browser, judged)
    screenshot(browser, tmp_path, "no_extreme_prints_history")
    for partition, row in rows.items():
        verdict = "Failed" if partition in failing else "Passed"
        assert row.split()[0] == verdict, (partition, row)
        if partition in failing:
            assert squeeze(failing[partition]) in squeeze(row), (partition, row)  # what was found, at which bars
    assert SPIKE_BAR.strftime("%H:%M") in rows[SPIKE_PARTITION]
    # the Checks tab and the check's partitions agree with the instance: failed, on every failing partition
    click_tab(browser, "Partitions")
    text = text_when(browser, f"Failed ({len(failing)})", "Passed (")
    assert "no_extreme_prints\nFailed" in text
    screenshot(browser, tmp_path, "no_extreme_prints_partitions")
    # its figures are not plotted against the time of evaluation (every partition of a run shares one instant)
    click_tab(browser, "Overview")
    text_when(browser, "Latest execution", "Plots are automatically generated by metadata")
    # the asset's Overview: Dagster 1.13 shows each check's newest execution there, one partition of the newest run
    # in the order Dagster planned them, so it may read "passed" here (docs/architecture.md#verdicts): it is shown,
    # not asserted
    browser.get(f"{ui.url}{ASSET_PATH}")
    overview = overview_check_results(browser)
    assert set(overview) == {"candles_valid", "no_gaps", "no_zero_volume_candles", "no_extreme_prints"}
    screenshot(browser, tmp_path, "candles_overview")

    page_text_when(browser, f"{ui.url}/runs", daily_job_name(TF), "Success")
    screenshot(browser, tmp_path, "runs")


def test_a_model_that_failed_its_gates_shows_as_a_failed_check_and_its_metadata_leads_with_why(ui, browser, tmp_path):
    failing = failed_verdicts(GATES, COIN_MODEL)
    # a fold of 4 test days cannot hold the 100 trades the standard gates ask for
    assert ui.model in failing, "the home's model was expected to fail its gates"
    verdict = failing[ui.model]
    assert verdict.startswith("Failed ") and "nan" not in verdict
    path = f"{ui.url}/assets/" + "/".join(COIN_MODEL.path)
    browser.get(f"{path}?view=checks&checkDetail={GATES}")
    text = text_when(browser, f"{GATES}\nFailed", "Latest execution", verdict, ui.model)
    assert "non-blocking" in text
    screenshot(browser, tmp_path, "coin_model_gates_check")

    # the model's materialization: the verdict first, whole on screen (the table fits its panel, so nothing is
    # clipped on the right), the gates with units and n/a, the features by their share of the gain
    text = page_text_when(
        browser, path, "Latest check results", "verdict", verdict, "top_features", "share of total gain"
    )
    assert text.index("verdict") < text.index("retrained") < text.index("gate_summary")
    # one partition judged: the Overview's latest check results agree with the Checks tab
    assert overview_check_results(browser)[GATES] == "Failed"
    assert "short by" in text and "nan" not in text.replace("n/a", "")
    from selenium.webdriver.common.by import By

    table = browser.find_element(By.XPATH, "//table[.//td[normalize-space(.)='verdict']]")
    clipped = browser.execute_script(
        "const t = arguments[0]; return t.getBoundingClientRect().width - t.parentElement.getBoundingClientRect().width",
        table,
    )
    assert clipped <= 1, f"the metadata table is {clipped:.0f} px wider than its panel: the verdict is clipped"
    screenshot(browser, tmp_path, "coin_model_overview")


def test_ui_lists_the_engine_schedule_the_mechanic_and_the_champion_asset(ui, browser, tmp_path):
    # the Automation page: what runs by itself, each with its own switch (off over a recorded sample)
    names = (
        "engine_15m",
        "shared_encoder_15m_daily",
        "mechanic_15m",
        "automation_15m",
        "broadcast_run_failed",
        "broadcast_failed_checks",
    )
    # each with its kind and the schedules' ticks (the Engine at 02:00 UTC, its encoder an hour before)
    text = page_text_when(
        browser, f"{ui.url}/automation", *names, "At 02:00 AM UTC", "At 01:00 AM UTC", "Automation condition sensor"
    )
    assert text.index("engine_15m") < text.index("At 02:00 AM UTC")
    screenshot(browser, tmp_path, "automation")
    # the champion asset: its decisions per date × symbol partition, and what the decision weighs
    champion = "/assets/" + "/".join(asset_key(TF, "champion").path)
    text = page_text_when(browser, f"{ui.url}{champion}?view=partitions", "champion", first_and_last_day(ui.replay)[0])
    assert "Missing" in text
    screenshot(browser, tmp_path, "champion_partitions")
    page_text_when(
        browser,
        f"{ui.url}{champion}",
        "promotion rule",
        "champions/promotions.jsonl",
        "champion/<SYMBOL>/15m/latest.json",
    )
    screenshot(browser, tmp_path, "champion_overview")


def test_a_backfill_launched_through_the_ui_runs_in_waves_and_records_every_partition(ui, browser, tmp_path):
    """The backfill dialog's GraphQL call, run by the daemon under the assets' backfill policies: a run per range
    (here per symbol), the candles first, every partition materialized and recorded once."""
    candles = [("2024-11-25", "2024-12-09"), ("BTC-USDT", "ETH-USDT")]
    # what the run below reads: the champion of 12-09 evaluates the signals from 12-02 on (plan_window), and each
    # day's signals read the features and regimes of their 3 warm-up days
    window = ("2024-11-29", "2024-12-09")
    chain = [asset_key(TF, n) for n in ("features", "regimes")]
    backfill = launch_backfill(
        ui.url,
        [
            (CANDLES.path, f"{candles[0][0]}|BTC-USDT", f"{candles[0][1]}|ETH-USDT"),
            *((key.path, f"{window[0]}|BTC-USDT", f"{window[1]}|ETH-USDT") for key in chain),
        ],
        title="ui test backfill",
    )
    state = wait_backfill(ui.url, backfill, timeout=240)
    assert state["status"] == "COMPLETED_SUCCESS", state
    with dg.DagsterInstance.get() as instance:
        run_records = instance.get_run_records(dg.RunsFilter(tags={"dagster/backfill": backfill}))
        runs = [r.dagster_run for r in run_records]
        assert all(r.is_success for r in runs) and len(runs) == 4  # candles, then features + regimes, per symbol
        assert all(
            r.tags["dagster/asset_partition_range_start"].endswith(r.tags["dagster/asset_partition_range_end"][10:])
            for r in runs
        )  # each run one symbol's range of days
        for key, (first, last) in ((CANDLES, ("2024-11-25", "2024-12-09")), *((k, window) for k in chain)):
            expected = {f"{d}|{s}" for d in _days(first, last) for s in SYMBOLS}
            records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1000).records
            in_backfill = [r.partition_key for r in records if r.run_id in {run.run_id for run in runs}]
            assert sorted(in_backfill) == sorted(expected), key  # each once, none missing
        candle_runs = [r for r in run_records if CANDLES in (r.dagster_run.asset_selection or set())]
        chain_start = min(r.start_time for r in run_records if r not in candle_runs)
        assert len(candle_runs) == 2 and max(r.end_time for r in candle_runs) <= chain_start
        run = candle_runs[0].dagster_run
        [captured] = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.LOGS_CAPTURED)
    # the run's raw stderr, as its page's "stderr" view shows it (instance/compute_logs.py writes the file)
    page_text_when(
        browser,
        f"{ui.url}/runs/{run.run_id}?logType=stderr&logFileKey={captured.dagster_event.logs_captured_data.file_key}",
        "STEP_SUCCESS",
        f'Finished execution of step "{"__".join(CANDLES.path)}"',
    )
    screenshot(browser, tmp_path, "run_stderr")
    # the backfill's page: what it targeted, each asset's partitions all succeeded
    text = page_text_when(
        browser, f"{ui.url}/runs/b/{backfill}", "Succeeded", "15m / candles", "15m / features", "15m / regimes"
    )
    for asset, targeted in (
        ("candles", 30),
        ("features", 22),
        ("regimes", 22),
    ):  # targeted, in progress, succeeded, failed
        assert f"15m / {asset}\n100% completed\n{targeted}\n0\n{targeted}\n0" in text, asset
    screenshot(browser, tmp_path, "backfill")
    # the asset graph: the chain's groups, from the market data to the analysts' marts
    page_text_when(
        browser,
        f"{ui.url}/asset-groups",
        "Global asset lineage",
        *(f"{g}_{TF}" for g in ("market_data", "features", "learning", "champions", "trading", "exports", "dbt")),
        "analytics",
    )
    screenshot(browser, tmp_path, "asset_graph")

    # a day traded after the backfill: its materialization shows the figures with units, n/a where undefined, why
    # no trade was made (if none was), and its equity curve in place
    assert (
        main(
            [
                "run",
                "--date",
                "2024-12-09",
                "--symbols",
                "BTC/USDT,ETH/USDT",
                "--select",
                "signals or champion or shadow_trades",
            ]
        )
        == 0
    )
    trades = "/assets/" + "/".join(asset_key(TF, "shadow_trades").path)
    text = page_text_when(
        browser,
        f"{ui.url}{trades}?view=events",
        "2024-12-09|ETH-USDT",
        "equity_curve",
        "hit_rate_pct",
        "mean_net_bps",
        "fee_tier_bps_per_side",
    )
    with dg.DagsterInstance.get() as instance:
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key(TF, "shadow_trades"), asset_partitions=["2024-12-09|ETH-USDT"]),
            limit=1,
        ).records
    meta = record.asset_materialization.metadata
    if meta["trades"].value == 0:  # undefined, not 0.0; and why
        assert (
            meta["hit_rate_pct"].value == "n/a"
            and "round-trip cost" in meta["why_no_trades"].value
            and "why_no_trades" in text
        )
    screenshot(browser, tmp_path, "shadow_trades_events")
    # the picture drawn in place on a day that traded (no click, no "[Show Markdown]"); a day without says so
    from selenium.webdriver.common.by import By

    row = browser.find_element(By.XPATH, "//tr[td[normalize-space(.)='equity_curve']]")
    browser.execute_script("arguments[0].scrollIntoView();", row)
    if meta["trades"].value:
        images = row.find_elements(By.XPATH, ".//img[starts-with(@src, 'data:image/svg+xml')]")
        assert images and images[0].size["width"] >= 200, row.get_attribute("outerHTML")[:3000]
    else:
        assert "no trades" in row.text and not row.find_elements(By.TAG_NAME, "img")
        assert meta["net_pnl_usdt"].value == meta["max_drawdown_pct"].value == "n/a"
    assert "[Show Markdown]" not in row.text
    screenshot(browser, tmp_path, "shadow_trades_equity_curve")


def _days(first: str, last: str) -> list[str]:
    from datetime import date, timedelta

    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(n)).isoformat() for n in range((end - start).days + 1)]


def test_system_health_shows_its_history_and_the_trading_checks_are_listed_with_their_verdicts(ui, browser, tmp_path):
    """Two ticks of ``system_health_every_5m`` recorded as the daemon records them (its own first tick may add a
    third), then the asset's history in the UI; and the anomaly checks of a champion's day on ``shadow_trades`` and
    of Hamilton's on ``paper_trades``."""
    day = MODEL_DAY.isoformat()
    argv = ["run", "--date", day, "--symbols", SPIKE_SYMBOL.replace("-", "/")]
    assert main([*argv, "--select", "signals or champion or shadow_trades or paper_trades"]) == 0
    defs = build_definitions(Settings.from_env())
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    with dg.DagsterInstance.get() as instance:
        for _ in range(2):
            tick = sensor.evaluate_tick(
                dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def())
            )
            for event in tick.asset_events:
                instance.report_runless_asset_event(event)
        records = instance.fetch_materializations(SYSTEM_HEALTH, limit=10).records
    assert len(records) >= 2

    # the Events tab: one entry per recorded tick, newest first and shown, with its figures
    text = page_text_when(
        browser, f"{ui.url}/assets/system_health?view=events", "External Asset", "Materialized", "components ok"
    )
    screenshot(browser, tmp_path, "system_health_events")
    stamps = re.findall(r"^[A-Z][a-z]{2} \d{1,2}, \d{1,2}:\d{2} [AP]M$", text, flags=re.MULTILINE)
    assert len(stamps) - 1 >= len(records) >= 2, text[:3000]  # the list, then the shown entry's heading
    assert all(f"components {s}" in text for s in ("ok", "degraded", "down", "off", "unknown"))

    # the day's verdicts: the home's one model failed its gates, so the day traded by the rules, and Hamilton never
    # ran here; each check says why it did not judge, on the day's partition
    partition = f"{day}|{SPIKE_SYMBOL}"
    for asset, checks, why in (
        ("shadow_trades", CHECKS, "not judged: rules-only day, no champion baseline"),
        ("paper_trades", (*CHECKS, "paper_matches_shadow"), "Hamilton did not run that day"),
    ):
        path = "/assets/" + "/".join(asset_key(TF, asset).path)
        text = page_text_when(
            browser,
            f"{ui.url}{path}?view=checks&checkDetail={CHECKS[0]}",
            f"Checks ({len(checks)})",
            *checks,
            "Latest execution",
            why,
            partition,
        )
        assert text.count("Succeeded") == len(checks) and "Passed" in text, text[:3000]
        screenshot(browser, tmp_path, f"{asset}_checks")
