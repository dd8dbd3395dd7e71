"""``huracan ui`` (webserver and daemon) as a service for a test or a bench, and the GraphQL calls the UI itself
makes to launch a backfill and follow it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.ui.processes import wait_until_answering

REPO = Path(__file__).resolve().parents[2]

LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}"""

BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status numPartitions error { message } }
    ... on PythonError { message }
  }
}"""

DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dagster_ui(log: Path, env: dict[str, str] | None = None, timeout: float = 120) -> Iterator[str]:
    """``huracan ui`` on a free loopback port over the environment's HURACAN_HOME; yields its URL, and stops the
    webserver and the daemon with one SIGTERM when done."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "huracan_dagster.cli", "ui", "--port", str(port)],
            cwd=REPO,
            env=env or os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_answering(proc, f"{url}/server_info", log, timeout)
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def graphql(url: str, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body["data"]


def launch_backfill(url: str, ranges: Sequence[tuple[Sequence[str], str, str]], title: str) -> str:
    """An asset backfill as the UI's launch dialog makes it: per asset key path, a partition range
    ``start..end`` (``date|symbol`` keys span every date and every symbol between them). Returns its id."""
    params = {
        "title": title,
        "partitionsByAssets": [
            {"assetKey": {"path": list(path)}, "partitions": {"range": {"start": start, "end": end}}}
            for path, start, end in ranges
        ],
    }
    answer = graphql(url, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    if answer["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(f"backfill not launched: {answer}")
    return answer["backfillId"]


def wait_backfill(url: str, backfill_id: str, timeout: float) -> dict:
    """The backfill's final state, polled as the UI's backfill page polls it."""
    deadline = time.time() + timeout
    while True:
        state = graphql(url, BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if state.get("status") in DONE or state["__typename"] != "PartitionBackfill":
            return state
        if time.time() > deadline:
            raise TimeoutError(f"backfill {backfill_id} still {state.get('status')} after {timeout:.0f} s")
        time.sleep(1)
