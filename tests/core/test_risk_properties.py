"""No sequence of prices and signals makes the risk manager break a cap.

Each seed drives a random market — several coins on random walks with jumps, volatility ranks (unknown ones
included), entry signals of every direction, stop, cost, regime and champion record (edgeless ones included),
exits at the stop (or through it on a gap) or at random, the kill switch pressed and cleared — over more than a
week of hourly bars. After every approved entry, filled at the decision's price and cost, every cap is checked
against the state it produced; every refusal is checked to name a rule and the figures it judged by. A second run
of each seed writes the state to JSON and reads it back at every bar: its decisions must equal the first's.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from huracan_core.risk import RULES, Decision, Edge, EntryRequest, RiskManager, RiskSettings, RiskState
from huracan_core.risk.sizing import size_position
from huracan_core.trading.costs import BPS

COINS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT")
REGIMES = ("TREND", "RANGE", "PANIC", "UNKNOWN", None)
SEEDS = range(40)
TOLERANCE = 1e-9


def _settings(rng: np.random.Generator) -> RiskSettings:
    """Defaults for half the seeds; the others loosen the position cap so that the portfolio caps bind too."""
    if rng.random() < 0.5:
        return RiskSettings()
    return RiskSettings(
        risk_per_trade=float(rng.uniform(0.001, 0.02)),
        max_position_share=float(rng.uniform(0.05, 1.0)),
        max_coin_share=float(rng.uniform(0.1, 1.0)),
        max_gross_leverage=float(rng.uniform(0.5, 3.0)),
        daily_loss_stop=float(rng.uniform(0.005, 0.05)),
        losing_streak=int(rng.integers(1, 5)),
        volatility_action="block" if rng.random() < 0.5 else "defensive",
        min_notional=float(rng.choice([0.0, 10.0, 100.0])),
    )


def _edge(rng: np.random.Generator) -> Edge | None:
    if rng.random() < 0.05:
        return None
    return Edge(hit_rate=float(rng.uniform(0.2, 0.8)), payoff=float(rng.choice([rng.uniform(0.3, 3.0), math.inf])))


def _number(decision: Decision, name: str) -> float:
    value = decision.figures[name]
    assert isinstance(value, int | float), f"figure {name} of {decision.symbol} is {value!r}, no number"
    return float(value)


def _check_caps(manager: RiskManager, decision: Decision, streak_before: int) -> None:
    s, state = manager.settings, manager.state
    equity = state.equity
    assert decision.notional >= s.min_notional
    assert decision.rule in RULES
    assert decision.notional <= s.max_position_share * equity * (1 + TOLERANCE)
    coin = sum(p.notional for p in state.positions.values() if p.symbol == decision.symbol)
    assert coin <= s.max_coin_share * equity * (1 + TOLERANCE) + TOLERANCE
    gross = sum(p.notional for p in state.positions.values())
    assert gross <= s.max_gross_leverage * equity * (1 + TOLERANCE) + TOLERANCE
    worst_day = max(manager.day_loss(), 0.0) + manager.open_risk()
    assert worst_day <= manager.daily_limit() * (1 + TOLERANCE) + TOLERANCE
    # the size never exceeds what sizing allows, halved on a losing streak, shrunk by a tripped breaker
    factor = s.streak_factor if streak_before >= s.losing_streak else 1.0
    volatility = decision.figures["volatility_percentile"]
    if volatility is None or _number(decision, "volatility_percentile") > s.volatility_percentile:
        factor *= s.volatility_factor
    own = _number(decision, "position_cap")
    sized = min(_number(decision, "risk_notional"), _number(decision, "kelly_notional"))
    assert decision.notional <= factor * min(own, sized * _number(decision, "regime_factor")) * (1 + TOLERANCE)


def _check_refusal(manager: RiskManager, decision: Decision, volatile: bool) -> None:
    assert decision.notional == 0.0
    assert decision.rule in RULES
    assert decision.why
    assert {"equity", "price", "stop_bps", "cost_bps"} <= set(decision.figures)
    state = manager.state
    if state.killed:
        assert decision.rule == "kill_switch"
    elif state.daily_stop_day == state.day:
        assert decision.rule == "daily_loss_stop"
    elif volatile and manager.settings.volatility_action == "block":
        assert decision.rule == "volatility_breaker"
    elif decision.rule not in ("kelly",):
        assert _number(decision, "notional") < max(manager.settings.min_notional, 1e-12)


class _DayLoss:
    """Watches the day's loss after every change: the daily stop must be tripped once the loss has reached the
    limit at some moment of the day (and stay tripped for the day), and never before the loss came near it."""

    def __init__(self) -> None:
        self.reached: set[object] = set()
        self.near: set[object] = set()

    def check(self, manager: RiskManager) -> None:
        day, loss, limit = manager.state.day, manager.day_loss(), manager.daily_limit()
        if loss >= limit * (1 + 1e-9) + 1e-9:
            self.reached.add(day)
        if loss >= limit * (1 - 1e-6):
            self.near.add(day)
        tripped = manager.state.daily_stop_day == day
        assert tripped or day not in self.reached, f"{day}: the day's loss {loss} reached {limit} untripped"
        assert not tripped or day in self.near, f"{day}: tripped, but the day's loss never came near {limit}"


def _run(seed: int, *, reload_every_bar: bool) -> list[dict]:
    rng = np.random.default_rng(seed)
    settings = _settings(rng)
    manager = RiskManager(settings)
    prices = {c: float(rng.uniform(0.5, 50_000)) for c in COINS}
    start = datetime(2024, 3, 1, tzinfo=UTC)
    decisions: list[dict] = []
    approved = 0
    day_loss = _DayLoss()
    for n in range(220):
        if reload_every_bar:
            manager = RiskManager(settings, RiskState.from_dict(json.loads(json.dumps(manager.state.to_dict()))))
        bar = start + timedelta(hours=n)
        manager.start_bar(bar)
        day_loss.check(manager)
        for position_id in manager.closes_requested():
            position = manager.state.positions[position_id]
            manager.closed(position_id, prices[position.symbol], float(rng.uniform(0, 5)))
            day_loss.check(manager)
        volatile = {}
        for coin in COINS:
            jump = rng.random() < 0.03
            prices[coin] *= float(np.exp(rng.normal(0, 0.08 if jump else 0.01)))
            rank = None if rng.random() < 0.05 else float(rng.uniform(0.5, 1.0))
            volatile[coin] = rank is None or rank > settings.volatility_percentile
            manager.mark(coin, prices[coin], volatility_percentile=rank)
            day_loss.check(manager)
        for position_id, position in list(manager.state.positions.items()):
            through_stop = position.direction * (prices[position.symbol] - position.stop_price) <= 0
            if through_stop or rng.random() < 0.1:
                exit_cost = position.exit_cost_bps / BPS * position.quantity * position.entry_price
                manager.closed(position_id, prices[position.symbol], exit_cost)
                day_loss.check(manager)
        if rng.random() < 0.03:
            manager.kill(f"test press at bar {n}")
        elif manager.state.killed and rng.random() < 0.2:
            manager.clear_kill()
        for coin in COINS:
            if rng.random() < 0.4:
                continue
            request = EntryRequest(
                symbol=coin,
                direction=int(rng.choice([-1, 1])),
                stop_bps=float(rng.uniform(5, 300)),
                cost_bps=float(rng.uniform(0, 20)),
                regime=REGIMES[int(rng.integers(len(REGIMES)))],
                edge=_edge(rng),
            )
            streak = manager.state.losing_streak
            decision = manager.decide(request)
            decisions.append(decision.to_dict())
            if not decision.approved:
                _check_refusal(manager, decision, volatile[coin])
                continue
            assert not manager.state.killed and manager.state.daily_stop_day != manager.state.day
            assert not (volatile[coin] and settings.volatility_action == "block")
            assert request.edge is not None and request.edge.kelly > 0
            entry_cost = request.cost_bps / BPS * decision.notional
            manager.opened(decision, f"{coin}-{n}", prices[coin], entry_cost, bar)
            day_loss.check(manager)
            _check_caps(manager, decision, streak)
            approved += 1
    assert approved, f"seed {seed}: no entry was ever approved, so no cap was tested"
    return decisions


@pytest.mark.parametrize("seed", SEEDS)
def test_no_sequence_of_prices_and_signals_breaks_a_cap(seed: int) -> None:
    _run(seed, reload_every_bar=False)


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_state_written_and_read_back_each_bar_decides_the_same(seed: int) -> None:
    assert _run(seed, reload_every_bar=True) == _run(seed, reload_every_bar=False)


def test_the_caps_do_bind_in_these_markets() -> None:
    """The property runs are only worth something if the caps they check are reached: every size-setting rule
    sets some size, and the portfolio rules refuse some entries."""
    rules: set[str] = set()
    refusals: set[str] = set()
    for seed in SEEDS:
        for decision in _run(seed, reload_every_bar=False):
            (rules if decision["approved"] else refusals).add(decision["rule"])
    assert {"per_trade_risk", "kelly", "position_cap", "coin_exposure", "gross_leverage", "open_risk"} <= rules
    assert {"kill_switch", "daily_loss_stop", "volatility_breaker", "kelly"} <= refusals


def test_sizing_alone_never_exceeds_the_position_cap() -> None:
    rng = np.random.default_rng(0)
    for _ in range(2000):
        settings = _settings(rng)
        edge = _edge(rng) or Edge(0.5, 1.5)
        equity, cost = float(rng.uniform(0, 1e6)), float(rng.uniform(0, 30))
        sizing = size_position(
            equity, float(rng.uniform(1, 500)), cost, edge, REGIMES[int(rng.integers(len(REGIMES)))], settings
        )
        assert (
            0.0
            <= sizing.notional
            <= settings.max_position_share * (equity - cost / BPS * sizing.notional) * (1 + TOLERANCE)
        )
