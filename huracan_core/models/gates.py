"""Promotion gates: the thresholds a model's out-of-sample metrics must clear before it may trade.

Metric names are those of ``huracan_core.trading.metrics.summary`` (all net of costs) plus ``sharpe_gap`` (the
train−test Sharpe gap as a fraction of the train Sharpe) and ``fold_sharpe_std`` (spread of the per-fold test
Sharpes), which training computes. A metric that is missing, NaN or infinite fails its gate: a figure nobody
could compute must never let a model through by accident.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Op = Literal[">", ">=", "<", "<="]
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Gate:
    """``metric op threshold`` must hold. ``unit`` is how a person reads the figure: ``"%"`` shows a fraction
    (0.45) as a percentage (45%), any other unit is written after the number."""

    name: str
    metric: str
    op: Op
    threshold: float
    unit: str = ""

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"gate {self.name!r}: unknown operator {self.op!r}; expected one of {', '.join(_OPS)}")
        if not math.isfinite(self.threshold):
            raise ValueError(f"gate {self.name!r}: threshold must be finite, got {self.threshold}")

    def __str__(self) -> str:
        """The rule as docs/learning.md states it (a test keeps the page equal to the profiles)."""
        label = self.name if self.name == self.metric else f"{self.name} ({self.metric})"
        return f"{label} {self.op} {_fmt(self.threshold, self.unit)}"


GATE_PROFILES: dict[str, tuple[Gate, ...]] = {
    "standard": (
        Gate("sharpe", "sharpe", ">", 0.5),
        Gate("hit_rate", "hit_rate", ">", 0.45, "%"),
        Gate("net_pnl", "net_pnl", ">", 0.0),
        Gate("max_drawdown", "max_drawdown", "<", 0.20, "%"),
        Gate("trade_count", "trade_count", ">=", 100, "trades"),
        Gate("expectancy_t", "expectancy_t", ">", 1.645),
    ),
    "strict": (
        Gate("sharpe", "sharpe", ">=", 1.0),
        Gate("win_rate", "hit_rate", ">=", 0.55, "%"),
        Gate("sharpe_gap", "sharpe_gap", "<=", 0.30, "%"),
        Gate("trade_count", "trade_count", ">=", 500, "trades"),
        Gate("fold_sharpe_std", "fold_sharpe_std", "<=", 0.2),
        Gate("expectancy_t", "expectancy_t", ">", 2.326),
    ),
}
DEFAULT_GATE_PROFILE = "standard"


@dataclass(frozen=True)
class GateResult:
    """``value`` is the figure as given (None when missing; NaN/inf kept so the summary can show it).
    ``shortfall`` is how far the value is from passing in the metric's own scale: 0 when passed, None when
    the value is missing or not finite."""

    name: str
    metric: str
    op: Op
    threshold: float
    unit: str
    value: float | None
    passed: bool
    shortfall: float | None

    @property
    def label(self) -> str:
        return self.name if self.name == self.metric else f"{self.name} ({self.metric})"

    @property
    def needs(self) -> str:
        return f"{self.op} {_fmt(self.threshold, self.unit)}"

    def value_text(self) -> str:
        """The figure in the gate's unit: "n/a" when it could not be measured (NaN: a Sharpe or hit rate of no
        trades, a flat curve), "missing" when nobody computed it, the number as it is when it is infinite."""
        if self.value is None:
            return "missing"
        if math.isnan(self.value):
            return "n/a"
        return _fmt(self.value, self.unit) if math.isfinite(self.value) else str(self.value)

    def short_by_text(self) -> str:
        """How far from passing, in the gate's unit: "" when passed, "n/a" when no finite figure was measured."""
        if self.passed:
            return ""
        return "n/a" if self.shortfall is None else _fmt(self.shortfall, self.unit)

    def describe(self) -> str:
        needs = f"needs {self.needs}"
        if self.value is None:
            return f"{self.label} missing ({needs})"
        if self.shortfall is None and math.isnan(self.value):
            return f"{self.label} n/a ({needs}; undefined: no trades or no variation)"
        if self.shortfall is None:
            return f"{self.label} {self.value_text()} ({needs}; not a finite number)"
        short = f", short by {self.short_by_text()}" if not self.passed else ""
        return f"{self.label} {self.value_text()} ({needs}{short})"

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "metric": self.metric,
            "op": self.op,
            "threshold": self.threshold,
            "unit": self.unit,
            "value": _finite_or_none(self.value),
            "passed": self.passed,
            "shortfall": self.shortfall,
        }


@dataclass(frozen=True)
class GateReport:
    profile: str
    results: tuple[GateResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> tuple[GateResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def summary(self) -> str:
        """One line for logs and alerts, naming every failed gate with its figure."""
        if self.passed:
            return f"passed {self.profile}"
        return f"failed {self.profile}: " + "; ".join(r.describe() for r in self.failed)

    def headline(self) -> str:
        """The verdict in one sentence, for a person at a glance (the model's check, the first line of its
        metadata): how many gates failed, each measured one with its figure and what it needs, the ones that
        could not be measured named together. ``summary`` keeps the shortfalls and the reasons."""
        if self.passed:
            return f"Passed all {len(self.results)} {self.profile} gates."
        parts = [f"{r.label} {r.value_text()} (needs {r.needs})" for r in self.failed if r.shortfall is not None]
        unmeasured: dict[str, list[str]] = {}
        for r in self.failed:
            if r.shortfall is None:
                unmeasured.setdefault(r.value_text(), []).append(r.label)
        parts += [f"{', '.join(labels)} {text}" for text, labels in unmeasured.items()]
        return f"Failed {len(self.failed)} of {len(self.results)} {self.profile} gates: {'; '.join(parts)}."

    def to_dict(self) -> dict[str, object]:
        return {"profile": self.profile, "passed": self.passed, "results": [r.to_dict() for r in self.results]}


def gate_profile(name: str) -> tuple[Gate, ...]:
    if name not in GATE_PROFILES:
        raise ValueError(f"unknown gate profile {name!r}; known profiles: {', '.join(sorted(GATE_PROFILES))}")
    return GATE_PROFILES[name]


def evaluate_gates(metrics: Mapping[str, float], profile: str | Sequence[Gate] = DEFAULT_GATE_PROFILE) -> GateReport:
    """Judge ``metrics`` against a named profile, or against gates given directly (reported as ``custom``)."""
    name, gates = (profile, gate_profile(profile)) if isinstance(profile, str) else ("custom", tuple(profile))
    if not gates:
        raise ValueError("no gates to evaluate: an empty profile would pass anything")
    return GateReport(name, tuple(_judge(gate, metrics.get(gate.metric)) for gate in gates))


def _judge(gate: Gate, raw: float | None) -> GateResult:
    value = None if raw is None else float(raw)
    passed, shortfall = False, None  # no finite value: failed, by no measurable amount
    if value is not None and math.isfinite(value):
        passed = _OPS[gate.op](value, gate.threshold)
        if passed:
            shortfall = 0.0
        elif gate.op in (">", ">="):
            shortfall = gate.threshold - value
        else:
            shortfall = value - gate.threshold
    return GateResult(gate.name, gate.metric, gate.op, gate.threshold, gate.unit, value, passed, shortfall)


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{_number(value * 100)}%"
    return f"{_number(value)} {unit}" if unit else _number(value)


def _number(value: float) -> str:
    """Readable without scientific notation for P&L-sized figures, 3 significant digits for ratios."""
    value += 0.0  # -0.0 reads as "-0"
    if value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3g}"


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
