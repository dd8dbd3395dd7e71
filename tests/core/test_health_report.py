"""The daily health report's content: the win rate against the day before, the PnL, the day's top and worst
patterns (regime × side × engines agreeing) from the daily summary, the actions of the day (alerts raised and
cleared, patterns paused and resumed) and what is active (alerts standing, patterns paused)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from huracan_core.broadcast.alerts import Action, AlertState
from huracan_core.daily_summary import daily_summary
from huracan_core.health.errors import ErrorPolicy, RunOutcome, error_alerts
from huracan_core.health.monitor import REPORT_HOUR, alert_tick
from huracan_core.health.patterns import pattern_records
from huracan_core.health.pauses import PauseBook, PauseEvent
from huracan_core.paper import holds
from huracan_core.risk.settings import RiskSettings
from huracan_core.storage.local import LocalArtifactStore

DAY = date(2024, 12, 9)
NOW = datetime(2024, 12, 10, REPORT_HOUR, 5, tzinfo=UTC)
POLICY = ErrorPolicy(recurring_runs=3, recurring_days=2)
#: (regime, direction, engines, net_pnl of each trade): five patterns of the day, two trades each
TRADED = [
    ("TREND", 1, "a,b", (3.0, 2.0)),
    ("TREND", -1, "a", (1.0, -0.5)),
    ("RANGE", 1, "b", (0.25, 0.0)),
    ("RANGE", -1, "", (-1.0, -1.5)),
    ("PANIC", -1, "a,b,c", (-4.0, 1.0)),
]


def ledger(symbol: str = "ETH-USDT") -> pl.DataFrame:
    rows = [
        {"regime": r, "direction": d, "engines_agreeing": e, "net_pnl": pnl, "net_bps": pnl * 10, "policy": "model"}
        for r, d, e, pnls in TRADED
        for pnl in pnls
    ]
    paid = {c: 0.1 for c in ("fees_paid", "spread_paid", "slippage_paid", "funding_paid")}
    return pl.DataFrame(rows).with_columns(symbol=pl.lit(symbol), **{c: pl.lit(v) for c, v in paid.items()})


def test_pattern_records_rank_the_days_patterns_by_pnl_after_costs() -> None:
    frame = ledger()
    records = pattern_records(frame)
    assert [r["pattern"] for r in records] == [
        "TREND:long:a,b",
        "TREND:short:a",
        "RANGE:long:b",
        "RANGE:short:none",
        "PANIC:short:a,b,c",
    ]
    assert sum(r["trades"] for r in records) == frame.height
    assert sum(r["net_pnl"] for r in records) == pytest.approx(float(frame["net_pnl"].sum()))
    assert records[0] | {"pattern": None} == {
        "pattern": None,
        "trades": 2,
        "hit_rate_pct": 100.0,
        "net_pnl": 5.0,
        "mean_net_bps": 25.0,
    }
    assert records[2]["hit_rate_pct"] == 50.0  # a trade that made nothing after costs did not win
    assert pattern_records(frame.clear()) == []


def test_the_daily_summary_holds_every_pattern_of_every_coin() -> None:
    summary = daily_summary(DAY, "15m", {}, {}, {"ETH-USDT": ledger(), "BTC-USDT": ledger("BTC-USDT")}, [])
    assert summary["patterns"][0]["pattern"] == "TREND:long:a,b"
    assert sum(r["trades"] for r in summary["patterns"]) == summary["trades"] == 20
    assert daily_summary(DAY, "15m", {}, {}, {}, [])["patterns"] == []


def test_the_report_says_rate_pnl_patterns_actions_and_what_is_active(tmp_path: Path) -> None:
    sent: list[str] = []
    # Hamilton's breakers, as ``huracan health``'s hamilton row reads them: here a home where it never ran, its kill
    # switch pressed
    found = holds.hamilton(LocalArtifactStore(tmp_path), "15m", RiskSettings(), "leaving for lunch")
    today = {"trades": 10, "hit_rate_pct": 50.0, "net_pnl": 0.25, "patterns": pattern_records(ledger())}
    before = {"trades": 8, "hit_rate_pct": 62.5, "net_pnl": 3.0, "patterns": []}
    paused_at = datetime(2024, 12, 9, 13, 0, tzinfo=UTC)
    book = PauseBook(
        (
            PauseEvent("RANGE:short:none", "pause", "cusum", datetime(2024, 12, 2, 8, 0, tzinfo=UTC), "old"),
            PauseEvent("TREND:short:a", "pause", "cusum", paused_at, "last 30 trades −12.0 bps net on average"),
            PauseEvent("RANGE:long:b", "pause", "cli:ops", datetime(2024, 12, 8, 9, 0, tzinfo=UTC), "by hand"),
            PauseEvent("RANGE:long:b", "resume", "recovery", paused_at + timedelta(hours=5), "back to its history"),
            PauseEvent("PANIC:short:a,b,c", "pause", "cli:ops", NOW - timedelta(minutes=30), "today, not the day"),
        )
    )
    # a cause failing a run a night for three nights: standing since the alert raised on the day, so the tick sends
    # the report alone
    runs = [
        RunOutcome(f"r{n}", "engine_15m", NOW - timedelta(days=n, hours=3), True, ("15m/candles: missing",))
        for n in range(3)
    ]
    [standing] = error_alerts(runs, NOW, POLICY)
    state = AlertState(
        active={standing.key: standing},
        actions=(Action("2024-12-09T06:10:00+00:00", "raised", standing.key, standing.text),),
    )
    after = alert_tick(
        state,
        runs,
        NOW,
        lambda text: sent.append(text) or True,
        POLICY,
        lambda day: {"15m": (today, before) if day == DAY else (None, None)},
        lambda: {"15m": book},
        breakers=lambda: {"15m": f"{found.state.value}, {found.detail}"},
    )
    assert after.last_report == NOW.date().isoformat()
    [report] = sent
    lines = report.splitlines()
    assert lines[0] == "[huracan] daily health report 2024-12-09"
    # what is active: the alert standing, and the three patterns paused as recorded now (RANGE:long:b was resumed)
    assert f"active: 1 alert\n  warning: {standing.text}" in report
    assert "paused: 3 patterns" in lines
    assert "  15m TREND:short:a since 2024-12-09 13:00 UTC by cusum" in lines
    assert "  15m RANGE:short:none since 2024-12-02 08:00 UTC by cusum" in lines
    assert not any("RANGE:long:b since" in line for line in lines)
    [hamilton] = [line for line in lines if line.startswith("hamilton 15m: ")]
    assert "never ran in this home" in hamilton and "the kill switch is pressed (leaving for lunch)" in hamilton
    # the actions of the day only: the alert raised, one pause and one resume on 2024-12-09
    assert "actions: 1 alerts raised, 0 cleared, 1 patterns paused, 1 resumed" in lines
    assert f"  06:10 raised: {standing.text}" in lines
    assert "  13:00 15m TREND:short:a paused by cusum: last 30 trades −12.0 bps net on average" in lines
    assert "  18:00 15m RANGE:long:b resumed by recovery: back to its history" in lines
    assert "today, not the day" not in report
    # the win rate against the day before, the PnL, then the top three and the worst two others, worst first
    assert "15m: 10 trades, win rate 50.0% (-12.50 pts vs the day before), net +0.25 USDT after costs" in lines
    assert lines[-2] == (
        "  top patterns: TREND:long:a,b +5.00 USDT (2 trades, 100.0% won); TREND:short:a +0.50 USDT (2 trades, "
        "50.0% won); RANGE:long:b +0.25 USDT (2 trades, 50.0% won)"
    )
    assert lines[-1] == (
        "  worst patterns: PANIC:short:a,b,c -3.00 USDT (2 trades, 50.0% won); RANGE:short:none -2.50 USDT "
        "(2 trades, 0.0% won)"
    )


def test_a_quiet_day_and_an_old_summary_say_so() -> None:
    sent: list[str] = []
    one = {"trades": 1, "hit_rate_pct": 100.0, "net_pnl": 1.0, "patterns": [pattern_records(ledger())[0]]}
    old = {"trades": 1, "hit_rate_pct": 100.0, "net_pnl": 1.0}
    alert_tick(
        AlertState(),
        [],
        NOW,
        lambda text: sent.append(text) or True,
        ErrorPolicy(),
        lambda day: {"15m": (one, None), "1h": (old, None)},
        lambda: {"15m": PauseBook(), "1h": PauseBook()},
    )
    lines = sent[0].splitlines()
    assert (
        "paused: 0 patterns" in lines and "actions: 0 alerts raised, 0 cleared, 0 patterns paused, 0 resumed" in lines
    )
    assert "  top patterns: TREND:long:a,b +5.00 USDT (2 trades, 100.0% won)" in lines
    assert not any("worst patterns" in line for line in lines)  # one pattern: named once
    assert "  patterns: not in this summary (written before it held them)" in lines
