"""The one alpha-engine interface: weighted, normalised feature signals → direction, confidence, reason.

An engine is a set of *signals*: polars expressions, each already scaled to [-1, 1] with the sign meaning
long (+) or short (−). The engine's score is the weighted mean of its signals; a bar whose score clears
``activation`` gets that sign as direction and |score| as confidence. Everything is a polars expression, so
engines are vectorised over the frame and — because every input is either the bar itself or a trailing
window — causal by construction (the truncation test checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

REGIMES = ("TREND", "RANGE", "PANIC", "UNKNOWN")
NORM_WINDOW = 200
NORM_MIN_SAMPLES = 20

SignalBuilder = Callable[[], dict[str, pl.Expr]]


@dataclass(frozen=True)
class EngineConfig:
    """``weights`` name the engine's signals (and say how much each counts); ``affinity`` is how much the
    engine is trusted in each regime (missing regimes get ``default_affinity``)."""

    weights: Mapping[str, float]
    affinity: Mapping[str, float] = field(default_factory=dict)
    default_affinity: float = 0.3
    activation: float = 0.15


@dataclass(frozen=True)
class Engine:
    name: str
    signals: SignalBuilder
    config: EngineConfig
    requires: tuple[str, ...]

    def contributions(self) -> list[pl.Expr]:
        """Each weighted signal as a column ``_{name}__{signal}``: the heavy rolling work, done once per bar.

        The outputs read these columns instead of repeating the signal expressions (polars does not share
        them across the direction, confidence and reason expressions: computing them once is ~5x faster).
        """
        built = self.signals()
        total = sum(self.config.weights.values())
        return [(built[n] * (w / total)).alias(self._column(n)) for n, w in self.config.weights.items()]

    def outputs(self) -> list[pl.Expr]:
        """``{name}_direction`` (Int8), ``{name}_confidence``, ``{name}_reason``, ``{name}_affinity``, from the
        contribution columns."""
        names = list(self.config.weights)
        parts = [pl.col(self._column(n)) for n in names]
        score = pl.sum_horizontal(parts)
        valid = pl.all_horizontal([c.is_not_null() & c.is_not_nan() for c in parts])
        active = valid & (score.abs() >= self.config.activation)
        direction = pl.when(active).then(score.sign()).otherwise(0).cast(pl.Int8)
        confidence = pl.when(active).then(score.abs().clip(0.0, 1.0)).otherwise(0.0)
        reason = self._reason(parts, score, valid, active)
        affinity = (
            pl.col("regime")
            .replace_strict(dict(self.config.affinity), default=self.config.default_affinity, return_dtype=pl.Float64)
            .fill_null(self.config.default_affinity)
        )
        return [
            direction.alias(f"{self.name}_direction"),
            confidence.alias(f"{self.name}_confidence"),
            reason.alias(f"{self.name}_reason"),
            affinity.alias(f"{self.name}_affinity"),
        ]

    def _reason(self, parts: list[pl.Expr], score: pl.Expr, valid: pl.Expr, active: pl.Expr) -> pl.Expr:
        """``{name}: warm-up``, ``{name}: no edge`` or ``{name} long|short on {strongest signal}``: a code per bar
        looked up among the few sentences there can be. Building each bar's sentence from a list of its signals
        cost most of the engines' time. The strongest signal is the first of the largest |contributions|."""
        names = list(self.config.weights)
        size = [c.abs() for c in parts]
        strongest = pl.lit(len(names) - 1)
        for i in range(len(names) - 2, -1, -1):  # i wins when no later signal is larger (ties: the first)
            strongest = pl.when(size[i] >= pl.max_horizontal(size[i + 1 :])).then(pl.lit(i)).otherwise(strongest)
        code = (
            pl.when(~valid)
            .then(pl.lit(0))
            .when(~active)
            .then(pl.lit(1))
            .otherwise(2 + 2 * strongest + (score <= 0).cast(pl.Int32))
        )
        sentences = [f"{self.name}: warm-up", f"{self.name}: no edge"] + [
            f"{self.name} {side} on {n}" for n in names for side in ("long", "short")
        ]
        return code.replace_strict(list(range(len(sentences))), sentences, return_dtype=pl.String)

    def _column(self, signal: str) -> str:
        return f"_{self.name}__{signal}"

    def evaluate(self, frame: pl.DataFrame) -> pl.DataFrame:
        """One engine's view of every bar: timestamp, direction, confidence, reason, affinity."""
        prefix = f"{self.name}_"
        return run_engines(frame, [self]).rename(lambda c: c.removeprefix(prefix))


def run_engines(frame: pl.DataFrame, engines: Sequence[Engine], segment: str | None = None) -> pl.DataFrame:
    """All engines in one pass: ``timestamp`` plus four ``{engine}_...`` columns per engine that the frame can
    feed; an engine whose required columns are missing is left out rather than fed nulls.

    ``segment`` names a column that splits the frame into windows computed each as if it were the whole frame
    (every trailing window restarts at its segment's first row): many days' own windows in one query."""
    usable = [e for e in engines if all(c in frame.columns for c in e.requires)]
    contributions = [expr for e in usable for expr in e.contributions()]
    if segment is not None:
        contributions = [expr.over(segment) for expr in contributions]
    return (
        _with_regime(frame)
        .lazy()
        .with_columns(*contributions)
        .select("timestamp", *[expr for e in usable for expr in e.outputs()])
        .collect()
    )


def _with_regime(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame without a regime column is treated as all UNKNOWN (affinities still apply)."""
    return frame if "regime" in frame.columns else frame.with_columns(regime=pl.lit("UNKNOWN"))


def engine_names(signals: pl.DataFrame) -> list[str]:
    return [c.removesuffix("_direction") for c in signals.columns if c.endswith("_direction")]


# --- normalisers: every signal must land on [-1, 1] before weighting -------------------------------------


def scale_free(column: str | pl.Expr) -> pl.Expr:
    """tanh of the value over its trailing mean absolute size: comparable across coins and units whatever the
    recipe's scaling, signed when the input is signed."""
    x = pl.col(column) if isinstance(column, str) else column
    typical = x.abs().rolling_mean(NORM_WINDOW, min_samples=NORM_MIN_SAMPLES)
    return (x / (2 * typical)).tanh()


def centred(column: str | pl.Expr, low: float, high: float) -> pl.Expr:
    """A bounded oscillator mapped so that its midpoint is 0 and its bounds are ±1."""
    x = pl.col(column) if isinstance(column, str) else column
    mid, half = (low + high) / 2, (high - low) / 2
    return ((x - mid) / half).clip(-1.0, 1.0)


def unit(column: str | pl.Expr, scale: float) -> pl.Expr:
    """A non-negative magnitude as a [0, 1] strength (``scale`` is where it saturates)."""
    x = pl.col(column) if isinstance(column, str) else column
    return (x.abs() / scale).clip(0.0, 1.0)


def signed_like(strength: pl.Expr, direction: pl.Expr) -> pl.Expr:
    """Give an unsigned strength (ADX, volume spike) the sign of the engine's directional core."""
    return strength * direction.sign()
