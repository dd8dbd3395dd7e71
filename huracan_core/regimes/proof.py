"""The causality proof of the regimes on a live run, with the same bounded sampling as the features' proof."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from huracan_core.day_keys import DayKey, last_per_symbol
from huracan_core.features.causality import CausalityReport, check_causality
from huracan_core.features.windows import sample_timestamps
from huracan_core.regimes.detector import RegimeDetector


def prove_regime_causality(
    detector: RegimeDetector, features: Mapping[DayKey, pl.DataFrame], samples: int
) -> dict[DayKey, CausalityReport]:
    """``samples`` bar times of each symbol's last partition: the regime from features truncated at t equals the
    regime from the whole partition."""
    return {
        key: check_causality(detector.detect, features[key], sample_timestamps(features[key], samples))
        for key in last_per_symbol(features)
    }
