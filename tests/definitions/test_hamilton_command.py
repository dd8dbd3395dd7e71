"""``huracan hamilton``'s glue: the kill switch from the command line, the settings it refuses, the lock, an
unknown exchange refused, and a replay over a home without champions that says so every bar and resumes where it stopped
(the trading itself: ``tests/core/test_paper_trader.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from huracan_core.paper.home import hamilton_lock, kill_reason
from huracan_core.paper.logs import read_logs
from huracan_core.paper.state import load_state
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import roster_key
from huracan_dagster.cli.main import main


def test_the_kill_switch_is_turned_on_and_off_from_the_command_line(huracan_home: Path, capsys) -> None:
    assert main(["hamilton", "--kill", "exchange incident"]) == 0
    assert kill_reason(huracan_home) == "exchange incident" and "kill switch on" in capsys.readouterr().out
    assert main(["hamilton", "--unkill"]) == 0 and kill_reason(huracan_home) is None
    assert main(["hamilton", "--unkill"]) == 0 and "was not on" in capsys.readouterr().out
    assert main(["hamilton", "--kill"]) == 0 and kill_reason(huracan_home) == "huracan hamilton --kill"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HURACAN_RISK_DAILY_LOSS", "0.02", "HURACAN_RISK_DAILY_LOSS='0.02': unknown risk setting(s) daily_loss"),
        ("HURACAN_RISK_DAILY_LOSS_STOP", "2.5", "HURACAN_RISK_DAILY_LOSS_STOP='2.5': risk setting daily_loss_stop=2.5"),
        ("HURACAN_RISK_REGIME_FACTORS", "TREND:1", "give REGIME=FACTOR pairs"),
        ("HURACAN_HAMILTON_MAX_CHAMPION_AGE_DAYS", "-1", "give a number of days above 0"),
        ("HURACAN_CCXT_CONFIG", "{urls", "HURACAN_CCXT_CONFIG='{urls': not JSON"),
        ("HURACAN_CCXT_CONFIG", '{"apiKey": "k", "secret": "s"}', "holds apiKey, secret: Huracan reads public market"),
    ],
)
def test_a_bad_risk_setting_is_refused_naming_it(huracan_home, monkeypatch, capsys, name, value, message) -> None:
    monkeypatch.setenv(name, value)
    assert main(["hamilton", "--unkill"]) == 2
    assert message in capsys.readouterr().err


def test_risk_settings_come_from_the_environment(huracan_home, monkeypatch) -> None:
    from huracan_dagster.settings import Settings

    monkeypatch.setenv("HURACAN_RISK_DAILY_LOSS_STOP", "0.02")
    monkeypatch.setenv("HURACAN_RISK_VOLATILITY_ACTION", "block")
    monkeypatch.setenv("HURACAN_RISK_REGIME_FACTORS", "trend=1, PANIC=0.2,UNKNOWN=0.5")
    risk = Settings.from_env().risk
    assert risk.daily_loss_stop == 0.02 and risk.volatility_action == "block"
    assert dict(risk.regime_factors) == {"TREND": 1.0, "PANIC": 0.2, "UNKNOWN": 0.5}


def test_a_second_hamilton_on_the_home_and_an_unknown_exchange_are_refused(huracan_home: Path, capsys) -> None:
    with hamilton_lock(huracan_home):
        assert main(["hamilton", "--speed", "0"]) == 1
    assert "another Hamilton runs on this home" in capsys.readouterr().err
    assert main(["hamilton", "--source", "ccxt:nosuchexchange"]) == 2
    assert "ccxt has no exchange 'nosuchexchange'" in capsys.readouterr().err


def test_a_replay_without_champions_waits_each_bar_and_resumes_after_its_last(huracan_home: Path, capsys) -> None:
    store = LocalArtifactStore(huracan_home / "archive")
    assert main(["hamilton", "--speed", "0"]) == 2  # no roster and no --start: nothing says where to begin
    assert "no roster and no --start" in capsys.readouterr().err
    store.write_json(roster_key("15m"), {"date": "2024-12-31", "symbols": [{"symbol": "ETH-USDT", "trade_ok": False}]})
    assert main(["hamilton", "--speed", "0"]) == 0
    out = capsys.readouterr().out
    assert "starting at 2024-12-31 00:00 UTC until 2025-01-01 00:00 UTC" in out
    assert out.count("no champion may trade") == 96 and "96 bars; latency from a bar's close" in out
    decisions = read_logs(store, "decisions", "15m")
    assert decisions.height == 96 and set(decisions["outcome"]) == {"no_champion"}
    state = load_state(store, "15m")
    assert (
        state is not None and state.last_bar is not None and state.last_bar.isoformat() == "2024-12-31T23:45:00+00:00"
    )
    assert main(["hamilton", "--speed", "0"]) == 0
    assert "resuming after its last bar at 2025-01-01 00:00 UTC" in capsys.readouterr().out
    assert read_logs(store, "decisions", "15m").height == 96


def test_a_replay_obeys_its_telegram_chat_and_never_prints_the_token(huracan_home: Path, monkeypatch, capsys) -> None:
    from huracan_core.paper.control import load_control
    from tests.fake_telegram import FakeTelegram

    token = "424242:cli-token-never-printed"
    store = LocalArtifactStore(huracan_home / "archive")
    store.write_json(roster_key("15m"), {"date": "2024-12-31", "symbols": [{"symbol": "ETH-USDT", "trade_ok": True}]})
    with FakeTelegram(token=token, chat_id="31") as telegram:
        monkeypatch.setenv("HURACAN_TELEGRAM_TOKEN", token)
        monkeypatch.setenv("HURACAN_TELEGRAM_CHAT_ID", "31")
        monkeypatch.setenv("HURACAN_TELEGRAM_URL", telegram.url)
        telegram.say("/pause ETH/USDT", 31)
        telegram.say("/kill", 32)
        assert main(["hamilton", "--speed", "0", "--end", "2024-12-31"]) == 0
        replies = telegram.texts()
    out = capsys.readouterr()
    assert "Telegram control on: obeying chat 31" in out.out
    assert "telegram: '/pause ETH/USDT': ETH-USDT paused" in out.out
    assert "telegram: refused '/kill' from chat 32: only the configured chat is obeyed" in out.out
    assert replies == [replies[0]] and replies[0].startswith("ETH-USDT paused")
    assert load_control(huracan_home).paused == {"ETH-USDT"} and kill_reason(huracan_home) is None
    decisions = read_logs(store, "decisions", "15m")
    assert decisions.height == 96 and set(decisions["outcome"]) == {"paused"}
    assert token not in out.out + out.err and token.split(":")[1] not in out.out + out.err
