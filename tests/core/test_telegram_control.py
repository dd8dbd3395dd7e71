"""Hamilton's Telegram control against the loopback Bot API: each command's effect on the home and its reply, a
stranger's chat obeyed in nothing, the offset that keeps a restart from applying a command twice, long polling,
and a token that appears in no line (the trading under these commands: ``test_hamilton_telegram.py``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from huracan_core.broadcast.telegram import TelegramClient
from huracan_core.health.pauses import PauseBook, load_book
from huracan_core.paper.control import CONTROL_FILE, Control, load_control
from huracan_core.paper.home import clear_kill, kill_reason
from huracan_core.paper.telegram_control import HELP, TelegramControl
from huracan_core.storage import LocalArtifactStore
from tests.fake_telegram import FakeTelegram

TOKEN = "987654:secret-token-never-shown"
CHAT = "4242"
TF = "15m"
PATTERN = "TREND_UP:long:trend,momentum"
ROSTER = [
    {"symbol": "ETH-USDT", "rank": 1, "trade_ok": True},
    {"symbol": "SOL-USDT", "rank": 2, "trade_ok": False},
    {"symbol": "BTC-USDT", "rank": 3, "trade_ok": True},
]


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN, chat_id=CHAT) as fake:
        yield fake


def control(fake: FakeTelegram, home: Path, token: str = TOKEN) -> TelegramControl:
    client = TelegramClient(token, CHAT, base_url=fake.url, retries=0, timeout_s=2.0)
    return TelegramControl(
        client,
        home,
        status=lambda c: f"STATUS top_n={c.top_n} paused={sorted(c.paused)}",
        roster=lambda: ROSTER,
        store=LocalArtifactStore(home / "archive"),
        timeframe=TF,
        min_interval_s=0.0,  # the rate limit of quick reads is not under test here
    )


def obey(fake: FakeTelegram, bot: TelegramControl, text: str, chat: str = CHAT) -> tuple[list[str], list[str]]:
    """``text`` said in ``chat`` and one read of the chat: the log lines, and the replies sent for it."""
    before = len(fake.texts())
    fake.say(text, chat)
    return bot.poll(0), fake.texts()[before:]


def test_each_command_changes_the_home_and_is_answered(telegram: FakeTelegram, tmp_path: Path) -> None:
    bot = control(telegram, tmp_path)

    _, replies = obey(telegram, bot, "/trade 2")
    assert load_control(tmp_path).top_n == 2
    assert replies == [
        "from the next bar only the roster's top 2 trade: ETH-USDT, SOL-USDT (no champion); open positions run to "
        "their exits"
    ]
    _, replies = obey(telegram, bot, "/pause btc/usdt")
    assert load_control(tmp_path).paused == {"BTC-USDT"} and replies[0].startswith("BTC-USDT paused")
    _, replies = obey(telegram, bot, "/status@HuracanBot")  # a command addressed to the bot in a group
    assert replies == ["STATUS top_n=2 paused=['BTC-USDT']"]
    _, replies = obey(telegram, bot, "/resume BTC-USDT")
    assert load_control(tmp_path).paused == frozenset() and replies[0].startswith("BTC-USDT resumed")
    _, replies = obey(telegram, bot, "/resume BTC-USDT")
    assert replies == ["BTC-USDT was not paused"]
    _, replies = obey(telegram, bot, "/trade all")
    assert load_control(tmp_path).top_n is None and "every coin the roster lets trade" in replies[0]

    _, replies = obey(telegram, bot, "/kill funding spike")
    assert kill_reason(tmp_path) == "Telegram /kill: funding spike" and replies[0].startswith("kill switch ON")
    _, replies = obey(telegram, bot, "/unkill")
    assert kill_reason(tmp_path) is None and replies[0].startswith("kill switch off")

    for text, answer in [
        ("/trade two", "/trade needs a number of coins"),
        ("/trade 0", "/trade needs a number of coins"),
        ("/pause BTCUSDT", "/pause needs a pair"),
        ("hello", HELP),
    ]:
        before = load_control(tmp_path)
        lines, replies = obey(telegram, bot, text)
        assert replies[0].startswith(answer), text
        after = load_control(tmp_path)
        assert (after.top_n, after.paused) == (before.top_n, before.paused), f"{text!r} changed the control"
    assert len(lines) == 1 and lines[0].startswith("telegram: 'hello': ")


class FullDisk(LocalArtifactStore):
    def write_bytes(self, key: str, data: bytes) -> None:
        raise OSError("disk full")


def test_a_pattern_is_paused_and_resumed_in_the_pause_log_and_a_symbol_keeps_its_meaning(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    bot = control(telegram, tmp_path)

    def book() -> PauseBook:
        return load_book(LocalArtifactStore(tmp_path / "archive"), TF)

    _, replies = obey(telegram, bot, f"/pause {PATTERN} lost five in a row")
    (event,) = book().events
    assert (event.pattern, event.action, event.by, event.reason) == (PATTERN, "pause", "telegram", "lost five in a row")
    assert set(book().paused()) == {PATTERN} and not book().paused(on=event.at.date())  # from the next UTC day
    assert replies == [
        f"pattern {PATTERN} ({TF}) paused from {event.effective_from.isoformat()} (UTC): the shadow trader and "
        "Hamilton skip it from that day"
    ]
    assert load_control(tmp_path).paused == frozenset()  # no coin was paused

    _, replies = obey(telegram, bot, f"/pause {PATTERN}")
    assert len(book().events) == 1 and f"pattern {PATTERN} ({TF}): already paused" in replies[0]

    _, replies = obey(telegram, bot, f"/resume {PATTERN}")
    assert [e.action for e in book().events] == ["pause", "resume"] and book().paused() == {}
    assert replies[0].startswith(f"pattern {PATTERN} ({TF}) resumed from ")
    _, replies = obey(telegram, bot, f"/resume {PATTERN}")
    assert len(book().events) == 2 and "already trading" in replies[0]

    obey(telegram, bot, "/pause ETH/USDT")
    _, replies = obey(telegram, bot, "/resume ETH/USDT")
    assert load_control(tmp_path).paused == frozenset() and replies[0].startswith("ETH-USDT resumed")
    assert len(book().events) == 2  # a pair never touches the pattern log

    broken = control(telegram, tmp_path)
    broken.store = FullDisk(tmp_path / "archive")
    lines, replies = obey(telegram, broken, f"/pause {PATTERN}")
    assert replies == [f"pattern {PATTERN} ({TF}): not paused, the pause log cannot be written: disk full"]
    assert len(book().events) == 2 and len(lines) == 1  # nothing recorded


def test_a_message_from_another_chat_changes_nothing_and_is_logged(telegram: FakeTelegram, tmp_path: Path) -> None:
    bot = control(telegram, tmp_path)
    obey(telegram, bot, "/trade 2")
    before = load_control(tmp_path)
    for text in ("/kill", "/trade 1", "/pause ETH/USDT", "/status"):
        lines, replies = obey(telegram, bot, text, chat="666")
        assert replies == [] and lines == [
            f"telegram: refused {text!r} from chat 666: only the configured chat is obeyed"
        ]
    after = load_control(tmp_path)
    assert kill_reason(tmp_path) is None
    assert (after.top_n, after.paused) == (before.top_n, before.paused)
    assert after.telegram_offset is not None and before.telegram_offset is not None
    assert after.telegram_offset == before.telegram_offset + 4  # read past, never to be read again


def test_the_offset_survives_a_restart_so_no_command_is_applied_twice(telegram: FakeTelegram, tmp_path: Path) -> None:
    first = control(telegram, tmp_path)
    update = telegram.say("/kill drawdown", CHAT)
    assert first.poll(0) and kill_reason(tmp_path) == "Telegram /kill: drawdown"
    # the server forgets an update only when a later read confirms it: it still holds the /kill
    assert [u["update_id"] for u in telegram.updates] == [update]
    clear_kill(tmp_path)  # huracan hamilton --unkill, then Hamilton restarts
    restarted = control(telegram, tmp_path)
    assert restarted.poll(0) == [] and kill_reason(tmp_path) is None
    assert telegram.polls == [None, update + 1] and telegram.updates == []
    assert telegram.texts() == [telegram.texts()[0]]  # one reply: the /kill was answered once
    assert (tmp_path / CONTROL_FILE).exists() and not list(tmp_path.glob("*.tmp"))


def test_a_command_sent_while_it_waits_is_obeyed_within_the_wait(telegram: FakeTelegram, tmp_path: Path) -> None:
    bot = control(telegram, tmp_path)
    timer = threading.Timer(0.2, telegram.say, args=("/pause SOL/USDT", CHAT))
    timer.start()
    lines = bot.poll(1.5)  # the wait for the next bar's close is the long poll
    timer.join()
    assert load_control(tmp_path).paused == {"SOL-USDT"} and len(lines) == 1
    assert telegram.texts()[0].startswith("SOL-USDT paused")


def test_the_token_appears_in_no_line_even_when_telegram_refuses_it(
    telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "111:wrong-token-also-secret"
    bot = control(telegram, tmp_path, token=wrong)
    telegram.say("/kill", CHAT)
    lines = bot.poll(0)
    assert kill_reason(tmp_path) is None and load_control(tmp_path) == Control()
    assert lines == [
        "telegram: Telegram getUpdates failed: Telegram rejected the bot token (401 Unauthorized): check "
        "HURACAN_TELEGRAM_TOKEN; reading the chat again in a moment"
    ]
    assert bot.poll(0) == []  # the same failure is said once
    unreachable = TelegramControl(
        TelegramClient(TOKEN, CHAT, base_url="http://127.0.0.1:9", retries=0, timeout_s=1.0),
        tmp_path,
        status=lambda c: "",
        roster=lambda: None,
        store=LocalArtifactStore(tmp_path / "archive"),
        timeframe=TF,
    )
    lines += unreachable.poll(0)
    good = control(telegram, tmp_path)
    lines += obey(telegram, good, "/status")[0]
    shown = "\n".join([*lines, caplog.text, *capsys.readouterr(), repr(good.client), *telegram.texts()])
    assert "connection failed for http://127.0.0.1:9" in shown
    for secret in (TOKEN, wrong, TOKEN.split(":")[1], wrong.split(":")[1]):
        assert secret not in shown
