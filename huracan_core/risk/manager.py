"""The risk manager: every entry is sized by ``sizing`` and then held to the portfolio's caps and breakers.

The caller drives it bar by bar, in time order, with what happened:

1. ``start_bar(t)`` — the closed bar opening at ``t`` (UTC) is being decided; a new UTC day re-bases the daily
   loss stop on the equity at the day's start and clears it;
2. ``mark(symbol, close, volatility_percentile=…)`` — each coin's close at that bar (open positions are marked
   there; the rank is its volatility breaker's input);
3. ``decide(request)`` — an approved size or a refusal, changing nothing;
4. ``opened(decision, …)`` / ``closed(id, …)`` — the fills, with what each leg paid.

``closes_requested`` lists what must be closed at the next bar (everything, while the kill switch is on).

Caps hold at the moment of the decision, at the marks: a position's later drift can carry exposure past a cap,
but no entry is approved that would not fit under every one of them. The open-risk rule keeps the day's worst
case — the loss already taken plus every open stop filling at its price — within the daily loss stop; a gap
through a stop can still cost more, which no sizing can prevent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from huracan_core.risk.decision import Decision, EntryRequest, Figure
from huracan_core.risk.settings import RiskSettings
from huracan_core.risk.sizing import loss_per_notional, size_position
from huracan_core.risk.state import Mark, Position, RiskState
from huracan_core.trading.costs import BPS

#: the daily loss stop trips at its limit: a loss this much of the day's starting equity short of it counts as
#: reaching it (floating-point sums of P&L land a hair either side of an exact limit)
_AT_LIMIT = 1e-9


class RiskManager:
    def __init__(self, settings: RiskSettings, state: RiskState | None = None) -> None:
        self.settings = settings
        self.state = state if state is not None else RiskState(cash=settings.starting_equity)

    @property
    def equity(self) -> float:
        return self.state.equity

    def start_bar(self, bar_time: datetime) -> None:
        """Move to the closed bar opening at ``bar_time``; strictly after the last one (replaying a bar would
        count its fills twice)."""
        if bar_time.tzinfo is None or bar_time.utcoffset() is None:
            raise ValueError(f"risk manager: bar {bar_time.isoformat()} has no time zone: give a UTC moment")
        state = self.state
        if state.bar_time is not None and bar_time <= state.bar_time:
            raise ValueError(
                f"risk manager: bar {bar_time.isoformat()} is not after the last bar decided, "
                f"{state.bar_time.isoformat()}: bars are decided once each, in time order"
            )
        state.bar_time = bar_time
        if state.day != bar_time.date():
            state.day = bar_time.date()
            state.day_start_equity = state.equity
            state.daily_stop_day = None

    def mark(self, symbol: str, price: float, *, volatility_percentile: float | None) -> None:
        """The coin's close at the current bar: its open positions are marked to it."""
        at = self._bar("mark " + symbol)
        if not price > 0.0:
            raise ValueError(f"risk manager: mark of {symbol} at {at.isoformat()} is {price!r}: give a price above 0")
        self.state.marks[symbol] = Mark(price=price, volatility_percentile=volatility_percentile, at=at)
        for key, position in self.state.positions.items():
            if position.symbol == symbol:
                self.state.positions[key] = _marked(position, price)
        self._check_daily_stop()

    def decide(self, request: EntryRequest) -> Decision:
        at = self._bar("decide on " + request.symbol)
        if request.direction not in (1, -1):
            raise ValueError(
                f"risk manager: entry of {request.symbol} has direction {request.direction}: give +1 or -1"
            )
        mark = self.state.marks.get(request.symbol)
        if mark is None or mark.at != at:
            raise ValueError(
                f"risk manager: no mark of {request.symbol} at {at.isoformat()}: mark the coin's close at the bar "
                "before deciding on it (a size from an older price is a stale size)"
            )
        s, state = self.settings, self.state
        equity = state.equity
        figures: dict[str, Figure] = {
            "equity": equity,
            "price": mark.price,
            "stop_bps": request.stop_bps,
            "cost_bps": request.cost_bps,
        }

        def decision(approved: bool, notional: float, rule: str, why: str) -> Decision:
            return Decision(
                request.symbol,
                request.direction,
                request.stop_bps,
                request.cost_bps,
                at,
                approved,
                notional,
                rule,
                why,
                dict(figures),
            )

        if state.killed:
            figures["kill_reason"] = state.kill_reason
            return decision(False, 0.0, "kill_switch", f"the kill switch is on ({state.kill_reason})")
        loss, limit = self.day_loss(), self.daily_limit()
        figures |= {"day_loss": loss, "daily_limit": limit, "day_start_equity": state.day_start_equity}
        if state.daily_stop_day == state.day:
            return decision(
                False,
                0.0,
                "daily_loss_stop",
                f"the day's loss {loss:.2f} reached the daily loss stop {limit:.2f} "
                f"({s.daily_loss_stop:.2%} of {state.day_start_equity:.2f}): no entries until the next UTC day",
            )
        percentile = mark.volatility_percentile
        volatile = percentile is None or percentile > s.volatility_percentile
        figures |= {"volatility_percentile": percentile, "volatility_threshold": s.volatility_percentile}
        if volatile and s.volatility_action == "block":
            rank = "unknown" if percentile is None else f"{percentile:.3f}"
            return decision(
                False,
                0.0,
                "volatility_breaker",
                f"{request.symbol}'s volatility rank {rank} is above {s.volatility_percentile:.3f}: no entries",
            )
        edge = request.edge
        if edge is None:
            because = f": {request.no_edge_because}" if request.no_edge_because else ""
            return decision(
                False, 0.0, "kelly", f"the champion has no out-of-sample hit rate and payoff to size by{because}"
            )
        figures |= {"hit_rate": edge.hit_rate, "payoff": edge.payoff, "kelly": edge.kelly}
        if edge.kelly <= 0.0:
            return decision(
                False,
                0.0,
                "kelly",
                f"Kelly's stake {edge.kelly:.4f} (hit rate {edge.hit_rate:.3f}, payoff {edge.payoff:.3f}) is not "
                "above 0: the champion's out-of-sample record has no edge to bet",
            )

        sizing = size_position(equity, request.stop_bps, request.cost_bps, edge, request.regime, s)
        streak = s.streak_factor if state.losing_streak >= s.losing_streak else 1.0
        calm = s.volatility_factor if volatile else 1.0
        cost = request.cost_bps / BPS
        coin = sum(p.notional for p in state.positions.values() if p.symbol == request.symbol)
        gross = sum(p.notional for p in state.positions.values())
        open_risk = self.open_risk()
        budget = limit - max(loss, 0.0) - open_risk
        figures |= {
            **sizing.figures(),
            "regime": request.regime,
            "losing_streak": state.losing_streak,
            "streak_factor": streak,
            "volatility_factor": calm,
            "coin_exposure": coin,
            "coin_cap": s.max_coin_share * equity,
            "gross_exposure": gross,
            "gross_cap": s.max_gross_leverage * equity,
            "open_risk": open_risk,
            "risk_budget": budget,
        }
        # each cap holds once the entry leg's cost has left the equity it is a share of; the open risk counts
        # that cost as lost and the new stop's loss (both legs) as at risk
        bounds = {
            sizing.binding: sizing.notional * streak * calm,
            "coin_exposure": (s.max_coin_share * equity - coin) / (1.0 + s.max_coin_share * cost),
            "gross_leverage": (s.max_gross_leverage * equity - gross) / (1.0 + s.max_gross_leverage * cost),
            "open_risk": budget / loss_per_notional(request.stop_bps, request.cost_bps),
        }
        rule = min(bounds, key=lambda name: bounds[name])
        notional = max(bounds[rule], 0.0)
        figures["notional"] = notional
        if notional < max(s.min_notional, 1e-12):
            return decision(
                False,
                0.0,
                rule,
                f"{_bound_words(rule)} leaves {notional:.2f}, under the smallest order {s.min_notional:.2f}",
            )
        return decision(True, notional, rule, f"{notional:.2f} set by {_bound_words(rule)}")

    def opened(
        self, decision: Decision, position_id: str, fill_price: float, entry_cost: float, at: datetime
    ) -> Position:
        """The approved entry filled at ``fill_price``: ``decision.notional`` worth of the coin, its stop
        ``stop_bps`` from the fill; ``entry_cost`` (fee, half spread, slippage) leaves the cash now."""
        if not decision.approved:
            raise ValueError(f"risk manager: {decision.symbol} was refused by {decision.rule}: it cannot be opened")
        if self.state.killed:
            raise ValueError(
                f"risk manager: the kill switch went on ({self.state.kill_reason}) before {decision.symbol} filled: "
                "drop the entry"
            )
        if position_id in self.state.positions:
            raise ValueError(f"risk manager: position {position_id} is already open")
        if not fill_price > 0.0:
            raise ValueError(f"risk manager: fill of {position_id} at {fill_price!r}: give a price above 0")
        position = Position(
            id=position_id,
            symbol=decision.symbol,
            direction=decision.direction,
            quantity=decision.notional / fill_price,
            entry_price=fill_price,
            stop_price=fill_price * (1.0 - decision.direction * decision.stop_bps / BPS),
            mark_price=fill_price,
            opened_at=at,
            entry_cost=entry_cost,
            exit_cost_bps=decision.cost_bps,
        )
        self.state.positions[position_id] = position
        self.state.cash -= entry_cost
        self._check_daily_stop()
        return position

    def closed(self, position_id: str, exit_price: float, exit_cost: float) -> float:
        """The position left at ``exit_price``, paying ``exit_cost`` (its exit leg and the funding of its hold);
        returns the trade's net P&L (both legs' costs in), which a loss adds to the losing streak."""
        position = self.state.positions.pop(position_id, None)
        if position is None:
            raise ValueError(f"risk manager: position {position_id} is not open (closed twice, or never opened)")
        gross = position.direction * position.quantity * (exit_price - position.entry_price)
        self.state.cash += gross - exit_cost
        net = gross - position.entry_cost - exit_cost
        self.state.losing_streak = self.state.losing_streak + 1 if net < 0.0 else 0
        self._check_daily_stop()
        return net

    def closes_requested(self) -> list[str]:
        """The positions to close at the next bar: all of them while the kill switch is on."""
        return sorted(self.state.positions) if self.state.killed else []

    def kill(self, reason: str) -> None:
        """Block every entry and ask for every position to be closed, until ``clear_kill``."""
        self.state.killed, self.state.kill_reason = True, reason

    def clear_kill(self) -> None:
        self.state.killed, self.state.kill_reason = False, ""

    def day_loss(self) -> float:
        """The equity lost since the day started (negative: a gain)."""
        return self.state.day_start_equity - self.state.equity

    def daily_limit(self) -> float:
        return self.settings.daily_loss_stop * self.state.day_start_equity

    def open_risk(self) -> float:
        return sum(p.open_risk for p in self.state.positions.values())

    def breakers(self) -> dict[str, object]:
        """Each breaker's state, for people (status, logs)."""
        s, state = self.settings, self.state
        return {
            "kill_switch": {"on": state.killed, "reason": state.kill_reason},
            "daily_loss_stop": {
                "tripped": state.daily_stop_day is not None and state.daily_stop_day == state.day,
                "day_loss": self.day_loss(),
                "limit": self.daily_limit(),
            },
            "losing_streak": {
                "losses": state.losing_streak,
                "threshold": s.losing_streak,
                "tripped": state.losing_streak >= s.losing_streak,
            },
            "volatility": {
                symbol: {
                    "percentile": m.volatility_percentile,
                    "tripped": m.volatility_percentile is None or m.volatility_percentile > s.volatility_percentile,
                }
                for symbol, m in sorted(state.marks.items())
            },
        }

    def _bar(self, what: str) -> datetime:
        if self.state.bar_time is None:
            raise ValueError(f"risk manager: {what} before any bar: call start_bar first")
        return self.state.bar_time

    def _check_daily_stop(self) -> None:
        state = self.state
        if state.day is None or state.daily_stop_day == state.day:
            return
        if self.day_loss() >= self.daily_limit() - _AT_LIMIT * state.day_start_equity:
            state.daily_stop_day = state.day


def _marked(position: Position, price: float) -> Position:
    return replace(position, mark_price=price)


def _bound_words(rule: str) -> str:
    return {
        "per_trade_risk": "the risk per trade over the stop distance",
        "kelly": "the fraction of Kelly",
        "position_cap": "the position cap",
        "coin_exposure": "the coin's exposure cap",
        "gross_leverage": "the gross leverage cap",
        "open_risk": "the open risk left within the daily loss stop",
    }[rule]
