"""Hamilton trades a planted champion forward over real candles, bar by bar.

A restart after a crash at any write (a ``kill -9`` between two writes leaves what a crash at the next one leaves,
and every write is an atomic replace) ends with the same logs and state as an uninterrupted run; a champion
promoted while it runs is picked up at the next bar; a champion failing its checksums, stale, or trained past the
bar is refused and reported; the kill switch drops entries waiting for their fill, closes every position at the
next bar and blocks entries until cleared; two Hamiltons on one home refuse to run together.

The champion trades at every bar (its rule's thresholds are far below any edge), so positions open and close
within a few bars. Scoring a bar takes about half a second of feature computation, so each (model, rule, moment)
is scored once per session and remembered: the sweeps over crash points re-run the trading, not the features.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from huracan_core.candles import day_start
from huracan_core.champions.hamilton import Champion
from huracan_core.health.patterns import pattern_of
from huracan_core.health.pauses import PauseEvent, record
from huracan_core.models.day_models import ModelPartition
from huracan_core.paper.fills import follow
from huracan_core.paper.forward import CandleFeed, MarketClock, trade_forward
from huracan_core.paper.home import AlreadyRunning, clear_kill, hamilton_lock, kill_reason, press_kill
from huracan_core.paper.logs import SCHEMAS, read_logs
from huracan_core.paper.signals import Signal
from huracan_core.paper.state import load_state
from huracan_core.paper.trader import PaperConfig, PaperTrader
from huracan_core.sources import open_source
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import challenger_folder_key, roster_key
from tests.core.planted_champion import (
    COIN,
    COSTS,
    DAY,
    EVERY_BAR,
    PAIRS,
    STEP,
    TF,
    partitions,
    publish,
    sample_candles,
    train_plain,
    with_decision,
    with_record,
)

START = day_start(DAY)  # the model's cutoff: every bar from here on is out of sample
BARS = [START + n * STEP for n in range(10)]
SHORTS_ONLY = EVERY_BAR | {"policy": "calibrated", "long_threshold_bps": None}
CONFIG = PaperConfig(TF, costs=COSTS, universe=lambda days: {d: PAIRS for d in days})
_SCORES: dict[tuple, object] = {}


@pytest.fixture(scope="module")
def candles() -> dict[str, pl.DataFrame]:
    return sample_candles()


@pytest.fixture(scope="module")
def plain(candles) -> ModelPartition:
    return train_plain(partitions(candles))


@pytest.fixture(autouse=True)
def remembered_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    score = Champion.score

    def remembered(self: Champion, candles, *, now=None, universe=None):
        key = (self.model_folder, self.model.rule.describe(), now)
        if key not in _SCORES:
            _SCORES[key] = score(self, candles, now=now, universe=universe)
        return _SCORES[key]

    monkeypatch.setattr(Champion, "score", remembered)


def _plant(root: Path, part: ModelPartition, decision: dict = EVERY_BAR) -> LocalArtifactStore:
    store = LocalArtifactStore(root)
    publish(store, with_record(with_decision(part, decision)))
    store.write_json(
        roster_key(TF), {"date": DAY.isoformat(), "symbols": [{"symbol": COIN, "trade_ok": True, "rank": 1}]}
    )
    return store


def _run(
    trader: PaperTrader, bars: list[datetime], candles: dict, kill: Callable[[datetime], str | None] = lambda _: None
) -> list[str]:
    lines = []
    for bar in bars:
        lines += trader.step(bar, candles, kill(bar)).lines
    return lines


def _logs(store: LocalArtifactStore) -> dict[str, pl.DataFrame]:
    return {kind: read_logs(store, kind, TF) for kind in SCHEMAS}


class Crash(BaseException):
    """What a ``kill -9`` is to the process: nothing after it runs (not even ``except Exception``)."""


class CrashingStore(LocalArtifactStore):
    """Dies at its ``crash_at``-th write, before the write (a replace is atomic: half a write is no write)."""

    def __init__(self, root: Path, crash_at: int) -> None:
        super().__init__(root)
        self.crash_at, self.writes = crash_at, 0

    def write_bytes(self, key: str, data: bytes) -> None:
        self.writes += 1
        if self.writes == self.crash_at:
            raise Crash(f"killed before write {self.writes} ({key})")
        super().write_bytes(key, data)


def test_a_restart_after_a_crash_at_any_write_ends_as_an_uninterrupted_run(plain, candles, tmp_path) -> None:
    whole = _plant(tmp_path / "whole", plain)
    _run(PaperTrader(whole, CONFIG), BARS, candles)
    expected, state = _logs(whole), load_state(whole, TF)
    assert state is not None and state.last_bar == BARS[-1]
    trades = expected["trades"]
    assert {"entry", "exit"} <= set(trades["event"]), "the run must fill for a crash to have fills to lose"
    assert trades.select("position_id", "event").is_unique().all() and expected["equity"].height == len(BARS)

    writes = 4 * len(BARS)  # three logs and the state a bar
    rng = np.random.default_rng(25)
    crashes = sorted({4 * int(rng.integers(len(BARS))) + w + 1 for w in range(4)} | set(rng.integers(1, writes, 4)))
    for crash_at in crashes:
        root = tmp_path / f"crash-{crash_at}"
        _plant(root, plain)
        with pytest.raises(Crash):
            _run(PaperTrader(CrashingStore(root, crash_at), CONFIG), BARS, candles)
        resumed = PaperTrader(LocalArtifactStore(root), CONFIG)
        done = [] if resumed.next_bar is None else [b for b in BARS if b < resumed.next_bar]
        assert len(done) == (crash_at - 1) // 4, f"crash at write {crash_at}: the bars committed"
        _run(resumed, BARS[len(done) :], candles)
        got = _logs(LocalArtifactStore(root))
        for kind in SCHEMAS:
            assert got[kind].equals(expected[kind]), f"{kind} after a crash at write {crash_at}"
        assert load_state(LocalArtifactStore(root), TF) == state


def test_a_champion_promoted_while_running_is_picked_up_at_the_next_bar(plain, candles, tmp_path) -> None:
    store = _plant(tmp_path, plain)
    first = with_decision(plain, EVERY_BAR).folder
    trader = PaperTrader(store, CONFIG)
    _run(trader, BARS[:4], candles)
    promoted = replace(with_record(with_decision(plain, SHORTS_ONLY)), folder=challenger_folder_key(COIN, TF, START))
    publish(store, promoted, mlflow_version="4")
    later = [BARS[-1] + n * STEP for n in range(1, 9)]
    _run(trader, BARS[4:] + later, candles)

    decisions = read_logs(store, "decisions", TF).filter(pl.col("model_folder").is_not_null())
    before, after = decisions.filter(pl.col("bar_time") < BARS[4]), decisions.filter(pl.col("bar_time") >= BARS[4])
    assert set(before["model_folder"]) == {first} and set(after["model_folder"]) == {promoted.folder}
    assert after.height and set(after["mlflow_version"]) == {"4"}
    assert set(after.filter(pl.col("outcome") == "approved")["direction"]) <= {-1}
    entries = read_logs(store, "trades", TF).filter(pl.col("event") == "entry")
    assert set(entries.filter(pl.col("bar_time") > after["bar_time"].min())["model_folder"]) <= {promoted.folder}


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("tampered", r"models/ETH-USDT/15m/20240901_000000Z: model\.bin has sha256"),
        ("stale", r"is stale: its data ends 2024-09-01T00:00:00\+00:00, 1\.0 days before the bar \(at most 0\.5\)"),
        ("trained past the bar", r"trained on data up to 2024-09-01T00:00:00\+00:00, after the bar .*seen the future"),
    ],
)
def test_a_champion_that_cannot_be_trusted_is_refused_and_reported(plain, candles, tmp_path, case, why) -> None:
    store = _plant(tmp_path, plain)
    config, bars = CONFIG, BARS[:2]
    if case == "tampered":
        model = tmp_path / with_decision(plain, EVERY_BAR).folder / "model.bin"
        model.write_bytes(model.read_bytes().replace(b"leaf_value=", b"leaf_value=1", 1))
    elif case == "stale":
        config, bars = replace(CONFIG, max_champion_age_days=0.5), [START + timedelta(days=1)]
    else:
        bars = [START - 2 * STEP, START - STEP]
    lines = _run(PaperTrader(store, config), bars, candles)
    decisions = read_logs(store, "decisions", TF)
    assert decisions["outcome"].to_list() == ["champion_refused"] * len(bars)
    assert set(decisions["rule"]) == {"champion"} and all(pl.Series(decisions["why"]).str.contains(why))
    assert lines and all(line.startswith(f"{COIN}: champion refused: ") for line in lines)
    assert read_logs(store, "trades", TF).is_empty() and read_logs(store, "equity", TF).height == len(bars)


def test_a_champion_without_an_out_of_sample_record_is_refused_by_kelly_saying_why(plain, candles, tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    publish(store, with_decision(plain, EVERY_BAR))  # the sample's tiny model made no out-of-sample trade
    store.write_json(roster_key(TF), {"symbols": [{"symbol": COIN, "trade_ok": True, "rank": 1}]})
    _run(PaperTrader(store, CONFIG), BARS[:1], candles)
    (row,) = read_logs(store, "decisions", TF).iter_rows(named=True)
    assert row["outcome"] == "refused" and row["rule"] == "kelly" and "hit rate is undefined (0.0 trades)" in row["why"]


def test_without_a_roster_or_a_tradeable_coin_it_says_so_each_bar_and_waits(plain, candles, tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    lines = _run(PaperTrader(store, CONFIG), BARS[:2], candles)
    assert len(lines) == 2 and all("no roster at" in line for line in lines)
    store.write_json(roster_key(TF), {"symbols": [{"symbol": COIN, "trade_ok": False, "rank": 1}]})
    lines = _run(PaperTrader(store, CONFIG), BARS[2:4], candles)
    assert len(lines) == 2 and all("no champion may trade" in line for line in lines)
    assert read_logs(store, "decisions", TF)["outcome"].to_list() == ["no_roster"] * 2 + ["no_champion"] * 2


def test_the_kill_switch_drops_waiting_entries_closes_positions_and_blocks_until_cleared(plain, candles, tmp_path):
    store = _plant(tmp_path, plain)
    trader = PaperTrader(store, CONFIG)
    bar = START
    while not trader.state.pending:  # until an entry is approved, to fill at the next bar
        trader.step(bar, candles, None)
        bar += STEP
    dropped_at = bar
    trader.step(bar, candles, "pressed in the test")
    trader.step(bar + STEP, candles, "pressed in the test")
    bar += 2 * STEP
    while not (trader.state.held and all(_open_through(signal, candles, bar) for signal in trader.state.held.values())):
        trader.step(bar, candles, None)  # cleared: trading again, until a position stays open through a bar
        bar += STEP
    killed_at = bar
    trader.step(bar, candles, "pressed again")
    assert not trader.state.held and not trader.state.risk.positions and not trader.state.pending

    trades = read_logs(store, "trades", TF)
    dropped = trades.filter(pl.col("event") == "dropped")
    assert dropped["bar_time"].to_list() == [dropped_at] and "pressed in the test" in dropped["risk_why"][0]
    closed = trades.filter((pl.col("bar_time") == killed_at) & (pl.col("event") == "exit"))
    assert closed.height == 1 and closed["exit_reason"].to_list() == ["kill_switch"]
    assert closed["fill_bar"].to_list() == [killed_at]  # at that bar's close
    decisions = read_logs(store, "decisions", TF)
    killed = decisions.filter(pl.col("bar_time").is_in([dropped_at, dropped_at + STEP, killed_at]))
    assert set(killed.filter(pl.col("outcome") != "holding")["rule"]) == {"kill_switch"}
    assert set(killed["outcome"]) <= {"refused", "no_signal"}
    cleared = decisions.filter((pl.col("bar_time") > dropped_at + STEP) & (pl.col("bar_time") < killed_at))
    assert "approved" in set(cleared["outcome"])
    equity = read_logs(store, "equity", TF)
    assert equity.filter(pl.col("bar_time") == killed_at)["positions"].to_list() == [0]


def _open_through(signal: Signal, candles: dict[str, pl.DataFrame], bar: datetime) -> bool:
    followed = follow(
        signal, candles[signal.symbol], bar, timeframe=TF, exchange="binance", costs=COSTS, exits=CONFIG.exits
    )
    return followed is not None and followed.still_open


def test_two_hamiltons_on_one_home_refuse_to_run_together(tmp_path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from huracan_core.paper.home import hamilton_lock\n"
            "with hamilton_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(120)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(AlreadyRunning, match=rf"another Hamilton runs on this home \(pid {holder.pid}@"),
            hamilton_lock(tmp_path),
        ):
            pass
    finally:
        holder.kill()  # kill -9: the kernel releases its lock
        holder.wait()
    with hamilton_lock(tmp_path), pytest.raises(AlreadyRunning), hamilton_lock(tmp_path):
        pass  # a second holder in the same process is refused too
    with hamilton_lock(tmp_path):
        pass

    assert kill_reason(tmp_path) is None
    press_kill(tmp_path, "drawdown too fast")
    assert kill_reason(tmp_path) == "drawdown too fast"
    assert clear_kill(tmp_path) and kill_reason(tmp_path) is None and not clear_kill(tmp_path)


def test_the_replay_paces_bars_on_its_clock_and_resumes_after_the_last_bar(plain, candles, tmp_path) -> None:
    store = _plant(tmp_path, plain)
    feed = CandleFeed(open_source("bundled"), TF)
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    reports: list[tuple[datetime, float]] = []
    end = START + 2 * STEP  # the close of the second bar

    def forward(end: datetime) -> int:
        trader = PaperTrader(store, CONFIG)
        clock = MarketClock((trader.next_bar or START) + STEP, 900.0, wall=lambda: now[0])
        return trade_forward(
            trader,
            feed,
            first=START,
            end=end,
            clock=clock,
            kill=lambda: None,
            report=lambda r, s: reports.append((r.bar, s)),
            idle=sleep,
        )

    assert forward(end) == 2 and [b for b, _ in reports] == [START, START + STEP]
    assert slept == [0.0, pytest.approx(1.0)]  # a 15-minute bar a second at 900×; the first close is the origin
    assert forward(end + 2 * STEP) == 2 and [b for b, _ in reports][2:] == [START + 2 * STEP, START + 3 * STEP]
    given = feed.candles(list(PAIRS), START - timedelta(days=15), end)
    fresh = {p: open_source("bundled").fetch(p, TF, START - timedelta(days=15), end) for p in PAIRS}
    for pair in PAIRS:
        assert_frame_equal(given[pair], fresh[pair])


def test_a_paused_pattern_is_refused_and_trades_again_once_lifted(plain, candles, tmp_path) -> None:
    def run_to(home: str, last: datetime, events: Sequence[PauseEvent] = ()) -> PaperTrader:
        store = _plant(tmp_path / home, plain)
        for event in events:
            record(store, TF, [event])
        trader, bar = PaperTrader(store, CONFIG), START
        while bar <= last:
            trader.step(bar, candles, None)
            bar += STEP
        return trader

    free, entered_at = PaperTrader(_plant(tmp_path / "free", plain), CONFIG), START - STEP
    while not free.state.pending:  # the day's first entry, and its pattern
        entered_at += STEP
        free.step(entered_at, candles, None)
    (signal,) = free.state.pending.values()
    pattern = _pattern(signal)
    before = START - timedelta(hours=2)  # recorded the day before: in effect on the day
    pause = PauseEvent(pattern, "pause", "cli:test", before, "planted collapse")

    paused = run_to("paused", entered_at, [pause])
    assert not paused.state.pending
    refused = read_logs(paused.store, "decisions", TF).filter(pl.col("rule") == "pattern_paused")
    assert refused["bar_time"].to_list() == [entered_at] and refused["outcome"].to_list() == ["refused"]
    assert pattern in refused["why"][0] and "cli:test" in refused["why"][0]
    assert json.loads(refused["figures"][0])["pattern"] == pattern

    lift = PauseEvent(pattern, "resume", "cli:test", before + timedelta(hours=1), "lifted in the test")
    lifted = run_to("lifted", entered_at, [pause, lift])
    assert [_pattern(s) for s in lifted.state.pending.values()] == [pattern]
    assert "pattern_paused" not in set(read_logs(lifted.store, "decisions", TF)["rule"].drop_nulls())

    late = PauseEvent(pattern, "pause", "cli:test", START, "recorded on the day: in effect from the next")
    on_the_day = run_to("on_the_day", entered_at, [late])
    assert [_pattern(s) for s in on_the_day.state.pending.values()] == [pattern]


def _pattern(signal: Signal) -> str:
    return pattern_of(signal.regime, signal.direction, signal.engines_agreeing)
