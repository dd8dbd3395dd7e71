"""A loopback HTTP server shaped like the Telegram Bot API's ``sendMessage``, ``getMe`` and ``getUpdates``, for the
Broadcaster's tests, the health check's and Hamilton's Telegram control tests.

``POST /bot<token>/sendMessage`` with a JSON body: the accepted token gets ``{"ok": true, "result": …}``, any
other token Telegram's 401. ``faults`` scripts the next answers ("429" with ``retry_after`` 0, "500", or
"stall": no answer for ``stall_s``), so the client's retries and timeouts run against real HTTP.

``POST /bot<token>/getUpdates`` answers as Telegram does: ``offset`` confirms (and forgets) every update before it,
the updates from it on are returned, and with none waiting the call is held up to ``timeout`` seconds for one to
come (long polling). ``say`` adds a chat message as an update. Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>sendMessage|getMe|getUpdates)$")


class FakeTelegram:
    def __init__(self, token: str = "123456:good-token", chat_id: str | None = None) -> None:
        self.token = token
        self.chat_id = chat_id  # None: any chat is accepted
        self.faults: deque[str] = deque()  # "429", "500" or "stall", consumed one per request
        self.stall_s = 1.0
        self.messages: list[dict[str, Any]] = []  # accepted messages' JSON bodies
        self.requests = 0
        #: updates not yet confirmed by an offset past them, oldest first
        self.updates: list[dict[str, Any]] = []
        #: the ``offset`` of every getUpdates call (None: not given)
        self.polls: list[int | None] = []
        self._next_update = 1
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def texts(self) -> list[str]:
        with self._lock:
            return [m["text"] for m in self.messages]

    def say(self, text: str, chat_id: int | str) -> int:
        """A person writes ``text`` in chat ``chat_id``: the update it becomes (its id is returned)."""
        with self._arrived:
            update_id = self._next_update
            self._next_update += 1
            self.updates.append(
                {
                    "update_id": update_id,
                    "message": {
                        "message_id": update_id,
                        "date": int(time.time()),
                        "chat": {"id": int(chat_id), "type": "private"},
                        "from": {"id": int(chat_id), "is_bot": False, "first_name": "Tester"},
                        "text": text,
                    },
                }
            )
            self._arrived.notify_all()
            return update_id

    def take_stall(self) -> bool:
        with self._lock:
            if self.faults and self.faults[0] == "stall":
                self.faults.popleft()
                return True
            return False

    def answer(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests += 1
            match = PATH.match(path)
            if not match:
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            if match["token"] != self.token:
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            if match["method"] == "getMe":  # who the bot is: what a health check asks
                return 200, {"ok": True, "result": {"id": 123456, "is_bot": True, "username": "huracan_test_bot"}}
            if self.faults:
                fault = self.faults.popleft()
                if fault == "429":
                    return 429, {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 0",
                        "parameters": {"retry_after": 0},
                    }
                return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
            try:
                message = json.loads(body or b"{}")
            except ValueError:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"}
            if match["method"] == "getUpdates":
                return self._updates(message)
            if not str(message.get("text", "")).strip():
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
            if self.chat_id is not None and str(message.get("chat_id")) != self.chat_id:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            self.messages.append(message)
            result = {"message_id": len(self.messages), "chat": {"id": message.get("chat_id")}, "text": message["text"]}
            return 200, {"ok": True, "result": result}

    def _updates(self, query: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """getUpdates, called holding the lock: the wait releases it, so ``say`` can wake the poll."""
        offset = query.get("offset")
        self.polls.append(offset)
        if offset is not None:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + float(query.get("timeout") or 0)
        while not self.updates and (left := deadline - time.monotonic()) > 0:
            self._arrived.wait(left)
        return 200, {"ok": True, "result": list(self.updates)}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if fake.take_stall():  # answer nothing; the client has timed out by then
                    time.sleep(fake.stall_s)
                    return
                status, answer = fake.answer(self.path, body)
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:  # quiet: the request line carries the token
                pass

        return Handler
