"""Pattern health: the pause test's false-pause rate at the null and its delay on a planted collapse, the recovery
test, the pause log, and the pause → skip → resume round trip in the shadow trader."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from huracan_core.desk.shadow_day import trade_partitions
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.health.patterns import PatternHealthConfig, ledger_patterns, pause_alarm, recovery_at
from huracan_core.health.pauses import PauseEvent, load_book, record, review
from huracan_core.regimes import RegimeDetector
from huracan_core.storage import LocalArtifactStore
from huracan_core.trading.bars import join_bars
from huracan_core.trading.consensus import vote
from huracan_core.trading.costs import CostModel
from tests.conftest import real_15m

CONFIG = PatternHealthConfig()
HISTORY = 60
HORIZON = 200
RUNS = 1000


def record_of(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    """After-cost bps: a win (+30) or a loss (−25) 55/45, spread 15, ``shift`` added."""
    wins = rng.random(n) < 0.55
    return np.where(wins, rng.normal(30, 15, n), rng.normal(-25, 15, n)) + shift


def test_false_pause_rate_at_the_null_is_small() -> None:
    paused = sum(
        pause_alarm(record_of(np.random.default_rng(s), HISTORY + HORIZON), CONFIG) is not None for s in range(RUNS)
    )
    rate = paused / RUNS
    print(f"false pauses over {HORIZON} trades after {HISTORY} of history: {rate:.3f}")
    assert rate <= 0.03, f"{rate:.3f} of healthy patterns paused within {HORIZON} trades"


def test_a_planted_collapse_is_paused_within_the_expected_trades() -> None:
    sd = float(record_of(np.random.default_rng(0), 100_000).std())
    shift = -2 * CONFIG.drift * sd  # the shift the test is tuned to
    delays = []
    for s in range(300):
        rng = np.random.default_rng(s)
        net = np.concatenate([record_of(rng, HISTORY), record_of(rng, HORIZON, shift)])
        alarm = pause_alarm(net, CONFIG)
        delays.append(HORIZON + 1 if alarm is None or alarm.at < HISTORY else alarm.at - HISTORY + 1)
    # CUSUM's delay at the tuned shift is about (h + 1.166) / (shift/sd − k) (Siegmund): k = drift, shift = 2k
    expected = (CONFIG.threshold + 1.166) / CONFIG.drift
    median = float(np.median(delays))
    print(f"median delay {median} trades, expected {expected:.1f}, 90th percentile {np.percentile(delays, 90)}")
    assert median <= 1.25 * expected, f"median delay {median} trades, expected {expected:.1f}"


def test_recovery_lifts_only_a_record_back_to_its_history() -> None:
    rng = np.random.default_rng(3)
    sd = 30.0
    healthy, collapsed = record_of(rng, 100), record_of(rng, 100, -2 * CONFIG.drift * 30)
    mean = float(record_of(np.random.default_rng(4), 10_000).mean())
    assert recovery_at(healthy, mean, sd, CONFIG) is not None
    assert recovery_at(collapsed[:20], mean, sd, CONFIG) is None


def _ledger(net: np.ndarray, start: datetime, pattern: tuple[str, int, str]) -> pl.DataFrame:
    regime, direction, engines = pattern
    exits = [start + timedelta(hours=i) for i in range(len(net))]
    return pl.DataFrame(
        {
            "trade_id": [f"t{i:05d}" for i in range(len(net))],
            "exit_time": pl.Series(exits, dtype=pl.Datetime("us", "UTC")),
            "net_bps": net,
            "regime": regime,
            "direction": pl.Series([direction] * len(net), dtype=pl.Int8),
            "engines_agreeing": engines,
        }
    )


def test_review_pauses_a_collapse_records_it_and_a_person_resumes_it(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    rng = np.random.default_rng(11)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    trades = _ledger(np.concatenate([record_of(rng, 80), record_of(rng, 80, -40)]), start, ("TREND", 1, "a,b"))
    [pattern] = ledger_patterns(trades).unique().to_list()
    assert pattern == "TREND:long:a,b"
    now = start + timedelta(days=10)
    [pause] = review(trades, trades.clear(), load_book(store, "15m"), now)
    assert pause.action == "pause" and pause.by == "cusum" and pause.figures["recent_mean_bps"] < 0
    book = record(store, "15m", [pause])
    assert load_book(store, "15m") == book  # stored, and read back whole
    assert pattern not in book.paused(on=now.date()) and pattern in book.paused(on=now.date() + timedelta(days=1))
    with pytest.raises(ValueError, match="TREND:long:a,b.*already paused"):
        record(store, "15m", [pause])
    assert review(trades, trades.clear(), book, now) == []  # a paused pattern is not paused again
    resumed = record(store, "15m", [PauseEvent(pattern, "resume", "cli:test", now + timedelta(hours=1), "by hand")])
    assert resumed.paused() == {} and len(resumed.events) == 2  # the pause stays in the log
    # the CUSUM restarts after a lift: the old collapse does not pause it again at once
    assert review(trades, trades.clear(), resumed, now + timedelta(hours=2)) == []


def test_review_lifts_a_pause_whose_would_be_trades_recovered(tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    rng = np.random.default_rng(12)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    trades = _ledger(np.concatenate([record_of(rng, 80), record_of(rng, 80, -40)]), start, ("RANGE", -1, "a"))
    now = start + timedelta(days=10)
    book = record(store, "15m", review(trades, trades.clear(), load_book(store, "15m"), now))
    assert list(book.paused()) == ["RANGE:short:a"]
    later = now + timedelta(days=5)
    would_be = _ledger(record_of(rng, 60), now + timedelta(days=1), ("RANGE", -1, "a"))
    [lift] = review(trades, would_be, book, later)
    assert lift.action == "resume" and lift.by == "recovery"
    still_bad = _ledger(record_of(rng, 60, -40), now + timedelta(days=1), ("RANGE", -1, "a"))
    assert review(trades, still_bad, book, later) == []


SYMBOL = "ETH-USDT"


@pytest.fixture(scope="module")
def days() -> dict:
    candles = real_15m(SYMBOL).filter(pl.col("timestamp") < datetime(2024, 9, 1, tzinfo=UTC))
    features = FeatureRecipe.default("15m").compute(candles, symbol="ETH/USDT")
    regimes = RegimeDetector().detect(features)
    signals = vote(join_bars([candles], [features], [regimes]), SYMBOL, costs=CostModel())
    last = candles["timestamp"].max().date()  # type: ignore[union-attr]
    wanted = [last - timedelta(days=n) for n in range(6, 0, -1)]

    def split(frame: pl.DataFrame) -> dict:
        return {(d, SYMBOL): frame.filter(pl.col("timestamp").dt.date() == d) for d in wanted}

    return {
        "candles": split(candles),
        "features": split(features),
        "regimes": split(regimes),
        "signals": split(signals),
        "days": wanted,
    }


def _trade(days: dict, day: date, paused: frozenset[str] = frozenset()):
    [traded] = trade_partitions(
        days["candles"],
        days["features"],
        days["regimes"],
        days["signals"],
        [(day, SYMBOL)],
        "15m",
        costs=CostModel(),
        paused={day: paused},
    )
    return traded


def test_pause_skip_resume_round_trip_in_the_shadow_trader(days, tmp_path) -> None:
    store = LocalArtifactStore(tmp_path)
    free = {d: _trade(days, d) for d in days["days"]}
    day = next(d for d in days["days"][1:] if free[d].ledger.height)
    pattern = ledger_patterns(free[day].ledger)[0]
    before = day - timedelta(days=1)
    pause = PauseEvent(pattern, "pause", "cli:test", datetime.combine(before, datetime.min.time(), UTC), "test")
    book = record(store, "15m", [pause])
    # the day the pause was taken trades as before (no lookahead); the next skips the pattern and trades it apart
    assert _trade(days, before, frozenset(book.paused(on=before))).ledger.equals(free[before].ledger)
    skipped = _trade(days, day, frozenset(book.paused(on=day)))
    assert pattern not in ledger_patterns(skipped.ledger).to_list()
    assert skipped.would_be is not None and set(ledger_patterns(skipped.would_be).to_list()) == {pattern}
    # resumed during the day: that day still skips, the next trades it as if never paused
    resume = PauseEvent(pattern, "resume", "cli:test", pause.at + timedelta(days=1, hours=6), "test")
    book = record(store, "15m", [resume])
    assert pattern in book.paused(on=day)
    after = day + timedelta(days=1)
    if after in free:
        resumed = _trade(days, after, frozenset(book.paused(on=after)))
        assert resumed.ledger.equals(free[after].ledger) and resumed.would_be is None
