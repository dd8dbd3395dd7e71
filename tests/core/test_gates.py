"""Promotion gates and the break-even fee: boundaries, figures that cannot be trusted, and re-priced ledgers."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from huracan_core.models.break_even import break_even_fee
from huracan_core.models.gates import (
    DEFAULT_GATE_PROFILE,
    GATE_PROFILES,
    Gate,
    evaluate_gates,
    gate_profile,
)

PASSING = {
    "standard": {
        "sharpe": 1.2,
        "hit_rate": 0.5,
        "net_pnl": 300.0,
        "max_drawdown": 0.1,
        "trade_count": 150.0,
        "expectancy_t": 2.5,
    },
    "strict": {
        "sharpe": 1.5,
        "hit_rate": 0.6,
        "sharpe_gap": 0.1,
        "trade_count": 800.0,
        "fold_sharpe_std": 0.1,
        "expectancy_t": 3.0,
    },
}


@pytest.mark.parametrize("profile", sorted(GATE_PROFILES))
def test_every_gate_of_a_profile_decides_on_its_own_threshold(profile: str) -> None:
    assert evaluate_gates(PASSING[profile], profile).passed
    for gate in gate_profile(profile):
        at_threshold = {**PASSING[profile], gate.metric: gate.threshold}
        report = evaluate_gates(at_threshold, profile)
        inclusive = gate.op in (">=", "<=")
        assert report.passed is inclusive, gate
        assert [r.name for r in report.failed] == ([] if inclusive else [gate.name])
        wrong_side = gate.threshold - 0.01 if gate.op.startswith(">") else gate.threshold + 0.01
        (failed,) = evaluate_gates({**PASSING[profile], gate.metric: wrong_side}, profile).failed
        assert failed.name == gate.name and failed.shortfall == pytest.approx(0.01)


def test_default_profile_is_standard_and_strict_names_the_win_rate() -> None:
    assert DEFAULT_GATE_PROFILE == "standard"
    assert evaluate_gates(PASSING["standard"]).profile == "standard"
    assert {g.name: g.metric for g in gate_profile("strict")}["win_rate"] == "hit_rate"


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("profile", sorted(GATE_PROFILES))
def test_a_missing_or_non_finite_metric_fails_every_gate_it_feeds(profile: str, bad: float | None) -> None:
    for gate in gate_profile(profile):
        metrics = {**PASSING[profile], gate.metric: bad}
        if bad is None:
            del metrics[gate.metric]
        report = evaluate_gates(metrics, profile)
        (failed,) = report.failed
        assert failed.name == gate.name and failed.shortfall is None
        said = "missing" if bad is None else "n/a" if bad != bad else str(bad)  # NaN: undefined, said as n/a
        assert f"{gate.metric} {said}" in report.summary() or f"({gate.metric}) {said}" in report.summary()
        assert report.to_dict()["results"][[g.name for g in gate_profile(profile)].index(gate.name)]["value"] is None


def test_summary_names_every_failed_gate_with_its_figure() -> None:
    metrics = {"sharpe": -0.42, "hit_rate": 0.43, "net_pnl": 12.0, "max_drawdown": 0.05, "trade_count": 37}
    metrics["expectancy_t"] = 1.9
    report = evaluate_gates(metrics)
    assert report.summary() == (
        "failed standard: sharpe -0.42 (needs > 0.5, short by 0.92); "
        "hit_rate 43% (needs > 45%, short by 2%); "
        "trade_count 37 trades (needs >= 100 trades, short by 63 trades)"
    )
    assert evaluate_gates(PASSING["strict"], "strict").summary() == "passed strict"
    json.dumps(report.to_dict(), allow_nan=False)
    assert report.to_dict()["passed"] is False


def test_the_headline_is_one_sentence_naming_each_failed_gate_and_what_it_needs() -> None:
    metrics = {"sharpe": -0.42, "hit_rate": 0.43, "net_pnl": 12.0, "max_drawdown": 0.05, "trade_count": 37}
    assert evaluate_gates({**metrics, "expectancy_t": 0.8}).headline() == (
        "Failed 4 of 6 standard gates: sharpe -0.42 (needs > 0.5); hit_rate 43% (needs > 45%); "
        "trade_count 37 trades (needs >= 100 trades); expectancy_t 0.8 (needs > 1.65)."
    )
    assert evaluate_gates(PASSING["strict"], "strict").headline() == "Passed all 6 strict gates."


def test_figures_that_could_not_be_measured_read_n_a_in_the_headline_and_in_each_result() -> None:
    """A model that never traded: its Sharpe and hit rate are undefined (NaN), said together as n/a, never 0 or nan."""
    no_trades = {"sharpe": math.nan, "hit_rate": math.nan, "net_pnl": 0.0, "max_drawdown": 0.0, "trade_count": 0}
    no_trades["expectancy_t"] = math.nan
    report = evaluate_gates(no_trades)
    assert report.headline() == (
        "Failed 5 of 6 standard gates: net_pnl 0 (needs > 0); trade_count 0 trades (needs >= 100 trades); "
        "sharpe, hit_rate, expectancy_t n/a."
    )
    texts = {r.name: (r.value_text(), r.needs, r.short_by_text()) for r in report.results}
    assert texts == {
        "sharpe": ("n/a", "> 0.5", "n/a"),
        "hit_rate": ("n/a", "> 45%", "n/a"),
        "net_pnl": ("0", "> 0", "0"),
        "max_drawdown": ("0%", "< 20%", ""),
        "trade_count": ("0 trades", ">= 100 trades", "100 trades"),
        "expectancy_t": ("n/a", "> 1.65", "n/a"),
    }
    assert "nan" not in report.headline() + report.summary()


def test_custom_gates_and_bad_profiles() -> None:
    report = evaluate_gates({"profit_factor": 1.1}, [Gate("pf", "profit_factor", ">=", 1.3)])
    assert report.profile == "custom"
    assert report.summary() == "failed custom: pf (profit_factor) 1.1 (needs >= 1.3, short by 0.2)"
    with pytest.raises(ValueError, match="known profiles: standard, strict"):
        gate_profile("lenient")
    with pytest.raises(ValueError, match="empty profile"):
        evaluate_gates({}, [])
    with pytest.raises(ValueError, match="unknown operator '=='"):
        Gate("x", "x", "==", 1.0)  # type: ignore[arg-type]


def _ledger(gross_bps: list[float], fee_bps: float = 10.0, size: float = 1000.0) -> pl.DataFrame:
    """Trades of one size; spread 2 bps and slippage 1 bps per trade (both legs), fees ``fee_bps`` per side."""
    n = len(gross_bps)
    per_quote = size / 1e4
    net_bps = [g - 2 * fee_bps - 3.0 for g in gross_bps]
    return pl.DataFrame(
        {
            "trade_id": [f"t{i}" for i in range(n)],
            "size": [size] * n,
            "gross_bps": gross_bps,
            "net_bps": net_bps,
            "net_pnl": [b * per_quote for b in net_bps],
            "fees_paid": [2 * fee_bps * per_quote] * n,
            "spread_paid": [2.0 * per_quote] * n,
            "slippage_paid": [1.0 * per_quote] * n,
        }
    )


def _profitable(ledger: pl.DataFrame):
    """Passes while the ledger's net P&L, re-priced at ``fee`` a side, stays positive (fees paid at 10 bps)."""
    gate = [Gate("net_pnl", "net_pnl", ">", 0.0)]
    return lambda fee: evaluate_gates({"net_pnl": float((ledger["net_bps"] + 2 * (10.0 - fee)).sum())}, gate).passed


def test_break_even_fee_matches_the_hand_computed_fee() -> None:
    # mean gross 20 bps, 3 bps spread + slippage: profitable while 20 − 3 − 2·fee > 0, i.e. fee < 8.5
    ledger = _ledger([35.0, 5.0, 20.0])
    fee = break_even_fee(_profitable(ledger), 10.0, tolerance_bps=0.01)
    assert fee is not None and 8.5 - 0.01 <= fee < 8.5
    assert _profitable(ledger)(fee)


def test_break_even_fee_at_the_ends_of_the_range() -> None:
    assert break_even_fee(_profitable(_ledger([40.0])), 10.0) == 10.0  # already passes: no search
    assert break_even_fee(_profitable(_ledger([2.0, 3.0])), 10.0) is None  # spread + slippage alone sink it
    with pytest.raises(ValueError, match="current_fee_bps"):
        break_even_fee(_profitable(_ledger([40.0])), -1.0)
