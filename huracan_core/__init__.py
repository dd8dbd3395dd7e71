"""Huracan's domain library: candles, features, regimes, costs, trades and models.

Pure Python — it never imports dagster, so every piece can be unit-tested and reused by the live consumer.
"""
