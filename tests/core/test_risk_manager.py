"""Each breaker of the risk manager fires at its threshold and not before; the kill switch blocks entries and asks
for every position to be closed; every refusal names its rule and the figures it judged by; sizing follows the
stop distance, Kelly, the regime and the position cap."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from huracan_core.risk import Decision, Edge, EntryRequest, RiskManager, RiskSettings, RiskState
from huracan_core.risk.sizing import size_position

START = datetime(2024, 5, 6, tzinfo=UTC)
STEP = timedelta(minutes=15)
EDGE = Edge(hit_rate=0.55, payoff=1.2)
COIN, OTHER = "ETH-USDT", "SOL-USDT"


def _manager(**settings: object) -> RiskManager:
    manager = RiskManager(RiskSettings.from_mapping(settings))
    manager.start_bar(START)
    _mark(manager)
    return manager


def _mark(manager: RiskManager, rank: float | None = 0.5, price: float = 100.0) -> None:
    for coin in (COIN, OTHER):
        manager.mark(coin, price, volatility_percentile=rank)


def _next_bar(manager: RiskManager, hours: float = 0.25, rank: float | None = 0.5) -> None:
    assert manager.state.bar_time is not None
    manager.start_bar(manager.state.bar_time + timedelta(hours=hours))
    _mark(manager, rank)


def _ask(manager: RiskManager, symbol: str = COIN, edge: Edge | None = EDGE, **request: object) -> Decision:
    fields: dict = {"direction": 1, "stop_bps": 50.0, "cost_bps": 0.0, "regime": "TREND", **request}
    return manager.decide(EntryRequest(symbol=symbol, edge=edge, **fields))


def _trade(manager: RiskManager, net: float, symbol: str = COIN) -> None:
    """One round trip netting ``net``: entered and left at the mark, the exit leg paying −net."""
    decision = _ask(manager, symbol)
    assert decision.approved, decision.why
    position_id = f"{symbol}-{len(manager.state.positions)}-{manager.state.bar_time}"
    manager.opened(decision, position_id, 100.0, 0.0, START)
    manager.closed(position_id, 100.0, -net)


def _size(manager: RiskManager, **request: object) -> float:
    fields: dict = {"stop_bps": 50.0, "cost_bps": 0.0, "regime": "TREND", **request}
    return size_position(
        manager.equity, fields["stop_bps"], fields["cost_bps"], EDGE, fields["regime"], manager.settings
    ).notional


def test_losing_streak_halves_the_size_at_its_threshold_and_a_win_resets_it() -> None:
    manager = _manager(losing_streak=3)
    _trade(manager, -1.0)
    _trade(manager, -1.0)
    two = _ask(manager)
    assert two.figures["streak_factor"] == 1.0
    assert two.notional == pytest.approx(_size(manager))
    _trade(manager, -1.0)
    three = _ask(manager)
    assert three.figures["losing_streak"] == 3 and three.figures["streak_factor"] == 0.5
    assert three.notional == pytest.approx(0.5 * _size(manager))
    assert manager.breakers()["losing_streak"] == {"losses": 3, "threshold": 3, "tripped": True}
    _trade(manager, 0.01)
    assert _ask(manager).notional == pytest.approx(_size(manager))
    assert manager.state.losing_streak == 0


def test_daily_loss_stop_fires_at_its_limit_and_not_before_and_holds_for_the_day() -> None:
    manager = _manager(daily_loss_stop=0.025, starting_equity=10_000.0)
    held = _ask(manager, OTHER)
    manager.opened(held, "held", 100.0, 0.0, START)
    quantity = manager.state.positions["held"].quantity
    _trade(manager, -249.99)  # a loss beyond its stop (a gap): the open risk rule cannot prevent those
    assert not manager.breakers()["daily_loss_stop"]["tripped"]  # type: ignore[index]
    assert _ask(manager).rule != "daily_loss_stop"
    manager.mark(OTHER, 100.0 - 0.01 / quantity, volatility_percentile=0.5)  # the day's loss: 2.5 % of 10,000
    refused = _ask(manager)
    assert not refused.approved and refused.rule == "daily_loss_stop"
    assert refused.figures["day_loss"] == pytest.approx(250.0)
    assert refused.figures["daily_limit"] == pytest.approx(250.0)
    assert "250.00" in refused.why
    # the held position winning the loss back the same day does not re-open entries
    _next_bar(manager)
    manager.mark(OTHER, 100.0 + 400.0 / quantity, volatility_percentile=0.5)
    assert manager.day_loss() == pytest.approx(-150.01)
    assert _ask(manager).rule == "daily_loss_stop"
    # the next UTC day starts from its own equity, the stop cleared
    manager.start_bar(START + timedelta(days=1))
    manager.closed("held", 100.0 + 400.0 / quantity, 0.0)
    _mark(manager)
    assert manager.state.day_start_equity == pytest.approx(10_150.01)
    assert _ask(manager).approved


def test_an_open_position_marked_down_counts_toward_the_daily_loss_stop() -> None:
    manager = _manager(daily_loss_stop=0.025, starting_equity=10_000.0, max_position_share=1.0, risk_per_trade=0.02)
    decision = _ask(manager, stop_bps=2000.0)
    manager.opened(decision, "p", 100.0, 0.0, START)
    quantity = manager.state.positions["p"].quantity
    manager.mark(COIN, 100.0 - 249.0 / quantity, volatility_percentile=0.5)
    assert not manager.breakers()["daily_loss_stop"]["tripped"]  # type: ignore[index]
    manager.mark(COIN, 100.0 - 250.0 / quantity, volatility_percentile=0.5)
    assert manager.breakers()["daily_loss_stop"]["tripped"]  # type: ignore[index]
    assert _ask(manager, OTHER).rule == "daily_loss_stop"


@pytest.mark.parametrize("rank", [0.95, 0.9])
def test_volatility_breaker_does_not_fire_at_or_below_its_percentile(rank: float) -> None:
    for action in ("defensive", "block"):
        manager = _manager(volatility_percentile=0.95, volatility_action=action)
        _mark(manager, rank)
        decision = _ask(manager)
        assert decision.approved and decision.figures["volatility_factor"] == 1.0
        assert decision.notional == pytest.approx(_size(manager))


@pytest.mark.parametrize("rank", [0.9501, 1.0, None])
def test_volatility_breaker_above_its_percentile_shrinks_or_blocks(rank: float | None) -> None:
    defensive = _manager(volatility_percentile=0.95, volatility_action="defensive", volatility_factor=0.4)
    _mark(defensive, rank)
    decision = _ask(defensive)
    assert decision.approved and decision.figures["volatility_factor"] == 0.4
    assert decision.notional == pytest.approx(0.4 * _size(defensive))
    assert defensive.breakers()["volatility"][COIN]["tripped"]  # type: ignore[index]

    blocking = _manager(volatility_percentile=0.95, volatility_action="block")
    _mark(blocking, rank)
    refused = _ask(blocking)
    assert not refused.approved and refused.rule == "volatility_breaker"
    assert refused.figures["volatility_percentile"] == rank and refused.figures["volatility_threshold"] == 0.95


def test_kill_switch_blocks_entries_asks_to_close_everything_and_clears() -> None:
    manager = _manager()
    for n, coin in enumerate((COIN, OTHER)):
        manager.opened(_ask(manager, coin), f"p{n}", 100.0, 0.0, START)
    pending = _ask(manager)
    assert manager.closes_requested() == []
    manager.kill("pressed on the CLI")
    refused = _ask(manager)
    assert not refused.approved and refused.rule == "kill_switch"
    assert refused.figures["kill_reason"] == "pressed on the CLI" and "pressed on the CLI" in refused.why
    assert manager.closes_requested() == ["p0", "p1"]
    with pytest.raises(ValueError, match="kill switch went on"):
        manager.opened(pending, "p2", 100.0, 0.0, START)  # approved before the press, not yet filled: dropped
    _next_bar(manager)
    for position_id in manager.closes_requested():
        manager.closed(position_id, 100.0, 0.0)
    assert manager.state.positions == {} and manager.closes_requested() == []
    assert _ask(manager).rule == "kill_switch"  # still on with nothing open
    manager.clear_kill()
    assert _ask(manager).approved


def test_kelly_refuses_a_champion_without_an_edge_and_says_why() -> None:
    manager = _manager()
    no_edge = _ask(manager, edge=Edge(hit_rate=0.4, payoff=1.5))  # f* = 0.4 − 0.6 / 1.5 = 0
    assert not no_edge.approved and no_edge.rule == "kelly"
    assert no_edge.figures["kelly"] == pytest.approx(0.0) and no_edge.figures["hit_rate"] == 0.4
    unknown = _ask(manager, edge=None, no_edge_because="it never traded out of sample")
    assert not unknown.approved and unknown.rule == "kelly"
    assert unknown.why.endswith("no out-of-sample hit rate and payoff to size by: it never traded out of sample")


def test_portfolio_caps_refuse_with_their_figures() -> None:
    manager = _manager(max_position_share=1.0, risk_per_trade=0.05, max_coin_share=0.25, max_gross_leverage=2.0)
    first = _ask(manager)
    assert first.approved and first.rule == "coin_exposure"
    assert first.notional == pytest.approx(0.25 * manager.equity)
    manager.opened(first, "p", 100.0, 0.0, START)
    refused = _ask(manager)
    assert not refused.approved and refused.rule == "coin_exposure"
    assert refused.figures["coin_exposure"] == pytest.approx(2500.0)
    assert refused.figures["coin_cap"] == pytest.approx(2500.0)
    assert "under the smallest order" in refused.why

    tight = _manager(max_position_share=1.0, risk_per_trade=0.05, max_coin_share=1.0, max_gross_leverage=0.3)
    tight.opened(_ask(tight), "p", 100.0, 0.0, START)
    refused = _ask(tight, OTHER)
    assert refused.rule == "gross_leverage" and refused.figures["gross_cap"] == pytest.approx(3000.0)


def test_open_risk_stays_within_the_daily_loss_stop() -> None:
    manager = _manager(max_position_share=1.0, max_coin_share=1.0, risk_per_trade=0.02, daily_loss_stop=0.025)
    first = _ask(manager, stop_bps=300.0, cost_bps=5.0)  # risks 2 % of equity: fits in 2.5 %
    assert first.approved and first.rule == "per_trade_risk"
    manager.opened(first, "p", 100.0, first.notional * 5.0 / 1e4, START)
    second = _ask(manager, OTHER, stop_bps=300.0, cost_bps=5.0)
    assert second.approved and second.rule == "open_risk"
    manager.opened(second, "q", 100.0, second.notional * 5.0 / 1e4, START)
    assert manager.open_risk() + max(manager.day_loss(), 0.0) == pytest.approx(manager.daily_limit())
    assert _ask(manager, OTHER).rule == "open_risk"


def test_size_follows_the_stop_distance_kelly_the_regime_and_the_cap() -> None:
    settings = RiskSettings(max_position_share=1.0, risk_per_trade=0.005, kelly_fraction=0.25)
    wide = size_position(10_000.0, 100.0, 0.0, EDGE, "TREND", settings)
    narrow = size_position(10_000.0, 50.0, 0.0, EDGE, "TREND", settings)
    assert wide.binding == "per_trade_risk" and narrow.notional == pytest.approx(2 * wide.notional)
    assert wide.notional == pytest.approx(0.005 * 10_000 / 0.01)
    with_costs = size_position(10_000.0, 100.0, 25.0, EDGE, "TREND", settings)
    assert with_costs.notional == pytest.approx(0.005 * 10_000 / 0.015)  # the loss at the stop has both legs
    thin = Edge(hit_rate=0.51, payoff=1.0)  # f* = 0.02, a quarter of it: 0.5 % of equity
    kelly = size_position(
        10_000.0, 100.0, 0.0, thin, "TREND", RiskSettings(max_position_share=1.0, risk_per_trade=0.01)
    )
    assert kelly.binding == "kelly" and kelly.notional == pytest.approx(0.25 * 0.02 * 10_000 / 0.01)
    panic = size_position(10_000.0, 100.0, 0.0, EDGE, "PANIC", settings)
    assert panic.notional == pytest.approx(settings.regime_factors["PANIC"] * wide.notional)
    assert (
        size_position(10_000.0, 100.0, 0.0, EDGE, "NEW", settings).regime_factor == settings.regime_factors["UNKNOWN"]
    )
    capped = size_position(10_000.0, 100.0, 0.0, EDGE, "TREND", RiskSettings())
    assert capped.binding == "position_cap" and capped.notional == pytest.approx(500.0)


def test_edge_from_out_of_sample_metrics() -> None:
    edge = Edge.from_metrics({"hit_rate": 0.5, "profit_factor": 1.5})
    assert edge.payoff == pytest.approx(1.5) and edge.kelly == pytest.approx(0.5 - 0.5 / 1.5)
    never_lost = Edge.from_metrics({"hit_rate": 1.0, "profit_factor": math.nan})
    assert never_lost.payoff == math.inf and never_lost.kelly == 1.0
    with pytest.raises(ValueError, match="lack profit_factor"):
        Edge.from_metrics({"hit_rate": 0.5})
    with pytest.raises(ValueError, match="never won"):
        Edge.from_metrics({"hit_rate": 0.0, "profit_factor": 0.0})
    with pytest.raises(ValueError, match=r"hit rate is undefined \(0.0 trades\)"):
        Edge.from_metrics({"hit_rate": "nan", "profit_factor": "nan", "trade_count": 0.0})


def test_settings_name_the_option_they_refuse() -> None:
    with pytest.raises(ValueError, match="unknown risk setting.*daily_loss"):
        RiskSettings.from_mapping({"daily_loss": 0.02})
    with pytest.raises(ValueError, match="daily_loss_stop=1.5"):
        RiskSettings.from_mapping({"daily_loss_stop": 1.5})
    with pytest.raises(ValueError, match="volatility_action='close'"):
        RiskSettings.from_mapping({"volatility_action": "close"})
    with pytest.raises(ValueError, match="losing_streak='two'"):
        RiskSettings.from_mapping({"losing_streak": "two"})
    settings = RiskSettings.from_mapping({"regime_factors": {"UNKNOWN": "0.2", "PANIC": 0}, "losing_streak": "4"})
    assert settings.regime_factor("PANIC") == 0.0 and settings.losing_streak == 4
    assert RiskSettings.from_mapping(settings.to_dict()) == settings


def test_bars_run_forward_and_a_decision_needs_the_bars_mark() -> None:
    manager = _manager()
    with pytest.raises(ValueError, match="not after the last bar"):
        manager.start_bar(START)
    manager.start_bar(START + STEP)
    with pytest.raises(ValueError, match="no mark of ETH-USDT"):
        _ask(manager)
    with pytest.raises(ValueError, match="no time zone"):
        manager.start_bar(datetime(2025, 1, 1))
    assert RiskManager(RiskSettings()).state == RiskState(cash=10_000.0)
    with pytest.raises(ValueError, match="version"):
        RiskState.from_dict({**manager.state.to_dict(), "version": 0})
