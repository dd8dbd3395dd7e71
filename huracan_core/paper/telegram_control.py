"""Hamilton obeys its Telegram chat: the Broadcaster's bot, read by long polling ``getUpdates``.

The Hamilton loop calls ``poll`` while it waits for the next bar's close (and briefly between bars when it has no
time to wait), never during a bar: a command and a bar never interleave, so ``/status`` reads a committed state
and ``/pause`` or ``/trade`` takes effect exactly from the next bar. No thread shares the trader's memory.

Commands (``/help`` lists them):

* ``/status``: positions, the day's P&L, the breakers, what is paused;
* ``/trade N``: only the roster's top N coins trade (``/trade all``: every coin the roster lets trade);
* ``/pause SYMBOL``, ``/resume SYMBOL``: no new entry for the coin, or again;
* ``/pause PATTERN [reason]``, ``/resume PATTERN``: a pattern key (``REGIME:side:engines``, told from a pair by its
  ``:``) paused or lifted in the Archive's pause log (``health.pauses``, by ``telegram``), as ``huracan health
  pause|resume`` does: from the next UTC day, for the shadow trader and Hamilton alike;
* ``/kill [reason]``, ``/unkill``: the home's kill switch file, as ``huracan hamilton --kill`` writes it.

Only the configured chat (``HURACAN_TELEGRAM_CHAT_ID``) is obeyed; a message from any other chat changes nothing,
gets no answer and is logged. Each command's effect on the home and the next update id to read are committed in one atomic
replace (``control``) before the reply is sent: a restart never applies a command twice (a reply may be lost if
the process dies in between, never doubled); a pattern's pause or lift is recorded in the log before that
replace, and the log refuses an action that changes nothing, so a command read again after a crash is answered
"already paused" and recorded once. The token stays inside ``TelegramClient``, whose every line is
redacted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from huracan_core.broadcast.telegram import TelegramClient
from huracan_core.health.pauses import PauseEvent, record
from huracan_core.paper.control import Control, load_control, save_control
from huracan_core.paper.home import clear_kill, press_kill
from huracan_core.storage.store import ArtifactStore
from huracan_core.symbols import is_pair, to_key

HELP = (
    "Hamilton obeys: /status · /trade N (only the roster's top N trade; /trade all) · /pause SYMBOL · "
    "/resume SYMBOL · /pause PATTERN [reason] · /resume PATTERN (REGIME:side:engines, from the next UTC day) · "
    "/kill [reason] (close everything at the next bar, no entry) · /unkill"
)
#: Telegram holds a long poll at most this long; the loop asks again for the rest of its wait
MAX_POLL_S = 25
#: between bars with no time to wait, the chat is read at most this often (a request a bar would slow a fast replay)
MIN_INTERVAL_S = 1.0
#: after a failed read, wait this long (within the loop's wait) before asking again
RETRY_S = 5.0


class TelegramControl:
    """``status`` gives ``/status``'s text for the control in force; ``roster`` the roster's coins in rank order
    (None without a roster), to name what ``/trade N`` keeps; ``store`` and ``timeframe``: the Archive and
    timeframe whose pattern pause log ``/pause PATTERN`` and ``/resume PATTERN`` act on; ``min_interval_s``: how
    often a quick read (no time to wait) is made at most."""

    def __init__(
        self,
        client: TelegramClient,
        home: Path,
        *,
        status: Callable[[Control], str],
        roster: Callable[[], list[dict[str, Any]] | None],
        store: ArtifactStore,
        timeframe: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        min_interval_s: float = MIN_INTERVAL_S,
    ) -> None:
        self.client, self.home = client, home
        self.status, self.roster = status, roster
        self.store, self.timeframe = store, timeframe
        self.clock, self.sleep, self.min_interval_s = clock, sleep, min_interval_s
        self.control = load_control(home)
        self._failure: str | None = None
        self._last_poll = float("-inf")

    def poll(self, wait_s: float) -> list[str]:
        """Read and obey the chat for ``wait_s`` seconds (0: one quick read, at most once a second); returns
        what happened, one line each, for Hamilton's log."""
        lines: list[str] = []
        if wait_s <= 0 and self.clock() - self._last_poll < self.min_interval_s:
            return lines
        deadline = self.clock() + max(wait_s, 0.0)
        while True:
            left = deadline - self.clock()
            updates = self.client.get_updates(self.control.telegram_offset, int(min(max(left, 0.0), MAX_POLL_S)))
            self._last_poll = self.clock()
            if updates is None:
                if self.client.last_failure != self._failure:
                    lines.append(f"telegram: {self.client.last_failure}; reading the chat again in a moment")
                self._failure = self.client.last_failure
            else:
                if self._failure is not None:
                    lines.append("telegram: the chat is read again")
                self._failure = None
                for update in sorted(updates, key=lambda u: u["update_id"]):
                    lines += self._obey(update)
            left = deadline - self.clock()
            if left <= 0:
                return lines
            if updates is None or left < 1:
                self.sleep(min(left, RETRY_S) if updates is None else left)
                if updates is not None:
                    return lines

    def _obey(self, update: dict[str, Any]) -> list[str]:
        update_id = update["update_id"]
        if self.control.telegram_offset is not None and update_id < self.control.telegram_offset:
            return []  # read and committed before: never applied twice
        message = update.get("message") or {}
        chat = str((message.get("chat") or {}).get("id", ""))
        text = str(message.get("text") or "").strip()
        if chat != self.client.chat_id:
            self._commit(self.control, update_id)
            return [f"telegram: refused {text[:60]!r} from chat {chat or '(none)'}: only the configured chat is obeyed"]
        control, reply, line = self._command(text)
        self._commit(control, update_id)
        self.client.send(reply)
        return [f"telegram: {text[:60]!r}: {line}"]

    def _commit(self, control: Control, update_id: int) -> None:
        self.control = control.with_offset(update_id + 1)
        save_control(self.home, self.control)

    def _command(self, text: str) -> tuple[Control, str, str]:
        """The control after ``text``, the reply, and a line for the log."""
        word, _, argument = text.partition(" ")
        name, argument = word.split("@", 1)[0].lower(), argument.strip()
        control = self.control
        if name == "/status":
            return control, self.status(control), "status sent"
        if name == "/trade":
            return self._trade(argument)
        if name in ("/pause", "/resume") and ":" in argument:
            return self._pattern(name, argument)
        if name in ("/pause", "/resume"):
            if not is_pair(argument):
                return control, f"{name} needs a pair, e.g. {name} BTC/USDT", "refused: no pair given"
            symbol = to_key(argument)
            if name == "/pause":
                paused = control.paused | {symbol}
                reply = f"{symbol} paused: no new entry from the next bar; an open position runs to its exit"
            else:
                paused = control.paused - {symbol}
                reply = (
                    f"{symbol} resumed: it may enter again from the next bar"
                    if symbol in control.paused
                    else f"{symbol} was not paused"
                )
            return replace(control, paused=frozenset(paused)), reply, reply
        if name == "/kill":
            reason = f"Telegram /kill: {argument}" if argument else "Telegram /kill"
            press_kill(self.home, reason)
            reply = "kill switch ON: every position closes at the next bar and no entry is made until /unkill"
            return control, reply, reply
        if name == "/unkill":
            reply = (
                "kill switch off: entries allowed from the next bar"
                if clear_kill(self.home)
                else "the kill switch was not on"
            )
            return control, reply, reply
        return control, HELP, "answered with the commands (not a command)"

    def _pattern(self, name: str, argument: str) -> tuple[Control, str, str]:
        """``/pause PATTERN [reason]`` or ``/resume PATTERN``: one event in the pause log, as the CLI records it."""
        pattern, _, reason = argument.partition(" ")
        action = "pause" if name == "/pause" else "resume"
        event = PauseEvent(pattern, action, "telegram", datetime.now(UTC), reason.strip() or f"Telegram {name}")
        try:
            record(self.store, self.timeframe, [event])
        except ValueError as error:  # the pattern already is as asked
            return self.control, str(error), f"refused: {error}"
        except OSError as error:  # the Archive cannot be written now: said, and the loop trades on
            reply = f"pattern {pattern} ({self.timeframe}): not {action}d, the pause log cannot be written: {error}"
            return self.control, reply, reply
        skip = "skip it" if action == "pause" else "trade it again"
        reply = (
            f"pattern {pattern} ({self.timeframe}) {action}d from {event.effective_from.isoformat()} (UTC): the "
            f"shadow trader and Hamilton {skip} from that day"
        )
        return self.control, reply, reply

    def _trade(self, argument: str) -> tuple[Control, str, str]:
        control = self.control
        if argument.lower() == "all":
            reply = "from the next bar every coin the roster lets trade may trade"
            return replace(control, top_n=None), reply, reply
        if not argument.isdigit() or int(argument) < 1:
            return control, "/trade needs a number of coins, 1 or more (or all), e.g. /trade 2", "refused: no number"
        n = int(argument)
        roster = self.roster() or []
        named = (
            ", ".join(e["symbol"] + ("" if e.get("trade_ok") else " (no champion)") for e in roster[:n])
            or "no roster yet"
        )
        reply = f"from the next bar only the roster's top {n} trade: {named}; open positions run to their exits"
        return replace(control, top_n=n), reply, reply
