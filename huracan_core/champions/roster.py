"""The roster: which coins to trade on a day, ranked by liquidity, cost and the champion's recent net edge.

The round-trip cost is what the days' ``costs.json`` say was paid: fees and slippage on both legs, the spread,
and funding (per trade when traded; one settlement of a long when not).

A coin without a champion stays on the roster with ``trade_ok`` false and the reason (usually: every model failed
its gates after costs), so a consumer sees the whole universe and why most of it may be closed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import polars as pl

from huracan_core.symbols import to_key

LOOKBACK_DAYS = 7


def roster_days(day: date, lookback_days: int = LOOKBACK_DAYS) -> list[date]:
    """The days a roster of ``day`` reads: the last ``lookback_days``, the day itself included."""
    return [day - timedelta(days=n) for n in range(lookback_days - 1, -1, -1)]


def build_roster(
    day: date,
    timeframe: str,
    champions: Mapping[str, Mapping[str, Any]],
    ledgers: Mapping[tuple[date, str], pl.DataFrame],
    costs: Mapping[tuple[date, str], Mapping[str, float]],
    candles: Mapping[tuple[date, str], pl.DataFrame],
    lookback_days: int = LOOKBACK_DAYS,
) -> dict[str, Any]:
    """``champions``: each coin's ``champion`` partition row of ``day`` (the coins ranked); ``ledgers``,
    ``costs`` and ``candles``: what exists of the coins' last ``lookback_days`` (a missing day counts as nothing
    traded and is listed in ``days_missing``)."""
    days = roster_days(day, lookback_days)
    entries = []
    for symbol, row in sorted(champions.items()):
        symbol = to_key(symbol)
        keys = [(d, symbol) for d in days]
        folder = row.get("champion_folder")
        traded = [ledgers[k] for k in keys if k in ledgers]
        mine = (
            pl.concat(traded, how="diagonal_relaxed").filter(pl.col("model_version") == folder)
            if traded and folder
            else pl.DataFrame()
        )
        paid = [costs[k] for k in keys if k in costs]
        volume = [
            float(candles[k]["quote_volume"].sum())
            for k in keys
            if k in candles and "quote_volume" in candles[k].columns
        ]
        entry = {
            "symbol": symbol,
            "model_path": folder,
            "mlflow_version": row.get("mlflow_version"),
            "trade_ok": bool(row.get("trade_ok")),
            "reason": row.get("reason", ""),
            "spread_bps": _mean([c["spread_bps"] for c in paid]),
            "fee_bps": _mean([c["fee_bps"] for c in paid]),
            "avg_slip_bps": _mean([c["avg_slip_bps"] for c in paid]),
            # a costs.json written before funding was charged paid none
            "funding_bps": _mean([c.get("funding_bps", 0.0) for c in paid]),
            "quote_volume_per_day": _mean(volume),
            "last_7d_trades": mine.height,
            "last_7d_net_bps": float(mine["net_bps"].sum()) if mine.height else None,
            "days_missing": [d.isoformat() for d, s in keys if (d, s) not in ledgers],
            # a champion that came from a research search carries what its corrections found
            "search": json.loads(row["search"]) if row.get("search") else None,
        }
        fee, slip, spread, funding = (entry[k] for k in ("fee_bps", "avg_slip_bps", "spread_bps", "funding_bps"))
        known = None not in (fee, slip, spread, funding)
        entry["round_trip_cost_bps"] = 2 * (fee + slip) + spread + funding if known else None
        entries.append(entry)
    for position, entry in enumerate(_ranked(entries), start=1):
        entry["rank"] = position
    return {
        "date": day.isoformat(),
        "timeframe": timeframe,
        "lookback_days": lookback_days,
        "ranked_by": "trade_ok, then the sum of ranks of liquidity (quote volume), round-trip cost and last_7d_net_bps",
        "symbols": sorted(entries, key=lambda e: e["rank"]),
    }


def _ranked(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tradeable coins first; within each group, the sum of three ranks (1 = best; an unknown figure ranks last)."""

    def ranks(field: str, best_high: bool) -> dict[str, int]:
        known = sorted((e for e in entries if e[field] is not None), key=lambda e: -e[field] if best_high else e[field])
        order = {e["symbol"]: n for n, e in enumerate(known)}
        return {e["symbol"]: order.get(e["symbol"], len(entries)) for e in entries}

    liquidity, cost, edge = (
        ranks("quote_volume_per_day", True),
        ranks("round_trip_cost_bps", False),
        ranks("last_7d_net_bps", True),
    )
    return sorted(
        entries,
        key=lambda e: (not e["trade_ok"], liquidity[e["symbol"]] + cost[e["symbol"]] + edge[e["symbol"]], e["symbol"]),
    )


def _mean(values: Sequence[float]) -> float | None:
    return float(sum(values) / len(values)) if values else None
