"""Candle validation: blocking rules that stop bad data, and anomaly reports that never hide real data."""

from huracan_core.validation.anomalies import CandleAnomalies, find_anomalies
from huracan_core.validation.rules import (
    CandleValidationError,
    Problem,
    validate_candles,
)

__all__ = ["CandleAnomalies", "CandleValidationError", "Problem", "find_anomalies", "validate_candles"]
