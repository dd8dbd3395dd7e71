"""The error monitor and the alert layer on planted run histories, sent to the loopback Telegram Bot API: a trend
is one alert, said once until it clears, then again if it returns; warnings of a tick are one message; a message
Telegram refused is sent on a later tick; the daily health report says what happened the day before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from huracan_core.broadcast.alerts import Alert, AlertState, Severity, changes
from huracan_core.broadcast.telegram import TelegramClient
from huracan_core.health.errors import ErrorPolicy, RunOutcome, cause_groups, cause_key, error_alerts, failure_rates
from huracan_core.health.monitor import REPORT_HOUR, alert_tick
from tests.fake_telegram import FakeTelegram

TOKEN = "777:alerts-token"
POLICY = ErrorPolicy(window_days=7, recurring_runs=3, recurring_days=2, spike_rate=0.5, spike_min_runs=4)
#: before the report hour, so a tick sends alerts only
MORNING = datetime(2024, 12, 10, REPORT_HOUR - 2, 0, tzinfo=UTC)
MISSING = "15m/candles: {day}|{coin}: candles file missing at candles/{coin}/15m/{day}.parquet"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def client(telegram: FakeTelegram) -> TelegramClient:
    return TelegramClient(TOKEN, "-1", base_url=telegram.url, retries=0, backoff_s=0.0)


def run(n: int, ended: datetime, cause: str | None = None, job: str = "engine_15m") -> RunOutcome:
    return RunOutcome(f"run-{n}-{ended:%m%d%H%M}", job, ended, cause is not None, (cause,) if cause else ())


def nightly_missing_candles(last: datetime, nights: int) -> list[RunOutcome]:
    """The nightly run failing on missing candles ``nights`` nights running, a different coin each night."""
    days = [last - timedelta(days=i) for i in range(nights)]
    coins = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"]
    return [
        run(i, d, MISSING.format(day=d.date() - timedelta(days=1), coin=coins[i % len(coins)]))
        for i, d in enumerate(days)
    ]


def no_trading(day: date) -> dict:
    return {}


def no_pauses() -> dict:
    return {}


def tick(state: AlertState, runs: list[RunOutcome], now: datetime, client: TelegramClient, **kw) -> AlertState:
    return alert_tick(
        state, runs, now, client.send, POLICY, kw.pop("trading", no_trading), kw.pop("pauses", no_pauses), **kw
    )


def test_one_failure_on_other_days_and_coins_is_one_cause() -> None:
    a = MISSING.format(day="2024-12-05", coin="BTC-USDT")
    b = MISSING.format(day="2024-12-07", coin="ETH-USDT") + " (partitions 2024-12-07|ETH-USDT..2024-12-08|ETH-USDT)"
    assert cause_key(a) == cause_key(b)
    assert cause_key(a) != cause_key("15m/features: talib is not installed")


def test_groups_and_rates_count_every_run_once() -> None:
    runs = [*nightly_missing_candles(MORNING, 3), run(9, MORNING, None), run(10, MORNING, "resource: boom")]
    groups = cause_groups(runs)
    assert sum(len(g.run_ids) for g in groups) == sum(r.failed for r in runs)
    rates = failure_rates(runs)
    assert sum(d.runs for d in rates) == len(runs)
    assert sum(d.failed for d in rates) == sum(r.failed for r in runs)
    assert [d.day for d in rates] == sorted(d.day for d in rates)


def test_a_cause_recurring_on_several_days_is_one_warning_and_one_day_is_none() -> None:
    [alert] = error_alerts(nightly_missing_candles(MORNING, 3), MORNING, POLICY)
    assert alert.severity is Severity.WARNING and "3 runs on 3 days" in alert.text
    burst = [
        run(i, MORNING - timedelta(minutes=i), MISSING.format(day="2024-12-09", coin="BTC-USDT")) for i in range(5)
    ]
    # one bad hour is not a recurring cause (it is a spike, judged on its own)
    assert [a.severity for a in error_alerts(burst, MORNING, POLICY)] == [Severity.CRITICAL]


def test_a_spike_needs_the_rate_and_enough_runs() -> None:
    failing = [run(i, MORNING - timedelta(minutes=i), f"resource: cause {chr(65 + i)}") for i in range(3)]
    spike = [*failing, run(9, MORNING, None)]
    [alert] = error_alerts(spike, MORNING, POLICY)
    assert alert.severity is Severity.CRITICAL and "3 of 4 runs failed" in alert.text
    assert error_alerts([*failing[:1], *(run(9 + i, MORNING, None) for i in range(3))], MORNING, POLICY) == []
    assert error_alerts(failing[:2], MORNING, POLICY) == []  # two runs: too few to call a rate


def test_a_standing_condition_is_sent_once_then_cleared_then_sent_again(
    telegram: FakeTelegram, client: TelegramClient
) -> None:
    runs = nightly_missing_candles(MORNING, 3)
    state = AlertState()
    for hour in range(3):  # the condition stands on every tick
        state = tick(state, runs, MORNING + timedelta(minutes=20 * hour), client)
    [warning] = telegram.texts()
    assert "1 warning, 0 cleared" in warning and "recurring failure" in warning
    later = MORNING + timedelta(days=POLICY.window_days + 1)  # its runs have left the window
    state = tick(state, runs, later, client)
    state = tick(state, runs, later + timedelta(minutes=5), client)
    assert len(telegram.texts()) == 2 and "0 warnings, 1 cleared" in telegram.texts()[1]
    assert state.active == {}
    again = nightly_missing_candles(later, 3)
    tick(state, again, later + timedelta(minutes=10), client)
    assert len(telegram.texts()) == 3 and "recurring failure" in telegram.texts()[2]


def test_warnings_of_a_tick_are_one_message_and_criticals_one_each(
    telegram: FakeTelegram, client: TelegramClient
) -> None:
    other = [run(20 + i, MORNING - timedelta(days=i), "15m/features: talib is not installed") for i in range(3)]
    spike = [run(40 + i, MORNING - timedelta(minutes=i + 1), "resource: the database is gone") for i in range(4)]
    tick(AlertState(), [*nightly_missing_candles(MORNING, 3), *other, *spike], MORNING, client)
    texts = telegram.texts()
    critical = [t for t in texts if "CRITICAL" in t]
    assert len(critical) == 1 and "failure spike" in critical[0]
    [batch] = [t for t in texts if "CRITICAL" not in t]
    # the two nightly causes; the spike's cause failed on one day only, so it is not recurring
    assert batch.count("warning: recurring failure") == 2 and "talib" in batch and "candles file missing" in batch


def test_a_message_telegram_refused_is_sent_on_the_next_tick(telegram: FakeTelegram, client: TelegramClient) -> None:
    runs = nightly_missing_candles(MORNING, 3)
    telegram.faults.append("500")
    state = tick(AlertState(), runs, MORNING, client)
    assert telegram.texts() == [] and state.active == {}
    state = tick(state, runs, MORNING + timedelta(minutes=1), client)
    assert len(telegram.texts()) == 1 and len(state.active) == 1


def test_a_warning_that_turns_critical_is_new_again() -> None:
    warning = Alert("k", Severity.WARNING, "w")
    sent = AlertState(active={"k": warning})
    assert changes(sent, [Alert("k", Severity.CRITICAL, "c")]).critical
    assert not changes(AlertState(active={"k": Alert("k", Severity.CRITICAL, "c")}), [warning]).warnings


def test_the_state_survives_the_cursor_and_a_foreign_cursor_is_named() -> None:
    state = AlertState(active={"k": Alert("k", Severity.CRITICAL, "text")}, last_report="2024-12-10")
    assert AlertState.from_json(state.to_json()) == state
    assert AlertState.from_json("") == AlertState()
    with pytest.raises(ValueError, match="alert state"):
        AlertState.from_json('{"after": 12}')


def test_the_daily_report_says_the_day_before_once(telegram: FakeTelegram, client: TelegramClient) -> None:
    runs = [*nightly_missing_candles(MORNING - timedelta(days=1), 3), run(30, MORNING - timedelta(days=1, hours=3))]
    summaries = {
        date(2024, 12, 9): {"trades": 12, "hit_rate_pct": 58.3, "net_pnl": 4.25},
        date(2024, 12, 8): {"trades": 10, "hit_rate_pct": 50.0, "net_pnl": -1.0},
    }

    def trading(day: date) -> dict:
        return {"15m": (summaries.get(day), summaries.get(day - timedelta(days=1)))}

    state = tick(AlertState(), runs, MORNING - timedelta(days=1), client, trading=trading)
    report_time = MORNING.replace(hour=REPORT_HOUR)
    state = tick(state, runs, report_time, client, trading=trading)
    state = tick(state, runs, report_time + timedelta(hours=1), client, trading=trading)
    reports = [t for t in telegram.texts() if "daily health report" in t]
    assert len(reports) == 1
    report = reports[0]
    assert "daily health report 2024-12-09" in report
    assert "active: 1 alert" in report and "recurring failure" in report
    assert "runs: 2 finished, 1 failed (50.0%)" in report  # the day's own runs only
    assert "actions: 1 alerts raised, 0 cleared" in report
    assert "15m: 12 trades, win rate 58.3% (+8.30 pts vs the day before), net +4.25 USDT after costs" in report
    tick(state, runs, report_time + timedelta(days=1), client, trading=lambda day: {"15m": (None, None)})
    assert "15m: no daily summary for 2024-12-10" in telegram.texts()[-1]


def test_a_policy_that_cannot_fire_is_refused() -> None:
    with pytest.raises(ValueError, match="spike_rate"):
        ErrorPolicy(spike_rate=1.0)
    with pytest.raises(ValueError, match="at least 1"):
        ErrorPolicy(recurring_runs=0)
