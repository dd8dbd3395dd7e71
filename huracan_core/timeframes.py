"""Candle timeframes as durations; one parser so that ``15m`` means the same everywhere."""

from __future__ import annotations

from datetime import timedelta

_UNITS = {"m": 60, "h": 3600, "d": 86400}


def timeframe_seconds(timeframe: str) -> int:
    """Seconds in one candle of ``timeframe`` (``1m``, ``15m``, ``1h``, ``4h``, ``1d``)."""
    amount, unit = timeframe[:-1], timeframe[-1:]
    if unit not in _UNITS or not amount.isdigit() or int(amount) <= 0:
        raise ValueError(f"unknown timeframe {timeframe!r}; expected e.g. 1m, 15m, 1h, 4h, 1d")
    return int(amount) * _UNITS[unit]


def timeframe_ms(timeframe: str) -> int:
    return timeframe_seconds(timeframe) * 1000


def timeframe_delta(timeframe: str) -> timedelta:
    return timedelta(seconds=timeframe_seconds(timeframe))


def bars_per_day(timeframe: str) -> int:
    seconds = timeframe_seconds(timeframe)
    if 86400 % seconds:
        raise ValueError(f"timeframe {timeframe!r} does not divide a day")
    return 86400 // seconds


def bars_per_year(timeframe: str) -> float:
    """Crypto trades every day of the year: 365 days, used to annualise per-bar statistics."""
    return 365.0 * 86400 / timeframe_seconds(timeframe)
