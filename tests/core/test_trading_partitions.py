"""A day's signals read their warm-up days as declared inputs: a warm-up day with candles must have features too."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from huracan_core.day_keys import MissingPartitionError
from huracan_core.trading.costs import CostModel
from huracan_core.trading.signals import signal_partitions

DAY = date(2024, 12, 4)


def test_a_warm_up_day_with_candles_but_no_features_is_an_error_naming_it():
    frame = pl.DataFrame({"timestamp": []})
    candles = {(DAY - timedelta(days=n), "BTC-USDT"): frame for n in range(4)}
    only_today = {(DAY, "BTC-USDT"): frame}
    with pytest.raises(MissingPartitionError, match=r"warm-up.*2024-12-01\|BTC-USDT.*2024-12-03\|BTC-USDT"):
        signal_partitions(candles, only_today, only_today, [(DAY, "BTC-USDT")], warmup_days=3, costs=CostModel())
