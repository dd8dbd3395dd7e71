"""LOOKS FORWARD ON PURPOSE: every bar's labelled long and short as ledger rows — "shadow trading on everything".

The traded ledger is empty on most days when no model beats the costs; the opportunities never are, so the win/
loss, regime, pattern and post-exit analyses always have every bar's outcome under the trader's own exits to
learn from. Read by the analysis only, never an input feature.
"""

from __future__ import annotations

import polars as pl

from huracan_core.models.lookahead_labels import SIDES
from huracan_core.trading.costs import BPS
from huracan_core.trading.shadow_trader import NON_FEATURE_COLUMNS


def opportunity_ledger(
    labels: pl.DataFrame, bars: pl.DataFrame, symbol: str, notional: float, *, day: str | None = None
) -> pl.DataFrame:
    """One row per complete label and side, with the shadow ledger's columns (``kind`` = ``opportunity``).

    ``bars``: candles + features + regime of the labelled day and the bar after it (the entry is the next bar's
    open); the entry feature vector is the signal bar's features as ``f_<feature>``.

    ``day``: a column of ``labels`` and ``bars`` that holds several days at once, each day's labels matched with
    its own bars only (a bar's next bar is the next of the same day): the rows carry it and are ordered by it first.
    """
    keys = [day] if day else []
    features = [c for c in bars.columns if c not in {*NON_FEATURE_COLUMNS, *keys} and bars.schema[c].is_numeric()]
    at_signal = bars.select(
        *keys,
        "timestamp",
        _next("timestamp", day).alias("entry_time"),
        _next("open", day).alias("entry_price"),
        pl.col("regime").fill_null("UNKNOWN") if "regime" in bars.columns else pl.lit("UNKNOWN").alias("regime"),
        *[pl.col(c).cast(pl.Float64).alias(f"f_{c}") for c in features],
    )
    rows = []
    for side, direction in SIDES.items():
        rows.append(
            labels.filter(pl.col(f"{side}_net_bps").is_not_null())
            .join(at_signal, on=[*keys, "timestamp"], how="left")
            .select(
                *keys,
                pl.concat_str(pl.lit(f"{symbol}-{side}-"), pl.col("timestamp").dt.strftime("%Y%m%dT%H%M%SZ")).alias(
                    "trade_id"
                ),
                pl.lit("opportunity").alias("kind"),
                pl.lit(symbol).alias("symbol"),
                pl.col("timestamp").alias("signal_time"),
                "entry_time",
                pl.col(f"{side}_exit_time").alias("exit_time"),
                "entry_price",
                (pl.col("entry_price") * (1 + direction * pl.col(f"{side}_gross_bps") / BPS)).alias("exit_price"),
                pl.lit(notional).alias("size"),
                pl.lit(direction, pl.Int8).alias("direction"),
                pl.col(f"{side}_bars_held").cast(pl.Int64).alias("bars_held"),
                pl.col(f"{side}_gross_bps").alias("gross_bps"),
                pl.col(f"{side}_net_bps").alias("net_bps"),
                (pl.col(f"{side}_net_bps") * notional / BPS).alias("net_pnl"),
                pl.col(f"{side}_exit_reason").alias("exit_reason"),
                "regime",
                pl.lit("all").alias("policy"),
                *[pl.col(f"f_{c}") for c in features],
            )
        )
    return pl.concat(rows).sort(*keys, "signal_time", "direction", maintain_order=True)


def _next(column: str, day: str | None) -> pl.Expr:
    following = pl.col(column).shift(-1)
    return following.over(day) if day else following
