"""`huracan mlflow` as a person meets it: the link it prints opens on the training runs (MLflow 3.17's UI opens in
its GenAI mode, on an empty traces dashboard, unless told otherwise), a version that failed its gates says so, a
run's pictures (SVG files) open as images, and one Ctrl-C or SIGTERM stops the server and uvicorn (before, they kept running and the port kept answering).

Set HURACAN_UI_SCREENSHOTS=DIR to keep the screenshots for a look.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest

from huracan_core.models.tracking import TrackedRun, log_training_run
from huracan_core.symbols import to_key
from huracan_dagster.defs.resources import MLflowResource
from tests.conftest import REPO, use_home
from tests.core.trained_model import CUTOFF, TAGS, model_files, trained_model
from tests.ui.conftest import needs_browser, screenshot
from tests.ui.dagster_service import free_port
from tests.ui.processes import alive, assert_stopped, descendants, wait_until_answering

#: a coin whose model traded too little for its gates, and one whose model never traded
COINS = {"BTC/USDT": 40, "ETH/USDT": 0}


class Service(NamedTuple):
    process: subprocess.Popen
    #: the link `huracan mlflow` printed, which a person opens
    link: str
    health: str


@contextmanager
def huracan_mlflow(log: Path, timeout: float = 90) -> Iterator[Service]:
    """`huracan mlflow` on a free loopback port over the environment's HURACAN_HOME, once its server answers. Only
    `huracan` itself gets a signal, as from `kill` or a service manager; whatever is left is killed at the end."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "huracan_dagster.cli", "mlflow", "--port", str(port)],
            cwd=REPO,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        health = f"http://127.0.0.1:{port}/health"
        try:
            wait_until_answering(process, health, log, timeout)
            printed = re.search(r"MLflow UI on (http://\S+)", log.read_text())
            assert printed, log.read_text()
            yield Service(process, printed.group(1), health)
        finally:
            left = descendants(process.pid)
            if process.poll() is None:
                process.kill()
            for pid in alive(left):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def tracked(tmp_path_factory) -> Iterator[dict[str, TrackedRun]]:
    """A home whose MLflow store holds one training run (and registered version) per coin, both failing their
    gates, logged as `coin_model` logs them."""
    home = tmp_path_factory.mktemp("mlflow") / "home"
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_home(home, monkeypatch)
        config = MLflowResource.for_home(home).config()
        runs = {}
        for symbol, trades in COINS.items():
            model = trained_model(symbol, model_trades=trades)
            assert not model.passed
            runs[symbol] = log_training_run(config, model, params={"rounds": 5}, files=model_files(model), tags=TAGS)
        yield runs


@pytest.fixture(scope="module")
def mlflow_ui(tracked, tmp_path_factory) -> Iterator[Service]:
    with huracan_mlflow(tmp_path_factory.mktemp("mlflow_ui") / "mlflow.log") as service:
        yield service


def _page_text(browser, url: str, expected: list[str], timeout: float = 30) -> str:
    """The page's text once every ``expected`` string shows (MLflow's UI loads its tables after the page)."""
    browser.get(url)
    deadline = time.time() + timeout
    while True:
        text = browser.find_element("tag name", "body").text
        if all(e in text for e in expected) or time.time() > deadline:
            return text
        time.sleep(0.5)


@needs_browser
def test_the_first_page_shows_the_training_runs(mlflow_ui: Service, tracked, browser, tmp_path) -> None:
    # each run named with its verdict: both models failed their gates, and MLflow marks every run finished
    names = [f"{to_key(symbol)} {CUTOFF:%Y-%m-%d %H:%M} UTC · FAILED gates" for symbol in COINS]
    text = _page_text(browser, mlflow_ui.link, names)
    path = screenshot(browser, tmp_path, "mlflow_first_page")
    assert all(name in text for name in names), f"runs not listed ({path}):\n{text[:2000]}"
    experiment = next(iter(tracked.values())).experiment_id
    # the model-training view of the experiment's runs, not the GenAI overview it opens on by default
    assert f"#/experiments/{experiment}/runs?" in browser.current_url, browser.current_url
    assert "workflowType=machine_learning" in browser.current_url
    assert "No data available for the selected time range" not in text


@needs_browser
def test_a_version_that_failed_its_gates_says_so(mlflow_ui: Service, tracked, browser, tmp_path) -> None:
    run = tracked["ETH/USDT"]
    base = mlflow_ui.link.split("#")[0]
    url = f"{base}#/models/{run.model_name}/versions/{run.version}?workflowType=machine_learning"
    text = _page_text(browser, url, ["FAILED GATES"])
    path = screenshot(browser, tmp_path, "mlflow_failed_version")
    assert "FAILED GATES (standard), never trades: sharpe n/a" in text, f"{path}:\n{text[:2000]}"
    assert "failed gates" in text  # the status tag


@needs_browser
def test_a_runs_pictures_open_as_images(mlflow_ui: Service, tracked, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    run = tracked["BTC/USDT"]
    base = mlflow_ui.link.split("#")[0]
    first = f"{base}#/experiments/{run.experiment_id}/runs/{run.run_id}/artifacts/plots/equity.svg"
    browser.get(f"{first}?workflowType=machine_learning")  # the run's link to its first picture, then the tree
    for name in ("equity", "feature_importance", "signal"):
        artifact = f"plots/{name}.svg"
        deadline, width = time.time() + 30, 0
        while not width and time.time() < deadline:  # the tree and then the picture load after the page
            time.sleep(0.5)
            width = browser.execute_script(
                "const i = [...document.images].find(i => i.alt === arguments[0]); return i ? i.naturalWidth : 0",
                artifact,
            )
            entries = browser.find_elements(By.XPATH, f"//*[normalize-space(text())='{name}.svg']")
            if not width and entries:
                entries[0].click()
        path = screenshot(browser, tmp_path, f"mlflow_{name}")
        assert width == 760, f"{artifact} is not shown as a picture ({path})"  # decoded, at its own width


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_one_signal_to_huracan_mlflow_stops_the_server_and_uvicorn(tracked, tmp_path, signum) -> None:
    log = tmp_path / "mlflow.log"
    with huracan_mlflow(log) as service:
        below = descendants(service.process.pid)
        assert len(below) >= 2, below  # mlflow server, uvicorn
        service.process.send_signal(signum)
        assert_stopped(service.process, below, service.health, log)
