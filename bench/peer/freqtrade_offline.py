"""freqtrade's own CLI, run offline: the exchange's market list comes from a JSON file instead of the network, and
any connection to a host outside the loopback fails at once (freqtrade downloads the markets at start-up, which a
machine without the exchange cannot do, and a benchmark must never reach out).

Runs in the peer venv (bench/peer/.venv), not the project's: it imports freqtrade and nothing of Huracan.

    python freqtrade_offline.py MARKETS_JSON TIMINGS_JSON backtesting --config ... [freqtrade's arguments]

TIMINGS_JSON receives ``import_s`` (importing freqtrade's CLI, its backtesting modules and TA-Lib, after the
interpreter started: what freqtrade's ``main`` would otherwise import on its way) and ``main_s`` (freqtrade's
``main``: configuration, exchange, data, strategy, indicators, the backtest and its report), measured in this
process, so that the caller can tell process start-up from the backtest.
"""

from __future__ import annotations

import importlib
import ipaddress
import json
import socket
import sys
import time
from pathlib import Path

started = time.perf_counter()
#: what ``freqtrade backtesting`` imports on its way (the command's modules, the strategy's TA-Lib)
PRELOADED = ("freqtrade.optimize.backtesting", "freqtrade.optimize.optimize_reports", "talib.abstract")


def loopback_only() -> None:
    """Refuse every name lookup and connection that is not for the loopback, loudly."""
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def is_loopback(host: object) -> bool:
        if host in ("localhost", None):
            return True
        try:
            return ipaddress.ip_address(str(host)).is_loopback
        except ValueError:
            return False

    def guarded_lookup(host, *args, **kwargs):
        if not is_loopback(host):
            raise OSError(f"freqtrade_offline: refused a lookup of {host!r} (this benchmark runs offline)")
        return lookup(host, *args, **kwargs)

    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if isinstance(address, tuple) and not is_loopback(host):
            raise OSError(f"freqtrade_offline: refused a connection to {address!r} (this benchmark runs offline)")
        return connect(self, address)

    socket.getaddrinfo = guarded_lookup
    socket.socket.connect = guarded_connect


def serve_markets(markets: dict) -> None:
    """Replace freqtrade's market download with ``markets`` (ccxt's unified market structure); the rest of
    ``reload_markets`` (copying them to the sync client, the refresh stamp) runs as usual."""
    from freqtrade.exchange.exchange import Exchange

    def load_static(self: Exchange, reload: bool = False) -> None:
        self._api_async.set_markets(markets)

    Exchange._load_async_markets = load_static


def main() -> None:
    markets_file, timings_file, *args = sys.argv[1:]
    loopback_only()
    for module in PRELOADED:
        importlib.import_module(module)
    from freqtrade.main import main as freqtrade_main

    imported = time.perf_counter()
    serve_markets(json.loads(Path(markets_file).read_text()))
    code: int | str | None = 0
    try:
        freqtrade_main(args)
    except SystemExit as stop:
        code = stop.code
    finished = time.perf_counter()
    Path(timings_file).write_text(json.dumps({"import_s": imported - started, "main_s": finished - imported}))
    sys.exit(code)


if __name__ == "__main__":
    main()
