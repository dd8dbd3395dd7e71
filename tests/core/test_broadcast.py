"""The Telegram client against a loopback server shaped like the Bot API: delivery, retries, refusals, and a
token that never reaches a log line."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest

from huracan_core.broadcast import MAX_MESSAGE_CHARS, TelegramClient, messages, truncate
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:good-token"
CHAT = "-100777"
LOGGER = "huracan.broadcast.test"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN, chat_id=CHAT) as fake:
        yield fake


def client(url: str, token: str = TOKEN, chat: str = CHAT, **kwargs) -> TelegramClient:
    kwargs = {"retries": 3, "backoff_s": 0.01, "timeout_s": 2.0, **kwargs}
    return TelegramClient(token, chat, base_url=url, logger=logging.getLogger(LOGGER), **kwargs)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_no_token(caplog: pytest.LogCaptureFixture, token: str) -> None:
    for record in caplog.records:
        assert token not in record.getMessage(), record.getMessage()
        assert token not in str(record.args or "")


def test_message_reaches_the_chat(telegram: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    assert client(telegram.url).send("[huracan] hello\nsecond line") is True
    assert telegram.messages == [
        {"chat_id": CHAT, "text": "[huracan] hello\nsecond line", "disable_web_page_preview": True}
    ]
    assert "parse_mode" not in telegram.messages[0]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("fault", ["429", "500", "stall"])
def test_transient_failures_are_retried(telegram: FakeTelegram, caplog: pytest.LogCaptureFixture, fault: str) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    telegram.faults.extend([fault, fault])
    telegram.stall_s = 0.5
    assert client(telegram.url, timeout_s=0.2).send("after two failures") is True
    assert telegram.texts() == ["after two failures"]  # delivered once
    retries = [r for r in caplog.records if r.levelno == logging.WARNING and "retrying" in r.getMessage()]
    assert len(retries) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert_no_token(caplog, TOKEN)


def test_retries_give_up_with_one_error(telegram: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    telegram.faults.extend(["500"] * 10)
    assert client(telegram.url, retries=2).send("never") is False
    assert telegram.requests == 3  # the first try and two retries
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "after 3 attempts" in errors[0] and "500" in errors[0]
    assert telegram.messages == []


def test_retry_after_is_honoured_but_capped(telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("huracan_core.broadcast.telegram.time.sleep", waits.append)
    answer = telegram.answer

    def long_retry_after(path: str, body: bytes):
        status, payload = answer(path, body)
        if status == 429:
            payload["parameters"] = {"retry_after": 3600}
        return status, payload

    monkeypatch.setattr(telegram, "answer", long_retry_after)
    telegram.faults.append("429")
    assert client(telegram.url, max_wait_s=7.0).send("later") is True
    assert waits == [7.0]


def test_rejected_token_is_one_clear_error_without_the_token(
    telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    bad = "999999:REJECTED-secret-token"
    started = time.monotonic()
    result = client(telegram.url, token=bad, backoff_s=5.0).send("hello")
    assert result is False
    assert time.monotonic() - started < 2.0  # permanent: not retried (the backoff would take 5 s)
    assert telegram.requests == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "rejected the bot token" in errors[0] and "401" in errors[0] and "HURACAN_TELEGRAM_TOKEN" in errors[0]
    assert_no_token(caplog, bad)
    assert bad not in repr(client(telegram.url, token=bad))


def test_unknown_chat_names_the_chat_variable(telegram: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    assert client(telegram.url, chat="-1").send("hello") is False
    assert telegram.requests == 1
    [error] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "chat not found" in error and "HURACAN_TELEGRAM_CHAT_ID" in error


def test_unreachable_server_returns_false_quickly(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    url = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    assert client(url, retries=2).send("nobody listens") is False
    assert time.monotonic() - started < 2.0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "connection failed" in errors[0] and url in errors[0]
    assert_no_token(caplog, TOKEN)


def test_token_that_breaks_the_url_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    bad = "12 34\nsecret"
    assert client(f"http://127.0.0.1:{closed_port()}", token=bad).send("x") is False
    assert caplog.records
    for record in caplog.records:
        assert "secret" not in record.getMessage()


def test_off_without_token_or_chat(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    off = client(f"http://127.0.0.1:{closed_port()}", token="")
    assert off.enabled is False
    assert off.send("one") is False and off.send("two") is False
    notes = [r for r in caplog.records if "Broadcaster is off" in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno <= logging.INFO
    assert "HURACAN_TELEGRAM_TOKEN" in notes[0].getMessage()
    assert client("http://127.0.0.1:9", chat="").enabled is False


def test_long_message_is_truncated(telegram: FakeTelegram) -> None:
    assert client(telegram.url).send("x" * 10_000) is True
    [text] = telegram.texts()
    assert len(text) == MAX_MESSAGE_CHARS and text.endswith("…")
    assert truncate("short") == "short"
    emoji = truncate("😀" * 3000)  # 2 UTF-16 units each, as Telegram counts
    assert len(emoji.encode("utf-16-le")) // 2 <= MAX_MESSAGE_CHARS and emoji.endswith("…")


def test_messages_are_short_tagged_and_say_na() -> None:
    texts = [
        messages.run_started("daily", "abcdef1234567890", "2024-12-30|BTC-USDT..2024-12-31|XRP-USDT"),
        messages.run_succeeded("daily", "abcdef1234567890", 125.0, 10),
        messages.run_succeeded("daily", "abcdef1234567890", None, None),
        messages.run_failed("daily", "abcdef1234567890", "15m/candles: 2024-12-05|BTC-USDT: gap\n" * 9),
        messages.checks_failed("15m/candles", "no_gaps", "WARN", [("2024-12-05|BTC-USDT", "3 gaps")]),
        messages.promotion(
            {
                "symbol": "BTC-USDT",
                "promoted": True,
                "champion_before": None,
                "champion_after": "20241231_020000Z",
                "reason": "beats champion",
                "figures": {"mean_diff_bps_per_day": 3.2, "p_value": 0.012, "trades": 340},
            }
        ),
        messages.promotion(
            {
                "symbol": "ETH-USDT",
                "promoted": False,
                "champion_before": "20241230_020000Z",
                "champion_after": "20241230_020000Z",
                "reason": "not significant",
                "figures": {"mean_diff_bps_per_day": float("nan"), "p_value": None, "trades": 0},
            }
        ),
        messages.daily_summary(
            {
                "date": "2024-12-31",
                "models_trained": 5,
                "models_passed": 1,
                "models_failed": 4,
                "promotions": 0,
                "trades": 120,
                "hit_rate": None,
                "net_pnl": -12.4,
                "per_coin": [
                    {"symbol": "BTC-USDT", "trades": 30, "net_pnl": -3.1, "champion": None, "reason": "no model passed"}
                ],
            }
        ),
    ]
    for text in texts:
        lines = text.splitlines()
        assert lines[0].startswith("[huracan] ") and len(lines) <= 8
        assert "nan" not in text.lower().replace("n/a", "")
        assert text.isascii() or set(text) - set(map(chr, range(128))) <= {"…"}
    assert "abcdef12" in texts[0] and "2024-12-30|BTC-USDT" in texts[0]
    assert "n/a materializations" in texts[2] and "took n/a" in texts[2]
    assert "… and 4 more" in texts[3]
    assert "15m/candles" in texts[4] and "no_gaps" in texts[4] and "2024-12-05|BTC-USDT" in texts[4]
    assert "bps/day" in texts[5] and "was none" in texts[5]
    assert "n/a bps/day" in texts[6] and "p = n/a" in texts[6]
    assert "hit rate n/a" in texts[7] and "-12.40 USDT" in texts[7] and "BTC-USDT" in texts[7]
    assert "%" in messages.daily_summary({"hit_rate": 0.483}) and "48.3%" in messages.daily_summary({"hit_rate": 0.483})


def test_messages_read_the_champion_book_and_summary_shapes() -> None:
    """The shapes ``huracan_core.champions`` and ``daily_summary`` write: figures per contender, a p-value of the
    decision, promotions as a list, the hit rate in percent, the champion's reason per coin."""
    decision = {
        "symbol": "SOL-USDT",
        "source": "mechanic",
        "promoted": True,
        "winner": "models/SOL-USDT/15m/B",
        "champion_before": "models/SOL-USDT/15m/A",
        "champion_after": "models/SOL-USDT/15m/B",
        "reason": "promoted B: beats the champion by 4.1 bps/day",
        "p_value": 0.0004,
        "figures": {
            "models/SOL-USDT/15m/A": {"status": "champion", "trades": 80, "mean_bps_per_day": 1.0},
            "models/SOL-USDT/15m/B": {"status": "eligible", "trades": 95, "mean_diff_bps_per_day": 4.1},
            "models/SOL-USDT/15m/C": {"status": "eligible", "trades": 10, "mean_diff_bps_per_day": 9.0},
        },
    }
    text = messages.promotion(decision)
    assert "promoted SOL-USDT (mechanic)" in text and "was models/SOL-USDT/15m/A" in text
    assert "+4.10 bps/day" in text and "p < 0.001" in text and "95 trades" in text  # the winner's figures
    kept = messages.promotion(
        {
            **decision,
            "promoted": False,
            "winner": None,
            "p_value": None,
            "champion_after": decision["champion_before"],
            "reason": "kept: not significant",
        }
    )
    assert kept.startswith("[huracan] kept SOL-USDT") and "+9.00 bps/day" in kept and "p = n/a" in kept
    assert messages.promotion({**decision, "figures": {}}).count("\n") == 1  # no figures: no figures line

    summary = {
        "date": "2024-12-31",
        "models_trained": 2,
        "models_passed": 0,
        "models_failed": 2,
        "promotions": [{"symbol": "SOL-USDT"}],
        "promotion_count": 1,
        "trades": 0,
        "hit_rate_pct": None,
        "net_pnl": 0.0,
        "per_coin": [
            {
                "symbol": "BTC-USDT",
                "trades": 12,
                "hit_rate_pct": 41.67,
                "net_pnl": 1.5,
                "champion": None,
                "champion_reason": "no model passed its gates",
            }
        ],
    }
    text = messages.daily_summary(summary)
    assert "1 promotions (SOL-USDT)" in text and "hit rate n/a" in text and "+0.00 USDT" in text
    assert "BTC-USDT: 12 trades, +1.50 USDT, champion none (no model passed its gates)" in text
    assert "41.7%" in messages.daily_summary({"hit_rate_pct": 41.67})


def test_a_check_failing_on_many_partitions_is_one_message_and_a_shared_reason_is_said_once() -> None:
    days = [f"2024-12-{d:02d}|BTC-USDT" for d in range(1, 9)]
    shared = messages.checks_failed("15m/candles", "no_gaps", "WARN", [(d, "3 gaps\nsecond line") for d in days])
    assert shared.count("3 gaps") == 1 and "second line" not in shared
    assert "on 8 partitions" in shared and days[0] in shared and "and 3 more" in shared and days[-1] not in shared
    own = messages.checks_failed(
        "15m/coin_model", "passes_gates", "WARN", [(d, f"short by {n}") for n, d in enumerate(days)]
    )
    assert all(f"{d}: short by {n}" in own for n, d in enumerate(days[: messages.MAX_CAUSES]))
    assert "and 3 more" in own and own.startswith("[huracan] check FAILED (WARN): 15m/coin_model / passes_gates")
