"""The promotion rule: paired per-period returns, bootstrap and SPA tests, gates, trades, margin, first champions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from huracan_core.champions.promotion import (
    Contender,
    Decision,
    PromotionRule,
    decide,
    period_returns,
)

PERIODS = 7 * 24  # a week of hourly periods
RULE = PromotionRule(reps=500)


def _market(rng: np.random.Generator) -> np.ndarray:
    """The moves every model on the coin shares: large, and cancelled by pairing."""
    return rng.normal(0.0, 20.0, PERIODS)


def _model(
    name: str,
    rng: np.random.Generator,
    market: np.ndarray,
    edge_bps_per_day: float = 0.0,
    trades: int = 100,
    passed_gates: bool = True,
) -> Contender:
    returns = market + rng.normal(0.5, 3.0, PERIODS) + edge_bps_per_day / 24.0
    return Contender(
        name, passed_gates, "all gates passed" if passed_gates else "sharpe 0.2 (needs > 0.5)", returns, trades
    )


def _field(seed: int, edges: list[float]) -> tuple[Contender, list[Contender]]:
    rng = np.random.default_rng(seed)
    market = _market(rng)
    return _model("champ", rng, market), [_model(f"c{i}", rng, market, e) for i, e in enumerate(edges)]


def test_identical_returns_are_a_tie_and_keep_the_champion() -> None:
    champ, _ = _field(0, [])
    twin = Contender("twin", True, "ok", champ.returns.copy(), 100)
    for rule in (RULE, PromotionRule(reps=500, margin_bps_per_day=0.0)):
        d = decide(champ, [twin], rule)
        assert (d.promoted, d.champion_after, d.winner) == (False, "champ", None)
        assert "tie" in d.reason and d.figures["twin"]["mean_diff_bps_per_day"] == 0.0


def test_clear_edge_is_promoted_by_the_bootstrap() -> None:
    champ, (challenger,) = _field(1, [30.0])
    d = decide(champ, [challenger], RULE)
    assert (d.promoted, d.winner, d.champion_after, d.test) == (True, "c0", "c0", "stationary-bootstrap")
    assert d.p_value is not None and d.p_value < 0.05
    assert d.figures["c0"]["p_value"] == d.p_value and d.figures["c0"]["mean_diff_bps_per_day"] > 2.0
    assert d.reason.startswith("promoted c0 over champion champ")
    assert sum(decide(*_field(seed, [30.0]), RULE).promoted for seed in range(20)) >= 18


def test_noise_challenger_is_rarely_promoted() -> None:
    promoted = [decide(*_field(seed, [0.0]), RULE).promoted for seed in range(100)]
    assert sum(promoted) <= 12  # ~5 % expected at 95 %; a test ignoring its p-value would promote ~45 %


def test_several_noise_challengers_under_spa_are_rarely_promoted() -> None:
    decisions = [decide(*_field(seed, [0.0] * 5), RULE) for seed in range(100)]
    assert {d.test for d in decisions} == {"spa"}
    # Each tested alone at 5 %, the best of five passes ~20 % of the time; SPA keeps the family near 5 %.
    assert sum(d.promoted for d in decisions) <= 12


def test_spa_promotes_the_one_real_edge_among_several() -> None:
    for seed in range(5):
        d = decide(*_field(seed, [0.0, 30.0, 0.0, 0.0]), RULE)
        assert (d.promoted, d.winner, d.test) == (True, "c1", "spa"), d.reason
        assert d.p_value is not None and d.p_value < 0.05


def test_failed_gates_never_promote_even_with_a_large_edge() -> None:
    rng = np.random.default_rng(2)
    market = _market(rng)
    champ = _model("champ", rng, market)
    star = _model("star", rng, market, edge_bps_per_day=500.0, passed_gates=False)
    d = decide(champ, [star], RULE)
    assert (d.promoted, d.champion_after, d.test) == (False, "champ", "none")
    assert "star failed gates: sharpe 0.2 (needs > 0.5)" in d.reason
    assert d.figures["star"]["status"] == "failed gates: sharpe 0.2 (needs > 0.5)"
    first = decide(None, [star], RULE)
    assert (first.promoted, first.champion_after) == (False, None)
    assert first.reason == "no champion yet and no eligible challenger (star failed gates: sharpe 0.2 (needs > 0.5))"


def test_min_trades_is_enforced() -> None:
    rng = np.random.default_rng(3)
    market = _market(rng)
    champ = _model("champ", rng, market)
    few = _model("few", rng, market, edge_bps_per_day=500.0, trades=12)
    d = decide(champ, [few], RULE)
    assert not d.promoted and "too few trades: 12 < 20" in d.reason
    assert decide(champ, [few], PromotionRule(reps=500, min_trades=12)).promoted


def test_an_advantage_below_the_margin_keeps_the_champion() -> None:
    rng = np.random.default_rng(4)
    market = _market(rng)
    champ = Contender("champ", True, "ok", market, 100)
    steady = Contender("steady", True, "ok", market + 1.5 / 24.0, 100)  # +1.5 bps/day, every period, no noise
    kept = decide(champ, [steady], RULE)
    assert not kept.promoted and "does not exceed the 2.00 bps/day margin" in kept.reason
    assert kept.figures["steady"]["mean_diff_bps_per_day"] == pytest.approx(1.5)
    assert decide(champ, [steady], PromotionRule(reps=500, margin_bps_per_day=1.0)).promoted


def test_first_gate_passing_profitable_model_becomes_champion() -> None:
    rng = np.random.default_rng(5)
    market = rng.normal(0.0, 3.0, PERIODS)
    good = Contender("good", True, "ok", market + 1.0, 40)
    better = Contender("better", True, "ok", market + 2.0, 40)
    failed = Contender("failed", False, "hit_rate 40% (needs > 45%)", market + 9.0, 40)
    d = decide(None, [good, failed, better], RULE)
    assert (d.promoted, d.winner, d.champion_after, d.test) == (True, "better", "better", "first-champion")
    assert d.reason.startswith("first champion better") and d.p_value is None
    assert d.figures["failed"]["status"].startswith("failed gates")


def test_a_first_model_losing_after_costs_does_not_become_champion() -> None:
    loser = Contender("loser", True, "ok", np.random.default_rng(6).normal(0.0, 3.0, PERIODS) - 1.0, 40)
    d = decide(None, [loser], RULE)
    assert (d.promoted, d.winner, d.champion_after) == (False, None, None)
    assert "does not make money after costs" in d.reason


def test_challenger_named_like_the_champion_is_ignored() -> None:
    champ, _ = _field(7, [])
    d = decide(champ, [Contender("champ", True, "ok", champ.returns + 50.0, 100)], RULE)
    assert (d.promoted, d.champion_after) == (False, "champ")
    assert "already champion" in str(d.figures["champ"]["status"])
    assert d.reason == "kept champion champ: no eligible challenger (champ already champion)"


def test_mismatched_window_lengths_are_an_error_naming_both() -> None:
    champ, _ = _field(8, [])
    short = Contender("short", True, "ok", champ.returns[:-24], 100)
    with pytest.raises(ValueError, match=r"'short' has 144 periods but champion 'champ' has 168"):
        decide(champ, [short], RULE)
    with pytest.raises(ValueError, match=r"'short' has 144 periods but first challenger 'champ' has 168"):
        decide(None, [champ, short], RULE)


def test_period_returns_sum_trades_into_their_entry_period_and_pair_lengths() -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    end = start + timedelta(hours=4, minutes=30)  # 4.5 h: the partial last hour is a period too
    at = [
        start - timedelta(minutes=1),
        start,
        start + timedelta(minutes=59),
        start + timedelta(hours=2, minutes=5),
        start + timedelta(hours=4, minutes=29),
        end,
    ]
    ledger = pl.DataFrame(
        {"entry_time": at, "net_bps": [100.0, 5.0, -2.0, 7.5, 1.0, 100.0]},
        schema={"entry_time": pl.Datetime("ns", "UTC"), "net_bps": pl.Float64},
    )
    r = period_returns(ledger, start, end)
    np.testing.assert_array_equal(r, [3.0, 0.0, 7.5, 0.0, 1.0])
    empty = period_returns(ledger.clear(), start, end)
    np.testing.assert_array_equal(empty, np.zeros(5))
    assert period_returns(ledger, start, end, timedelta(minutes=30)).size == 9


def test_period_returns_name_what_is_wrong() -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    ok = pl.DataFrame(
        {"entry_time": [start], "net_bps": [1.0]},
        schema={"entry_time": pl.Datetime("us", "UTC"), "net_bps": pl.Float64},
    )
    with pytest.raises(ValueError, match="lacks column.*net_bps"):
        period_returns(ok.drop("net_bps"), start, start + timedelta(hours=1))
    with pytest.raises(ValueError, match="time-zone-aware Datetime"):
        period_returns(
            ok.with_columns(pl.col("entry_time").dt.replace_time_zone(None)), start, start + timedelta(hours=1)
        )
    with pytest.raises(ValueError, match="not after its start"):
        period_returns(ok, start, start)
    with pytest.raises(ValueError, match="non-finite net_bps"):
        period_returns(ok.with_columns(net_bps=pl.lit(float("nan"))), start, start + timedelta(hours=1))


def test_decisions_are_deterministic_and_json_safe() -> None:
    for edges in ([10.0], [0.0, 10.0, 5.0]):
        a, b = decide(*_field(9, edges), RULE), decide(*_field(9, edges), RULE)
        assert a == b
        json.dumps(a.to_dict(), allow_nan=False)
    nan_p = Decision(False, None, "champ", "kept", "spa", float("nan"), {"x": {"p_value": float("inf")}})
    assert json.loads(json.dumps(nan_p.to_dict(), allow_nan=False))["figures"]["x"]["p_value"] is None
    assert json.dumps(RULE.to_dict(), allow_nan=False)


def test_rule_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="confidence must be in"):
        PromotionRule(confidence=1.0)
    with pytest.raises(ValueError, match="block_periods"):
        PromotionRule(block_periods=0)
