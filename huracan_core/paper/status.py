"""Hamilton's ``/status`` for people: the committed state in a few lines a phone shows whole.

It reads the state the last bar committed (never a bar half done), so what it says is what a restart would
resume from: the equity and the day's P&L, each open position marked at its last close, the entries waiting for
their fill, every breaker, and what the Telegram control keeps from trading.
"""

from __future__ import annotations

from huracan_core.paper.control import Control
from huracan_core.paper.state import PaperState
from huracan_core.risk import RiskManager, RiskSettings


def status_text(
    state: PaperState | None, settings: RiskSettings, control: Control, kill: str | None, timeframe: str
) -> str:
    """``kill``: the kill switch file's reason (on from the next bar) or None."""
    if state is None:
        return f"Hamilton {timeframe}: no bar done yet (no state committed)\n" + control_line(control, kill)
    risk = RiskManager(settings, state.risk)
    r = state.risk
    last = "none" if state.last_bar is None else f"{state.last_bar:%Y-%m-%d %H:%M} UTC"
    day_pnl = -risk.day_loss()
    base = r.day_start_equity or settings.starting_equity
    lines = [
        f"Hamilton {timeframe}, last bar {last}",
        f"equity {risk.equity:,.2f} (cash {r.cash:,.2f}); day P&L {day_pnl:+,.2f} ({100 * day_pnl / base:+.2f} %)",
    ]
    if r.positions:
        lines.append(f"positions ({len(r.positions)}):")
        for p in sorted(r.positions.values(), key=lambda p: (p.symbol, p.id)):
            side = "long" if p.direction > 0 else "short"
            lines.append(
                f"  {p.symbol} {side} {p.notional:,.2f} at {p.entry_price:g}, mark {p.mark_price:g}, "
                f"stop {p.stop_price:g}, {p.unrealised:+,.2f}"
            )
    else:
        lines.append("positions: none")
    if state.pending:
        waiting = ", ".join(
            f"{s.symbol} {'long' if s.direction > 0 else 'short'} {s.notional:,.2f}" for s in state.pending.values()
        )
        lines.append(f"waiting to fill at the next bar: {waiting}")
    lines.append(_breakers_line(risk))
    lines.append(control_line(control, kill))
    return "\n".join(lines)


def _breakers_line(risk: RiskManager) -> str:
    b = risk.breakers()
    daily, streak, volatility = b["daily_loss_stop"], b["losing_streak"], b["volatility"]
    assert isinstance(daily, dict) and isinstance(streak, dict) and isinstance(volatility, dict)
    hot = sorted(symbol for symbol, v in volatility.items() if v["tripped"])
    return "breakers: " + "; ".join(
        [
            f"daily loss stop {'TRIPPED' if daily['tripped'] else 'off'} (loss {daily['day_loss']:,.2f} of {daily['limit']:,.2f})",
            f"losing streak {streak['losses']} of {streak['threshold']}{' TRIPPED: half size' if streak['tripped'] else ''}",
            f"volatility {'TRIPPED on ' + ', '.join(hot) if hot else 'off'}",
        ]
    )


def control_line(control: Control, kill: str | None) -> str:
    """What trades: the roster's top N or every coin, what is paused, the kill switch."""
    trading = "every coin the roster lets trade" if control.top_n is None else f"the roster's top {control.top_n}"
    paused = ", ".join(sorted(control.paused)) or "none"
    switch = f"ON ({kill}): everything closes, no entry" if kill is not None else "off"
    return f"trading: {trading}; paused: {paused}; kill switch: {switch}"
