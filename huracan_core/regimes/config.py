"""Regime score coefficients and thresholds, in one place so that tuning is a config change, not a code change.

Scores (inputs are feature columns, see ``detector.scores``):

    trend = −0.15 + 1.8·|trend_strength| + 0.035·adx + 1.1·|ema_slope| + 0.9·|momentum_slope|
    range = 0.1 + 1.2·compression − 0.8·bb_width_pct − 0.9·|trend_strength|
    panic = −1.0 + 1.4·volatility_ratio + 1.6·volatility_percentile + 0.05·kurtosis − 0.03·skewness

Scale decisions (measured on 10 pairs × 2024 of 15m candles, see the report in the regime tests):
* ``adx`` enters as ``adx_scale``·adx = ADX on a 0..1 scale. On TA-Lib's 0..100 scale, 0.035·adx alone
  (0.9 at a typical ADX of 26) clears the threshold, and TREND took 95 % of bars.
* TREND is two-sided: a down-trend is as much a trend as an up-trend, so the directional inputs enter as
  absolute values (direction is the sign of ``trend_strength``). RANGE likewise penalises |trend_strength|:
  a strong down-trend must not make a market look more range-bound.
* ``volatility_ratio`` enters as (ratio − ``volatility_ratio_centre``): the raw ratio sits near 1 in calm
  markets, which alone would put PANIC over its threshold (17-23 % PANIC uncentred, ~2.5 % centred).
* ``trend_strength`` is (EMA12 − EMA26)/(2·ATR14) (see the feature); with 1·ATR TREND took 64 % of bars.

Measured shares with these defaults (10 pairs × 2024, 15m): TREND 39.8 %, RANGE 38.8 %, PANIC 2.5 %,
UNKNOWN 18.9 %.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegimeConfig:
    trend_bias: float = -0.15
    trend_strength: float = 1.8
    trend_adx: float = 0.035
    trend_ema_slope: float = 1.1
    trend_momentum_slope: float = 0.9

    range_bias: float = 0.1
    range_compression: float = 1.2
    range_bb_width: float = -0.8
    range_trend_strength: float = -0.9

    panic_bias: float = -1.0
    panic_volatility_ratio: float = 1.4
    panic_volatility_percentile: float = 1.6
    panic_kurtosis: float = 0.05
    panic_skewness: float = -0.03

    trend_threshold: float = 0.6
    range_threshold: float = 0.6
    panic_threshold: float = 0.7

    adx_scale: float = 0.01
    volatility_ratio_centre: float = 1.0
    two_sided_trend: bool = True
    # Confidence = tanh(margin / confidence_margin): a score one ``confidence_margin`` past its threshold gives 0.76.
    confidence_margin: float = 0.5
