"""Freshness checks on the candles and the Engine's outputs, and the sensor that evaluates them
(docs/operations.md#freshness).

Dagster's last-update checks, not its time-partition checks: the assets are partitioned date × symbol, and
``build_time_partition_freshness_checks`` only accepts a time-window partitioning. A last-update check asks whether
any partition was written in the last ``HURACAN_FRESH_WITHIN_HOURS`` (``Settings.fresh_within_hours``) — the daily
Engine writes every one of these assets each night, so a day without a write is a night the Engine did not deliver.

Only a live (``ccxt:``) source gets them. A recorded source ends where its recording ends: nothing new can arrive,
so a check against the clock would fail every day for a cause nobody can remove, and page people daily.
``huracan health`` already says the source is recorded.

A failed check reaches Telegram through the Broadcaster's failed-check sensor, once: Dagster's freshness sensor
does not evaluate a check again while it stands failed (the run that writes the asset evaluates it, and a pass
clears it), so an overdue asset is one message, not one a tick.

Dagster 1.13 marks these builders superseded by ``FreshnessPolicy``. They stay because a policy's verdict is a
freshness state kept by the daemon, not an asset check evaluation: the failed-check sensor would not see it, and
the asset's Checks tab would not list it beside the candle checks.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

from huracan_dagster.defs.partitions import asset_key
from huracan_dagster.settings import Settings

#: what is checked: the candles and the Engine's outputs a person reads (the champion, its trades, the day's summary)
CHECKED = ("candles", "champion", "shadow_trades", "daily_summary")
SENSOR_NAME = "freshness_checks_sensor"
#: how often the sensor looks whether a passed check may have gone overdue
INTERVAL_S = 600


def live_source(source: str) -> bool:
    """Candles fetched from an exchange (``ccxt:binance``), as opposed to a recorded folder or the bundled sample."""
    return source.partition(":")[0] == "ccxt"


def freshness_checks(settings: Settings) -> Sequence[dg.AssetChecksDefinition]:
    """One last-update check per checked asset and timeframe; none for a recorded source."""
    if not live_source(settings.source):
        return []
    keys = [asset_key(tf, name) for tf in settings.timeframes for name in CHECKED]
    with warnings.catch_warnings():  # superseded by FreshnessPolicy in 1.13: why these stay, see the docstring
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        return dg.build_last_update_freshness_checks(
            assets=keys,
            lower_bound_delta=timedelta(hours=settings.fresh_within_hours),
            severity=dg.AssetCheckSeverity.WARN,
        )


def freshness_sensor(checks: Sequence[dg.AssetChecksDefinition], running: bool) -> list[dg.SensorDefinition]:
    """Dagster's sensor for the checks (none without checks); running from the start when automation is on."""
    if not checks:
        return []
    status = dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        return [
            dg.build_sensor_for_freshness_checks(
                freshness_checks=checks, name=SENSOR_NAME, minimum_interval_seconds=INTERVAL_S, default_status=status
            )
        ]
