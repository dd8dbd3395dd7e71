"""A loopback HTTP server that answers like Binance: ``/api/v3/time``, ``/api/v3/klines`` from real candles,
``/api/v3/exchangeInfo`` for the pairs it serves, ``/api/v3/depth`` from a book the test builds (``books``) and the
USDⓈ-M ``/fapi/v1/fundingRate`` history from settlements it sets (``funding``).

ccxt's own request building, HTTP, error mapping and parsing run against it; ``faults`` scripts what the next
requests get (a 429, a stall longer than the client's timeout) so retries are exercised for real.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import polars as pl


class FakeBinance:
    def __init__(self, candles: dict[str, pl.DataFrame], max_limit: int = 1000) -> None:
        self.candles = {s: f.sort("timestamp") for s, f in candles.items()}
        self.max_limit = max_limit
        #: exchange id (``BTCUSDT``) -> {"bids": [(price, amount)…] best first, "asks": […]}
        self.books: dict[str, dict[str, list[tuple[float, float]]]] = {}
        #: exchange id -> [(funding time ms, rate)…] of its perpetual
        self.funding: dict[str, list[tuple[int, float]]] = {}
        self.faults: deque[str] = deque()  # "429", "stall", "500" — consumed one per request
        self.stall_s = 1.0
        self.requests: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v3"

    @property
    def futures_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/fapi/v1"

    def __enter__(self) -> FakeBinance:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def klines(self, query: dict[str, str]) -> list[list]:
        frame = self.candles[query["symbol"]]
        start = int(query.get("startTime", 0))
        limit = min(int(query.get("limit", 500)), self.max_limit)
        ts = pl.col("timestamp").dt.epoch("ms")
        cond = ts >= start
        if "endTime" in query:
            cond &= ts <= int(query["endTime"])
        page = frame.filter(cond).head(limit)
        step = 900_000
        return [
            [
                int(r["timestamp"].timestamp() * 1000),
                f"{r['open']:.8f}",
                f"{r['high']:.8f}",
                f"{r['low']:.8f}",
                f"{r['close']:.8f}",
                f"{r['volume']:.8f}",
                int(r["timestamp"].timestamp() * 1000) + step - 1,
                f"{r.get('quote_volume') or 0:.8f}",
                int(r.get("trades") or 0),
                "0",
                "0",
                "0",
            ]
            for r in page.iter_rows(named=True)
        ]

    def exchange_info(self) -> dict:
        """Binance's spot ``exchangeInfo`` for the pairs served (``BTCUSDT``: BTC/USDT), so that a ccxt exchange
        built in another process loads its markets from here (with ``options.fetchMarkets`` ``["spot"]``)."""
        return {
            "timezone": "UTC",
            "serverTime": int(time.time() * 1000),
            "rateLimits": [],
            "symbols": [
                {
                    "symbol": pair,
                    "status": "TRADING",
                    "baseAsset": pair.removesuffix("USDT"),
                    "quoteAsset": "USDT",
                    "baseAssetPrecision": 8,
                    "quotePrecision": 8,
                    "quoteAssetPrecision": 8,
                    "orderTypes": ["LIMIT", "MARKET"],
                    "isSpotTradingAllowed": True,
                    "isMarginTradingAllowed": False,
                    "permissions": ["SPOT"],
                    "filters": [
                        {
                            "filterType": "PRICE_FILTER",
                            "minPrice": "0.00000001",
                            "maxPrice": "1000000",
                            "tickSize": "0.00000001",
                        },
                        {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000000", "stepSize": "0.00001"},
                    ],
                }
                for pair in sorted(self.candles)
            ],
        }

    def depth(self, query: dict[str, str]) -> dict:
        """Binance's spot depth: price and quantity as strings, ``limit`` levels a side (no timestamp)."""
        book = self.books[query["symbol"]]
        limit = int(query.get("limit", 100))
        return {
            "lastUpdateId": 1,
            **{side: [[f"{p:.8f}", f"{a:.8f}"] for p, a in book[side][:limit]] for side in ("bids", "asks")},
        }

    def funding_rates(self, query: dict[str, str]) -> list[dict]:
        """Binance's ``fundingRate`` history: settlements within ``startTime``..``endTime``, oldest first."""
        start, end = int(query.get("startTime", 0)), int(query.get("endTime", 2**62))
        rows = [(t, r) for t, r in sorted(self.funding.get(query["symbol"], [])) if start <= t <= end]
        return [
            {"symbol": query["symbol"], "fundingTime": t, "fundingRate": f"{r:.8f}", "markPrice": "0"}
            for t, r in rows[: int(query.get("limit", 100))]
        ]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: object) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                fake.requests.append({"path": parsed.path, **query})
                fault = fake.faults.popleft() if fake.faults else None
                if fault == "429":
                    return self._send(
                        429,
                        {"code": -1003, "msg": "Too many requests; current limit is 6000 request weight per 1 MINUTE."},
                    )
                if fault == "stall":
                    time.sleep(fake.stall_s)
                    return self._send(200, [])
                if parsed.path.endswith("/api/v3/time"):  # what a health check asks: the cheapest call there is
                    return self._send(200, {"serverTime": int(time.time() * 1000)})
                if parsed.path.endswith("/api/v3/exchangeInfo"):
                    return self._send(200, fake.exchange_info())
                if parsed.path.endswith("/klines"):
                    return self._send(200, fake.klines(query))
                if parsed.path.endswith("/api/v3/depth"):
                    return self._send(200, fake.depth(query))
                if parsed.path.endswith("/fapi/v1/fundingRate"):
                    return self._send(200, fake.funding_rates(query))
                return self._send(404, {"code": -1, "msg": f"no route {parsed.path}"})

        return Handler


#: Binance's price increments (PRICE_FILTER tickSize) of the pairs served, spot and perpetual alike
TICKS = {"BTC": 0.01, "ETH": 0.01}


def binance_exchange(url: str, timeout_ms: int = 2_000):
    """A real ``ccxt.binance`` pointed at the loopback server (spot and USDⓈ-M futures), with markets set so no
    exchangeInfo is needed: BTC and ETH spot, and their linear perpetuals ``BASE/USDT:USDT``."""
    import ccxt

    exchange = ccxt.binance({"enableRateLimit": True, "timeout": timeout_ms, "rateLimit": 5})
    exchange.urls["api"]["public"] = url
    exchange.urls["api"]["fapiPublic"] = url.replace("/api/v3", "/fapi/v1")
    exchange.set_markets(
        [
            {
                "id": f"{base}USDT",
                "symbol": f"{base}/USDT",
                "base": base,
                "quote": "USDT",
                "baseId": base,
                "quoteId": "USDT",
                "type": "spot",
                "spot": True,
                "margin": False,
                "swap": False,
                "future": False,
                "option": False,
                "contract": False,
                "linear": None,
                "inverse": None,
                "active": True,
                "precision": {"amount": 0.00001, "price": TICKS[base]},
                "limits": {},
                "info": {},
            }
            for base in TICKS
        ]
        + [
            {
                "id": f"{base}USDT",
                "symbol": f"{base}/USDT:USDT",
                "base": base,
                "quote": "USDT",
                "settle": "USDT",
                "baseId": base,
                "quoteId": "USDT",
                "settleId": "USDT",
                "type": "swap",
                "spot": False,
                "margin": False,
                "swap": True,
                "future": False,
                "option": False,
                "contract": True,
                "linear": True,
                "inverse": False,
                "contractSize": 1.0,
                "active": True,
                "precision": {"amount": 0.001, "price": TICKS[base]},
                "limits": {},
                "info": {},
            }
            for base in TICKS
        ]
    )
    return exchange
