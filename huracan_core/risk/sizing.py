"""Position sizing: how much notional one entry deserves before the portfolio's caps are asked.

The size is volatility-scaled: the stop distance (bps, set by the exits from the regime) is where the market
says the trade is wrong, so the notional is the equity share risked per trade over the loss at the stop — the
distance plus both legs' costs, since a stopped trade pays them too: a wider stop, a smaller position, the same
loss. Kelly caps it: with hit rate p and payoff b (mean win / mean loss) measured out of sample for the champion,
Kelly's stake is f* = p − (1 − p) / b of equity, where the stake is what a losing trade loses — here the loss at
the stop. Only a fraction of f* is risked (the estimates are noisy, and over-betting an overestimated edge is
ruinous where under-betting only grows slower); an f* of 0 or less means the champion has no edge to bet on. The
regime factor scales the result, and the position cap bounds it: the notional is at most ``max_position_share``
of the equity left once the entry leg is paid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from huracan_core.risk.settings import RiskSettings
from huracan_core.trading.costs import BPS


@dataclass(frozen=True)
class Edge:
    """A champion's out-of-sample record: the share of trades won and the mean win over the mean loss."""

    hit_rate: float
    #: mean winning trade / mean losing trade (both positive); inf when it never lost
    payoff: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.hit_rate) and 0.0 <= self.hit_rate <= 1.0):
            raise ValueError(f"edge hit_rate={self.hit_rate!r}: give a share in [0, 1]")
        if math.isnan(self.payoff) or self.payoff <= 0.0:
            raise ValueError(f"edge payoff={self.payoff!r}: give a ratio above 0 (inf when nothing lost)")

    @property
    def kelly(self) -> float:
        """Kelly's stake f* = p − (1 − p) / b, as a share of equity (negative: betting loses)."""
        return self.hit_rate - (1.0 - self.hit_rate) / self.payoff

    @classmethod
    def from_metrics(cls, metrics: Mapping[str, Any]) -> Edge:
        """From a model's out-of-sample summary (``metrics.json``'s ``aggregate``): ``hit_rate`` and
        ``profit_factor`` (gross wins / gross losses = p·win / ((1 − p)·loss), so the payoff is
        profit_factor · (1 − p) / p). A summary without a loss has a NaN profit factor: the payoff is infinite."""
        missing = [k for k in ("hit_rate", "profit_factor") if metrics.get(k) is None]
        if missing:
            raise ValueError(f"the model's metrics lack {', '.join(missing)}: no out-of-sample edge to size from")
        p, factor = float(metrics["hit_rate"]), float(metrics["profit_factor"])  # JSON keeps NaN as "nan"
        if math.isnan(p):
            trades = metrics.get("trade_count")
            raise ValueError(
                f"the model's out-of-sample hit rate is undefined ({trades if trades is not None else 'no'} trades): "
                "no edge to size from"
            )
        if not 0.0 < p <= 1.0:
            raise ValueError(f"the model's out-of-sample hit_rate={p!r}: it never won, there is no edge to size from")
        if math.isnan(factor) or p == 1.0:
            return cls(hit_rate=p, payoff=math.inf)
        if factor <= 0.0:
            raise ValueError(f"the model's out-of-sample profit_factor={factor!r}: it never won")
        return cls(hit_rate=p, payoff=factor * (1.0 - p) / p)


@dataclass(frozen=True)
class Sizing:
    """The size one entry deserves on its own and what set it (every figure in quote currency or a share)."""

    #: ``risk_per_trade`` · equity / loss at the stop: the volatility-scaled size
    risk_notional: float
    #: ``kelly_fraction`` · f* · equity / loss at the stop (0 when f* <= 0)
    kelly_notional: float
    kelly: float
    regime_factor: float
    #: ``max_position_share`` of the equity left after the entry leg's cost
    position_cap: float
    #: min(risk, kelly) · regime factor, then the position cap
    notional: float
    #: the bound that set ``notional``: ``per_trade_risk``, ``kelly`` or ``position_cap``
    binding: str

    def figures(self) -> dict[str, float | str]:
        return {
            "risk_notional": self.risk_notional,
            "kelly": self.kelly,
            "kelly_notional": self.kelly_notional,
            "regime_factor": self.regime_factor,
            "position_cap": self.position_cap,
        }


def size_position(
    equity: float, stop_bps: float, cost_bps: float, edge: Edge, regime: str | None, settings: RiskSettings
) -> Sizing:
    """The notional of one entry with a stop ``stop_bps`` away and legs costing ``cost_bps`` each (bps of the
    notional), before the losing streak, the volatility breaker and the portfolio's caps."""
    if not (math.isfinite(stop_bps) and stop_bps > 0.0):
        raise ValueError(f"stop distance {stop_bps!r} bps: give a distance above 0 (the size is risk over it)")
    if not (math.isfinite(cost_bps) and cost_bps >= 0.0):
        raise ValueError(f"cost of a leg {cost_bps!r} bps: give a cost of 0 or more")
    loss_at_stop = loss_per_notional(stop_bps, cost_bps)
    equity = max(equity, 0.0)
    kelly = edge.kelly
    risk_notional = settings.risk_per_trade * equity / loss_at_stop
    kelly_notional = settings.kelly_fraction * max(kelly, 0.0) * equity / loss_at_stop
    factor = settings.regime_factor(regime)
    cap = settings.max_position_share * equity / (1.0 + settings.max_position_share * cost_bps / BPS)
    base, binding = (risk_notional, "per_trade_risk") if risk_notional <= kelly_notional else (kelly_notional, "kelly")
    scaled = base * factor
    if cap < scaled:
        scaled, binding = cap, "position_cap"
    return Sizing(
        risk_notional=risk_notional,
        kelly_notional=kelly_notional,
        kelly=kelly,
        regime_factor=factor,
        position_cap=cap,
        notional=scaled,
        binding=binding,
    )


def loss_per_notional(stop_bps: float, cost_bps: float) -> float:
    """What a trade stopped out loses per unit of entry notional: the stop distance and both legs' costs."""
    return (stop_bps + 2.0 * cost_bps) / BPS
