"""Hamilton trading a planted champion on three coins while its Telegram chat steers it (loopback Bot API): the
chat is read between bars, each command applies from the next bar, and a stranger's chat changes nothing.

The script: ``/trade 2`` before the first bar (the roster's third coin is never scored), ``/pause`` of the first
coin and ``/trade all`` after the fourth (the first enters no more, the third trades), ``/kill`` after the seventh
(everything closes at the next bar), then ``/unkill`` from another chat (nothing changes) and ``/status``.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from huracan_core.broadcast.telegram import TelegramClient
from huracan_core.candles import day_start
from huracan_core.paper.control import load_control
from huracan_core.paper.forward import CandleFeed, MarketClock, trade_forward
from huracan_core.paper.home import kill_reason
from huracan_core.paper.logs import read_logs
from huracan_core.paper.status import status_text
from huracan_core.paper.telegram_control import TelegramControl
from huracan_core.paper.trader import BarReport, PaperConfig, PaperTrader
from huracan_core.risk import RiskSettings
from huracan_core.sources import open_source
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import roster_key
from tests.core.planted_champion import (
    COIN,
    COSTS,
    DAY,
    PAIRS,
    STEP,
    TF,
    publish,
    publish_as,
    trading_champion,
)
from tests.fake_telegram import FakeTelegram

TOKEN, CHAT = "555:control-token", "77"
FIRST, SECOND, THIRD = COIN, "XRP-USDT", "SOL-USDT"  # the roster's order
START = day_start(DAY)
BARS = [START + n * STEP for n in range(9)]
#: what is said in the chat after the bar of each index is done (-1: before the first)
SCRIPT = {
    -1: [("/trade 2", CHAT)],
    3: [("/pause ETH/USDT", CHAT), ("/trade all", CHAT)],
    6: [("/kill leaving for the day", CHAT)],
    7: [("/unkill", "666")],
    8: [("/status", CHAT)],
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> LocalArtifactStore:
    store = LocalArtifactStore(tmp_path_factory.mktemp("archive"))
    part = trading_champion()
    publish(store, part)
    for coin in (SECOND, THIRD):
        publish_as(store, part, coin)
    symbols = [{"symbol": c, "trade_ok": True, "rank": n} for n, c in enumerate((FIRST, SECOND, THIRD), 1)]
    store.write_json(roster_key(TF), {"date": DAY.isoformat(), "symbols": symbols})
    return store


def test_telegram_commands_steer_the_trading_from_the_next_bar(store: LocalArtifactStore, tmp_path) -> None:
    home = tmp_path / "home"
    trader = PaperTrader(store, PaperConfig(TF, costs=COSTS, universe=lambda days: {d: PAIRS for d in days}))
    with FakeTelegram(token=TOKEN, chat_id=CHAT) as telegram:
        bot = TelegramControl(
            TelegramClient(TOKEN, CHAT, base_url=telegram.url, retries=0),
            home,
            status=lambda control: status_text(trader.state, RiskSettings(), control, kill_reason(home), TF),
            roster=trader.roster,
            store=store,
            timeframe=TF,
            min_interval_s=0.0,
        )
        lines: list[str] = []

        def idle(seconds: float) -> None:
            lines.extend(bot.poll(seconds))

        def report(result: BarReport, _: float) -> None:
            for text, chat in SCRIPT.get(BARS.index(result.bar), []):
                telegram.say(text, chat)

        for text, chat in SCRIPT[-1]:
            telegram.say(text, chat)
        done = trade_forward(
            trader,
            CandleFeed(open_source("bundled"), TF),
            first=START,
            end=BARS[-1] + STEP,
            clock=MarketClock(START + STEP, 0.0),
            kill=lambda: kill_reason(home),
            control=lambda: load_control(home),
            report=report,
            idle=idle,
        )
        lines += bot.poll(0)  # the /status said after the last bar
        replies = telegram.texts()
    assert done == len(BARS)

    decisions = read_logs(store, "decisions", TF)
    trades = read_logs(store, "trades", TF)

    def outcomes(symbol: str, bars: list[datetime]) -> set[str]:
        rows = decisions.filter((pl.col("symbol") == symbol) & pl.col("bar_time").is_in(bars))
        assert rows.height == len(bars), f"{symbol}: one decision a bar"
        return set(rows["outcome"])

    def entries(symbol: str, bars: list[datetime]) -> int:
        rows = trades.filter((pl.col("symbol") == symbol) & pl.col("bar_time").is_in(bars))
        return rows.filter(pl.col("event") == "entry").height

    top_two, paused, killed = BARS[:4], BARS[4:7], BARS[7:]
    # /trade 2: the third coin is kept out, the top two trade
    assert outcomes(THIRD, top_two) == {"outside_top_n"} and entries(THIRD, top_two) == 0
    assert "approved" in outcomes(FIRST, top_two) | outcomes(SECOND, top_two)
    assert entries(FIRST, BARS[1:4]) + entries(SECOND, BARS[1:4]) > 0
    # /pause of the first and /trade all: the first enters no more (an entry waiting is dropped), the third trades
    assert outcomes(FIRST, paused) == {"paused"} and entries(FIRST, paused + killed) == 0
    assert "approved" in outcomes(THIRD, paused)
    dropped = trades.filter(pl.col("event") == "dropped")
    assert set(dropped.filter(pl.col("bar_time") == BARS[4])["symbol"]) <= {FIRST}
    # /kill: every position closes at the next bar, no entry; /unkill from another chat changes nothing
    closed = trades.filter((pl.col("bar_time") == BARS[7]) & (pl.col("event") == "exit"))
    held_before = read_logs(store, "equity", TF).filter(pl.col("bar_time") == BARS[6])["positions"][0]
    assert closed.height == held_before > 0  # at the kill switch's close, or by its own exit inside the bar
    equity = read_logs(store, "equity", TF).filter(pl.col("bar_time").is_in(killed))
    assert equity["positions"].to_list() == [0, 0] and all(equity["killed"])
    assert not decisions.filter(pl.col("bar_time").is_in(killed))["outcome"].is_in(["approved"]).any()
    assert kill_reason(home) == "Telegram /kill: leaving for the day"
    assert any("refused '/unkill' from chat 666" in line for line in lines)
    # every command from the configured chat is answered once, in order, and /status tells the state
    assert len(replies) == 5
    assert replies[0].startswith("from the next bar only the roster's top 2 trade: ETH-USDT, XRP-USDT")
    assert replies[1].startswith("ETH-USDT paused") and replies[3].startswith("kill switch ON")
    status = replies[4]
    assert f"last bar {BARS[-1]:%Y-%m-%d %H:%M} UTC" in status and "positions: none" in status
    assert "paused: ETH-USDT" in status and "kill switch: ON (Telegram /kill: leaving for the day)" in status
    assert "daily loss stop" in status and "losing streak" in status
