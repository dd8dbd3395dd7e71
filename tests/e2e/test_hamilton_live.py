"""``huracan hamilton`` in its own process against a live exchange on loopback: Binance as ``tests/fake_binance.py``
answers it, serving real candles of the bundled sample, read through ccxt (``HURACAN_CCXT_CONFIG`` points it at
the server), a planted champion trading on paper over three days on a clock running a day in ten seconds.

The process is killed with SIGKILL part way and started again: the logs and the state it leaves are those of one
run — every bar of the three days done once, in order, each fill once, every exit after its entry, and the cash
of the state what the fills add up to.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from huracan_core.candles import day_start
from huracan_core.paper.logs import read_logs
from huracan_core.paper.state import load_state
from huracan_core.sources import open_source
from huracan_core.storage import LocalArtifactStore
from huracan_core.symbols import to_ccxt
from tests.conftest import REPO
from tests.core.planted_champion import (
    COIN,
    DAY,
    STEP,
    TF,
    plant,
)
from tests.fake_binance import FakeBinance

DAYS = 3
START, END = day_start(DAY), day_start(DAY + timedelta(days=DAYS))
BARS = [START + n * STEP for n in range(DAYS * 96)]
#: a day in ten seconds on the market clock
SPEED = 8640
#: the universe: the coin and the features' reference (a request a symbol a bar: the fewer, the faster the test)
UNIVERSE = ("BTC-USDT", COIN)
STARTING_EQUITY = 10_000.0


@pytest.fixture
def exchange() -> Iterator[FakeBinance]:
    """The sample's candles of the universe from the history Hamilton's first score reads to the third day's end."""
    source = open_source("bundled")
    candles = {p.replace("-", ""): source.fetch(p, TF, START - timedelta(days=20), END) for p in UNIVERSE}
    with FakeBinance(candles) as fake:
        yield fake


def hamilton(home: Path, exchange: FakeBinance) -> subprocess.Popen:
    env = {
        **os.environ,
        "HURACAN_HOME": str(home),
        "HURACAN_SOURCE": "ccxt:binance",
        "HURACAN_TIMEFRAME": TF,
        "HURACAN_SYMBOLS": ",".join(to_ccxt(p) for p in UNIVERSE),
        "HURACAN_CCXT_CONFIG": json.dumps(
            {"urls": {"api": {"public": exchange.url}}, "options": {"fetchMarkets": ["spot"]}}
        ),
        "HURACAN_S3_URL": "",
        "HURACAN_TELEGRAM_TOKEN": "",
    }
    last = (END - timedelta(days=1)).date().isoformat()
    return subprocess.Popen(
        [sys.executable, "-m", "huracan_dagster.cli", "hamilton", "--start", DAY.isoformat(), "--end", last, "--speed", str(SPEED)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip


@pytest.mark.slow
def test_hamilton_trades_a_live_exchange_on_paper_and_resumes_after_kill_9(tmp_path: Path, exchange) -> None:
    home = tmp_path / "home"
    store = LocalArtifactStore(home / "archive")
    plant(store)

    first = hamilton(home, exchange)
    assert first.stdout is not None
    seen, head = 0, []
    try:
        for line in first.stdout:  # the bars of the first day and a half, then kill -9
            head.append(line)
            seen += line.startswith("2024-09-")
            if seen == 150:
                os.killpg(first.pid, signal.SIGKILL)
                break
    finally:
        first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL, "".join(head)
    second = hamilton(home, exchange)
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 0, out

    assert "over ccxt:binance: starting at 2024-09-01 00:00 UTC until 2024-09-04 00:00 UTC" in "".join(head)
    assert f"live: clock from 2024-09-01 00:00 UTC ×{SPEED}" in "".join(head)
    assert "over ccxt:binance: resuming after its last bar" in out
    assert "bars; latency from a bar's close to its decisions logged: median" in out

    equity = read_logs(store, "equity", TF)
    assert equity["bar_time"].to_list() == BARS  # every bar once, in order, across the kill
    decisions = read_logs(store, "decisions", TF)
    assert decisions["bar_time"].to_list() == BARS and set(decisions["symbol"]) == {COIN}
    assert {"approved", "holding"} <= set(decisions["outcome"])

    trades = read_logs(store, "trades", TF)
    assert trades.select("position_id", "event").filter(pl.col("position_id").is_not_null()).is_unique().all()
    entries = trades.filter(pl.col("event") == "entry")
    exits = trades.filter(pl.col("event") == "exit")
    assert entries.height >= 10 and exits.height >= entries.height - 1  # one position at a time: one may be open
    approved = decisions.filter(pl.col("outcome") == "approved")["bar_time"]
    assert set((entries["bar_time"] - STEP).to_list()) <= set(approved.to_list())  # filled at the next bar
    assert (entries["fill_bar"] == entries["bar_time"]).all()
    paired = exits.join(entries.select("position_id", entered=pl.col("bar_time")), on="position_id", how="left")
    assert paired["entered"].null_count() == 0 and (paired["fill_bar"] >= paired["entered"]).all()

    state = load_state(store, TF)
    assert state is not None and state.last_bar == BARS[-1]
    open_positions = entries.filter(~pl.col("position_id").is_in(exits["position_id"].to_list()))
    assert set(state.risk.positions) == set(open_positions["position_id"])
    entry_costs = open_positions.select(pl.col("fees") + pl.col("spread") + pl.col("slippage")).to_series().sum()
    assert state.risk.cash == pytest.approx(STARTING_EQUITY + exits["net_pnl"].sum() - entry_costs)
    assert equity["equity"][-1] == pytest.approx(state.risk.equity)
