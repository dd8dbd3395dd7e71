"""Standard indicators agree with TA-Lib to 1e-9 relative after warm-up, on real candles."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from huracan_core.features import FeatureRecipe
from tests.conftest import real_15m

# A missing C library must skip this module, saying why, not break the collection of the whole suite.
talib = pytest.importorskip("talib", reason="TA-Lib is not installed (the 'test' extra: pip install -e '.[test]')")


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    candles = real_15m("SOL-USDT").head(6000)
    return candles, FeatureRecipe.default("15m").compute(candles)


def _talib_outputs(c: pl.DataFrame) -> dict[str, np.ndarray]:
    h, l, cl, v = (c[x].to_numpy() for x in ("high", "low", "close", "volume"))
    macd, signal, hist = talib.MACD(cl, 12, 26, 9)
    upper, _, lower = talib.BBANDS(cl, 20, 2.0, 2.0, 0)
    slow_k, slow_d = talib.STOCH(h, l, cl, 14, 3, 0, 3, 0)
    out = {f"sma_{n}": talib.SMA(cl, n) for n in (5, 10, 20, 50, 200)}
    out |= {f"ema_{n}": talib.EMA(cl, n) for n in (5, 10, 12, 20, 26)}
    out |= {
        "rsi_14": talib.RSI(cl, 14),
        "atr_14": talib.ATR(h, l, cl, 14),
        "adx": talib.ADX(h, l, cl, 14),
        "plus_di": talib.PLUS_DI(h, l, cl, 14),
        "minus_di": talib.MINUS_DI(h, l, cl, 14),
        "macd": macd,
        "macd_signal": signal,
        "macd_hist": hist,
        "bb_upper": upper,
        "bb_lower": lower,
        "stoch_k": slow_k,
        "stoch_d": slow_d,
        "obv": talib.OBV(cl, v),
    }
    return out


@pytest.mark.parametrize(
    "name",
    ["sma_5", "sma_10", "sma_20", "sma_50", "sma_200", "ema_5", "ema_10", "ema_12", "ema_20", "ema_26", "rsi_14",
     "atr_14", "adx", "plus_di", "minus_di", "macd", "macd_signal", "macd_hist", "bb_upper", "bb_lower", "stoch_k",
     "stoch_d"],
)  # fmt: skip
def test_indicator_matches_talib(frames: tuple[pl.DataFrame, pl.DataFrame], name: str) -> None:
    candles, features = frames
    expected = _talib_outputs(candles)[name]
    got = features[name].to_numpy().astype(float)
    defined = ~np.isnan(expected)
    first = int(np.argmax(defined))
    assert defined[first:].all()
    # Ours may start earlier (e.g. MACD line, %K) but never later, and never disagrees where TA-Lib is defined.
    assert not np.isnan(got[first:]).any()
    np.testing.assert_allclose(got[first:], expected[first:], rtol=1e-9, atol=0)


def test_obv_sums_talibs_terms_over_a_window_of_whole_days(frames: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    """OBV over ``CUMULATIVE_DAYS`` days before the bar's day: TA-Lib's level until the window leaves the frame's
    first bar, then within each day the same bar-to-bar changes (the window drops its oldest day at midnight)."""
    from huracan_core.features.volume import CUMULATIVE_DAYS

    candles, features = frames
    expected, got = _talib_outputs(candles)["obv"], features["obv"].to_numpy()
    day = candles["timestamp"].dt.epoch("d").to_numpy()
    covered = day <= day[0] + CUMULATIVE_DAYS  # the window still reaches back to the frame's first bar
    assert covered.sum() > 96 * CUMULATIVE_DAYS and (~covered).sum() > 96 * 30
    np.testing.assert_allclose(got[covered], expected[covered], rtol=1e-9, atol=0)
    same_day = day[1:] == day[:-1]
    np.testing.assert_allclose(np.diff(got)[same_day], np.diff(expected)[same_day], rtol=1e-9, atol=1e-6)
    assert not np.allclose(got[~covered], expected[~covered], rtol=1e-6)  # the level is the window's, not the frame's


def test_macd_fast_ema_is_seeded_like_talib(frames: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    """TA-Lib's MACD seeds its fast EMA at the slow EMA's first bar; a standalone EMA12 differs early on."""
    _, features = frames
    standalone = (features["ema_12"] - features["ema_26"]).to_numpy()[33:40]
    assert not np.allclose(standalone, features["macd"].to_numpy()[33:40], rtol=1e-9)
