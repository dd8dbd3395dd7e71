"""Every figure the risk manager decides by, in one record, so that a deployment changes risk by config alone.

Shares are fractions of equity (0.025 = 2.5 %). The defaults are the product's stated limits (issue 25); the
regime factors and the share risked per trade are starting points nobody has measured yet, chosen so that a
market the detector calls PANIC or cannot classify trades smaller, never larger, than a clean one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, cast

VolatilityAction = Literal["defensive", "block"]
VOLATILITY_ACTIONS: tuple[VolatilityAction, ...] = ("defensive", "block")


@dataclass(frozen=True)
class RiskSettings:
    #: the equity a fresh state starts with (quote currency)
    starting_equity: float = 10_000.0
    #: equity lost at the stop of one trade, as a share of equity: the volatility-scaled size is this over the
    #: stop distance
    risk_per_trade: float = 0.005
    #: the share of Kelly's stake risked at most (a quarter Kelly: the champion's hit rate and payoff are
    #: estimates, and full Kelly on an overestimated edge loses money)
    kelly_fraction: float = 0.25
    #: one position's notional at most, as a share of equity
    max_position_share: float = 0.05
    #: the notional on one coin at most (every open position on it), as a share of equity
    max_coin_share: float = 0.25
    #: the notional of every open position together at most, as a multiple of equity
    max_gross_leverage: float = 2.0
    #: the day's loss (from the equity at 00:00 UTC, open positions marked) that stops entries for the rest of
    #: the day; the open risk (every open position's loss to its stop) may never exceed what is left of it
    daily_loss_stop: float = 0.025
    #: this many losing trades in a row …
    losing_streak: int = 3
    #: … multiply every new size by this until a trade wins
    streak_factor: float = 0.5
    #: the coin's volatility rank in its trailing window (the ``volatility_percentile`` feature, 0..1) above
    #: which its volatility breaker is tripped
    volatility_percentile: float = 0.95
    #: what a tripped volatility breaker does: ``defensive`` sizes by ``volatility_factor``, ``block`` refuses
    volatility_action: VolatilityAction = "defensive"
    volatility_factor: float = 0.5
    #: size multiplier by the regime of the signal bar; a regime not listed takes UNKNOWN's
    regime_factors: Mapping[str, float] = field(
        default_factory=lambda: {"TREND": 1.0, "RANGE": 1.0, "PANIC": 0.5, "UNKNOWN": 0.75}
    )
    #: an order smaller than this (quote currency) is not worth its fees: the rule that shrank it refuses
    min_notional: float = 10.0

    def __post_init__(self) -> None:
        shares = {
            "risk_per_trade": self.risk_per_trade,
            "kelly_fraction": self.kelly_fraction,
            "max_position_share": self.max_position_share,
            "max_coin_share": self.max_coin_share,
            "daily_loss_stop": self.daily_loss_stop,
            "streak_factor": self.streak_factor,
            "volatility_factor": self.volatility_factor,
        }
        for name, value in shares.items():
            if not (math.isfinite(value) and 0.0 < value <= 1.0):
                raise ValueError(f"risk setting {name}={value!r}: give a share in (0, 1]")
        for name, value in {
            "starting_equity": self.starting_equity,
            "max_gross_leverage": self.max_gross_leverage,
        }.items():
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"risk setting {name}={value!r}: give a number above 0")
        if not (math.isfinite(self.min_notional) and self.min_notional >= 0.0):
            raise ValueError(f"risk setting min_notional={self.min_notional!r}: give a number of 0 or more")
        if not (math.isfinite(self.volatility_percentile) and 0.0 <= self.volatility_percentile < 1.0):
            raise ValueError(
                f"risk setting volatility_percentile={self.volatility_percentile!r}: give a rank in [0, 1)"
            )
        if isinstance(self.losing_streak, bool) or not isinstance(self.losing_streak, int) or self.losing_streak < 1:
            raise ValueError(f"risk setting losing_streak={self.losing_streak!r}: give a whole number, 1 or more")
        if self.volatility_action not in VOLATILITY_ACTIONS:
            raise ValueError(
                f"risk setting volatility_action={self.volatility_action!r}: give one of {', '.join(VOLATILITY_ACTIONS)}"
            )
        if "UNKNOWN" not in self.regime_factors:
            raise ValueError("risk setting regime_factors: give UNKNOWN's factor (a regime not listed takes it)")
        for regime, factor in self.regime_factors.items():
            if not (math.isfinite(factor) and 0.0 <= factor <= 1.0):
                raise ValueError(f"risk setting regime_factors[{regime!r}]={factor!r}: give a factor in [0, 1]")

    def regime_factor(self, regime: str | None) -> float:
        return self.regime_factors.get(regime or "UNKNOWN", self.regime_factors["UNKNOWN"])

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "regime_factors": dict(self.regime_factors)}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> RiskSettings:
        """Settings from config (a JSON object, parsed environment variables): the defaults where a name is
        absent; an unknown name is refused, since a misspelt limit would otherwise silently keep its default."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown risk setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        parsed: dict[str, Any] = {}
        for name, value in values.items():
            if name == "regime_factors":
                if not isinstance(value, Mapping):
                    raise ValueError(f"risk setting regime_factors={value!r}: give a mapping of regime to factor")
                parsed[name] = {str(k): _number(f"regime_factors[{k!r}]", v) for k, v in value.items()}
            elif name == "volatility_action":
                parsed[name] = cast(VolatilityAction, str(value))
            elif name == "losing_streak":
                parsed[name] = _whole(name, value)
            else:
                parsed[name] = _number(name, value)
        return cls(**parsed)


def _number(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"risk setting {name}={value!r}: give a number") from None


def _whole(name: str, value: Any) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"risk setting {name}={value!r}: give a whole number")
    return int(text)
