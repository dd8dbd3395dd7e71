"""A named feature: an expression builder, its parameters and how many bars of history it needs.

Features reference input columns (``open``..``volume``) and other features by name; the recipe derives the
evaluation order from those references, so shared intermediates (true range, EMAs) are computed once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

#: the units a feature's values are in: a ratio, a return, an oscillator, a flag — the same scale for every coin …
SCALE_FREE = "scale-free"
#: … or the coin's own price or volume: BTC's SMA is 60,000 and XRP's 0.55, so a model split on one learns the price
#: level of its training months, not a pattern that recurs; such a feature never reaches a model or the encoder
PRICE_UNITS = "price"
VOLUME_UNITS = "volume"
UNITS = (SCALE_FREE, PRICE_UNITS, VOLUME_UNITS)


@dataclass(frozen=True)
class Feature:
    """``lookback`` is the index of the first bar that may hold a value (0 = defined from the first bar).

    Names starting with ``_`` are intermediates: computed, shared, but not part of the output.
    ``family`` lets reasons for nulls be specific (cross-asset needs a reference, microstructure needs trades).
    ``units`` says whether the values are scale-free or in the coin's price or volume (``PRICE_UNITS``, ``VOLUME_UNITS``): the
    models' inputs are derived from it (``huracan_core.models.inputs``), so declaring them is all a new feature needs.
    """

    name: str
    build: Callable[..., pl.Expr]
    lookback: int
    family: str
    params: Mapping[str, Any] = field(default_factory=dict)
    units: str = SCALE_FREE
    #: a recursive average (``smoothing``): each day's values also read ``RESTART_BARS`` bars before the day
    recursive: bool = False
    #: whole UTC days before the bar's day that it reads (a cumulative line's window), beyond ``lookback`` bars
    days: int = 0

    def __post_init__(self) -> None:
        if self.units not in UNITS:
            raise ValueError(f"feature {self.name}: units {self.units!r}; give one of {', '.join(UNITS)}")

    @property
    def is_level(self) -> bool:
        """Its values follow the coin's price or volume level."""
        return self.units != SCALE_FREE

    def expr(self) -> pl.Expr:
        """The raw expression; the recipe applies ``finite`` to the stored column (cheaper than inside)."""
        return self.build(**self.params).alias(self.name)

    @property
    def is_output(self) -> bool:
        return not self.name.startswith("_")


def finite(x: pl.Expr) -> pl.Expr:
    """NaN and inf must never reach a model or an engine: they become null, which polars propagates honestly."""
    return pl.when(x.is_finite()).then(x).otherwise(None)


def safe_div(num: pl.Expr, den: pl.Expr, *, otherwise: float | None = None, tiny: float = 0.0) -> pl.Expr:
    """Zero-range bars, zero-volume halts and flat windows give 0/0; the caller chooses what that means.

    ``tiny`` treats a denominator as zero below that magnitude, for denominators that come out of rolling sums
    and may hold floating-point dust instead of an exact zero. ``num`` and ``den`` are evaluated more than once
    (polars does not share subexpressions inside when/then), so pass columns, not rolling windows.
    """
    defined = num.is_not_null() & den.is_not_null()
    return pl.when(defined & (den.abs() > tiny)).then(num / den).when(defined).then(otherwise)
