"""A small Telegram Bot API client that never fails the caller and never leaks its token.

It sends (the Broadcaster) and reads the chat's messages (``get_updates``: Hamilton's Telegram control).

The Broadcaster tells people what the platform did; losing a message must never lose a run, so ``send`` retries
what can pass later (429, 5xx, timeouts, refused connections) with backoff, gives up on what cannot (a rejected
token or chat), logs one clear line either way and returns ``False`` instead of raising. The token is part of
every request URL, so every line this module logs goes through ``_redact`` first — urllib's own errors included.
Standard library only (``urllib.request``): no dependency for one POST.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

DEFAULT_BASE_URL = "https://api.telegram.org"
#: Telegram's limit on a message's text, counted in UTF-16 code units
MAX_MESSAGE_CHARS = 4096
ELLIPSIS = "…"
TOKEN_VARIABLE = "HURACAN_TELEGRAM_TOKEN"
CHAT_VARIABLE = "HURACAN_TELEGRAM_CHAT_ID"
URL_VARIABLE = "HURACAN_TELEGRAM_URL"
REDACTED = "<token>"

#: what each permanent refusal means for the person reading the log
_PERMANENT = {
    400: f"Telegram refused the message ({{status}}): check {CHAT_VARIABLE}",
    401: f"Telegram rejected the bot token ({{status}}): check {TOKEN_VARIABLE}",
    403: f"Telegram refused the message ({{status}}): the bot may not write to the chat in {CHAT_VARIABLE}",
    404: f"Telegram did not find the bot ({{status}}): check {TOKEN_VARIABLE} and {URL_VARIABLE}",
}


def truncate(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to Telegram's limit with a final "…"; Telegram counts UTF-16 units, so an emoji counts 2."""
    if _utf16_len(text) <= limit:
        return text
    kept, used = [], _utf16_len(ELLIPSIS)
    for char in text:
        used += _utf16_len(char)
        if used > limit:
            break
        kept.append(char)
    return "".join(kept) + ELLIPSIS


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Outcome:
    """One attempt's result: sent, or why not and whether trying again can help."""

    def __init__(
        self,
        sent: bool,
        reason: str = "",
        retry: bool = False,
        wait_s: float | None = None,
        answer: dict[str, Any] | None = None,
    ) -> None:
        self.sent, self.reason, self.retry, self.wait_s = sent, reason, retry, wait_s
        #: Telegram's answer when it accepted the request
        self.answer = answer or {}


class TelegramClient:
    """Sends plain-text messages to one chat and reads what is sent to the bot. ``retries`` is how many times a
    failed send is tried again."""

    def __init__(
        self,
        token: str,
        chat_id: str,
        base_url: str = DEFAULT_BASE_URL,
        retries: int = 3,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        logger: logging.Logger | None = None,
        max_wait_s: float = 30.0,
    ) -> None:
        self._token = (token or "").strip()
        self.chat_id = (chat_id or "").strip()
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.retries = max(0, int(retries))
        self.backoff_s = max(0.0, float(backoff_s))
        self.timeout_s = float(timeout_s)
        self.max_wait_s = max(0.0, float(max_wait_s))
        self.log = logger or logging.getLogger("huracan.broadcast")
        self._announced_off = False
        #: why the newest ``send`` failed (redacted); None when it was sent or the Broadcaster is off
        self.last_failure: str | None = None

    @property
    def enabled(self) -> bool:
        """Both a token and a chat id are set; otherwise the Broadcaster is off and ``send`` does nothing."""
        return bool(self._token and self.chat_id)

    def __repr__(self) -> str:  # the token stays out of reprs, hence out of tracebacks' locals and debuggers
        return f"TelegramClient(chat_id={self.chat_id!r}, base_url={self.base_url!r}, enabled={self.enabled})"

    def send(self, text: str) -> bool:
        """Post ``text`` to the chat; ``True`` once Telegram accepted it. Never raises; ``last_failure`` says why not."""
        self.last_failure = None
        try:
            return self._send(text)
        except Exception as error:
            self._fail(f"Telegram message not sent: unexpected {type(error).__name__}: {error}")
            return False

    def _send(self, text: str) -> bool:
        if not self.enabled:
            if not self._announced_off:
                self._emit(logging.INFO, f"Broadcaster is off ({self._unset()} not set); message not sent")
                self._announced_off = True
            return False
        if not text or not text.strip():
            self._fail("Telegram message not sent: the text is empty", logging.WARNING)
            return False
        body = json.dumps({"chat_id": self.chat_id, "text": truncate(text), "disable_web_page_preview": True}).encode(
            "utf-8"
        )
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            outcome = self._post(body)
            if outcome.sent:
                return True
            if not outcome.retry:
                self._fail(f"{outcome.reason}; message not sent")
                return False
            if attempt == attempts:
                break
            wait = outcome.wait_s if outcome.wait_s is not None else self.backoff_s * 2 ** (attempt - 1)
            wait = min(wait, self.max_wait_s)
            self._emit(
                logging.WARNING,
                f"Telegram send failed ({outcome.reason}); retrying in {wait:.1f} s (attempt {attempt} of {attempts})",
            )
            time.sleep(wait)
        self._fail(f"Telegram message not sent after {attempts} attempts: {outcome.reason}")
        return False

    def check(self) -> tuple[bool, str]:
        """Ask Telegram whether it accepts the token (``getMe``, once, no retry): ``huracan health`` runs this, and a
        health probe must answer within its timeout. Never raises; the reason is redacted like every log line."""
        if not self.enabled:
            return False, f"{self._unset()} not set: the Broadcaster is off"
        try:
            outcome = self._post(b"{}", method="getMe")
        except Exception as error:
            outcome = _Outcome(False, f"unexpected {type(error).__name__}: {error}")
        return outcome.sent, self._redact(f"{self.base_url} accepts the bot token" if outcome.sent else outcome.reason)

    def _unset(self) -> str:
        """The variables whose absence turns the Broadcaster off: ``HURACAN_TELEGRAM_TOKEN and …``."""
        return " and ".join(n for n, v in ((TOKEN_VARIABLE, self._token), (CHAT_VARIABLE, self.chat_id)) if not v)

    def get_updates(self, offset: int | None, wait_s: int) -> list[dict[str, Any]] | None:
        """The chat messages sent to the bot from ``offset`` on (Telegram's update ids; every update before it is
        confirmed, and Telegram forgets it), waiting up to ``wait_s`` seconds for one to come (long polling).

        None when Telegram could not be asked (off, refused, unreachable): ``last_failure`` says why, redacted.
        Nothing is logged here: the caller polls again in a moment and decides how often a failure is worth a line.
        """
        self.last_failure = None
        if not self.enabled:
            self.last_failure = f"Telegram control is off: {self._unset()} not set"
            return None
        query: dict[str, Any] = {"timeout": max(0, int(wait_s)), "allowed_updates": ["message"]}
        if offset is not None:
            query["offset"] = offset
        try:
            outcome = self._post(json.dumps(query).encode("utf-8"), "getUpdates", self.timeout_s + query["timeout"])
        except Exception as error:
            self.last_failure = self._redact(f"Telegram getUpdates failed: unexpected {type(error).__name__}: {error}")
            return None
        result = outcome.answer.get("result") if outcome.sent else None
        if not isinstance(result, list):
            self.last_failure = self._redact(
                f"Telegram getUpdates failed: {outcome.reason or 'the answer holds no list of updates'}"
            )
            return None
        return [update for update in result if isinstance(update, dict) and isinstance(update.get("update_id"), int)]

    def _post(self, body: bytes, method: str = "sendMessage", timeout_s: float | None = None) -> _Outcome:
        url = f"{self.base_url}/bot{quote(self._token, safe=':')}/{method}"
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(
                request, timeout=self.timeout_s if timeout_s is None else timeout_s
            ) as response:
                answer = _json(response.read())
                if answer.get("ok") is True:
                    return _Outcome(True, answer=answer)
                return self._refusal(response.status, answer)
        except urllib.error.HTTPError as error:
            with error:
                try:
                    raw = error.read()
                except (OSError, http.client.HTTPException):  # the error page itself was cut short
                    raw = b""
                return self._refusal(error.code, _json(raw))
        except (http.client.InvalidURL, ValueError) as error:  # e.g. whitespace in the token, a bad scheme
            return _Outcome(
                False, f"invalid Telegram URL or token ({error}): check {TOKEN_VARIABLE} and {URL_VARIABLE}"
            )
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, cut short
            reason = getattr(error, "reason", error)
            kind = "timed out" if isinstance(reason, TimeoutError) else "connection failed"
            return _Outcome(False, f"{kind} for {self.base_url}: {reason or type(error).__name__}", retry=True)

    def _refusal(self, code: int, answer: dict[str, Any]) -> _Outcome:
        code = answer["error_code"] if isinstance(answer.get("error_code"), int) else code
        description = str(answer.get("description") or "no description")
        status = f"{code} {description}"
        if code == 429:
            parameters = answer.get("parameters")
            retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
            wait = float(retry_after) if isinstance(retry_after, int | float) and math.isfinite(retry_after) else None
            return _Outcome(
                False, f"429 {description}", retry=True, wait_s=max(0.0, wait) if wait is not None else None
            )
        if code >= 500:
            return _Outcome(False, status, retry=True)
        template = _PERMANENT.get(code, "Telegram refused the message ({status})")
        return _Outcome(False, template.format(status=status))

    def _fail(self, reason: str, level: int = logging.ERROR) -> None:
        self.last_failure = self._redact(reason)
        self._emit(level, reason)

    def _emit(self, level: int, message: str) -> None:
        self.log.log(level, self._redact(message))

    def _redact(self, text: str) -> str:
        if not self._token:
            return text
        for form in {self._token, quote(self._token, safe=":"), quote(self._token, safe="")}:
            text = text.replace(form, REDACTED)
        return text


def _json(raw: bytes) -> dict[str, Any]:
    """Telegram's answer as a dict; anything else (a proxy's HTML page) as an empty one."""
    try:
        value = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
