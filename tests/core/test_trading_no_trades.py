"""Why a day has no trades, and what trades paid: small frames built here, every expectation read off them."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from huracan_core.trading.costs import CostModel, bar_costs, paid_costs
from huracan_core.trading.no_trades import why_no_trades

T0 = datetime(2024, 12, 1, tzinfo=UTC)
BARS = 6
MARGIN = 3.0


def _quoted() -> pl.DataFrame:
    bars = pl.DataFrame(
        {
            "timestamp": [T0 + timedelta(minutes=15 * i) for i in range(BARS)],
            "close": [100.0] * BARS,
            "volume": [1e4 * (i + 1) for i in range(BARS)],
            "atr_pct": [0.002 * (i + 1) for i in range(BARS)],
        }
    )
    return bar_costs(bars, CostModel(), "binance", "BTC-USDT", 1000.0)


def _decisions(
    policy: str, direction: list[int], edge: list[float], recommendation: list[str] | None = None
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "timestamp": _quoted()["timestamp"],
            "policy": [policy] * BARS,
            "direction": pl.Series(direction, dtype=pl.Int8),
            "recommendation": recommendation or ["SKIP"] * BARS,
            "expected_edge_bps": edge,
        }
    )


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+\.\d", text)]


def test_rules_without_a_consensus_direction_say_so() -> None:
    because = why_no_trades(_decisions("rules", [0] * BARS, [0.0] * BARS), _quoted(), MARGIN)
    assert because.startswith("rules:") and f"none of the {BARS} bars had a consensus direction" in because


def test_rules_name_the_best_edge_and_the_round_trip_it_did_not_beat() -> None:
    quoted = _quoted()
    edges = [1.0, 0.0, 4.5, 2.0, 0.0, 3.0]
    because = why_no_trades(_decisions("rules", [1, 0, -1, 1, 0, 1], edges), quoted, MARGIN)
    best = quoted.row(2, named=True)  # the bar of the best edge among those with a direction
    edge, cost, fees, spread, slippage, funding, margin = _numbers(because)[:7]
    assert edge == pytest.approx(max(edges), abs=0.05) and "00:30 UTC" in because
    assert cost == pytest.approx(best["cost_bps"], abs=0.05) and margin == MARGIN
    assert fees == pytest.approx(2 * best["fee_bps"], abs=0.05) and spread == pytest.approx(
        best["spread_bps"], abs=0.05
    )
    assert slippage == pytest.approx(2 * best["slip_bps"], abs=0.05)
    assert funding == pytest.approx(best["funding_bps"], abs=0.05) and "longs pay, shorts receive" in because
    assert fees + spread + slippage == pytest.approx(cost, abs=0.15)
    assert because.endswith(f"4 of {BARS} bars had a consensus direction")


def test_rules_that_beat_the_cost_but_were_skipped_say_the_consensus_filtered_them() -> None:
    quoted = _quoted()
    rich = float(quoted["cost_bps"][1]) + MARGIN + 5
    because = why_no_trades(_decisions("rules", [0, 1, 0, 0, 0, 0], [0.0, rich, 0, 0, 0, 0]), quoted, MARGIN)
    assert (
        because.startswith("rules: 1 of the 1 bars with a consensus direction expected more") and "skipped" in because
    )


def test_a_model_names_its_best_after_cost_prediction_against_its_margin() -> None:
    edges = [-8.0, -2.5, 1.0, -4.0, 0.5, -1.0]
    because = why_no_trades(_decisions("model", [0] * BARS, edges), _quoted(), MARGIN)
    assert because.startswith("model: best predicted edge after costs 1.0 bps (00:30 UTC) ≤ margin 3.0 bps")
    assert "already deducted" in because


def test_a_signal_on_the_last_bar_has_no_bar_to_enter_at() -> None:
    decisions = _decisions(
        "model", [0] * (BARS - 1) + [1], [0.0] * (BARS - 1) + [9.0], ["SKIP"] * (BARS - 1) + ["TAKE"]
    )
    because = why_no_trades(decisions, _quoted(), MARGIN)
    assert "last bar (01:15 UTC)" in because and "no bar left to enter" in because


def test_no_bars_no_trades() -> None:
    assert why_no_trades(_decisions("rules", [0] * BARS, [0.0] * BARS).clear(), _quoted(), MARGIN) == "no bars this day"


def test_paid_costs_are_zero_without_trades_and_per_round_trip_with_them() -> None:
    ledger = pl.DataFrame(
        {
            "size": [1000.0, 500.0],
            "fees_paid": [1.0, 0.5],
            "spread_paid": [0.2, 0.1],
            "slippage_paid": [0.3, 0.1],
            "funding_paid": [0.1, -0.05],
        }
    )
    nothing = paid_costs(ledger.clear())
    assert nothing["total"] == 0.0
    assert all(math.isnan(nothing[k]) for k in ("fees_bps", "spread_bps", "slippage_bps", "funding_bps", "total_bps"))
    paid = paid_costs(ledger)
    notional, total = 1500.0, float(ledger.select(pl.sum_horizontal(pl.exclude("size"))).to_series().sum())
    assert paid["total"] == pytest.approx(total)
    assert paid["fees_bps"] == pytest.approx(1.5 / notional * 1e4)
    parts = ("fees_bps", "spread_bps", "slippage_bps", "funding_bps")
    assert paid["total_bps"] == pytest.approx(sum(paid[k] for k in parts))
