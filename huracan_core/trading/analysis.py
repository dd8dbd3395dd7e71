"""What the trades teach: how winners differ from losers, what happened after each exit, how each regime
paid, and which kinds of entry (clusters of entry feature vectors) work.

Post-exit tracking looks *forward* from each exit on purpose; it reads the ledger and candles after the fact
and its output must never be fed back as an input feature.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

import numpy as np
import polars as pl

FEATURE_PREFIX = "f_"


def _features(ledger: pl.DataFrame) -> list[str]:
    return [c for c in ledger.columns if c.startswith(FEATURE_PREFIX)]


def _outcome_stats() -> list[pl.Expr]:
    return [
        pl.len().alias("trades"),
        (pl.col("net_bps") > 0).mean().alias("win_rate"),
        pl.col("net_bps").mean().alias("mean_net_bps"),
        pl.col("net_pnl").sum().alias("net_pnl"),
    ]


def win_loss_analysis(ledger: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """``features``: mean entry feature of winners vs losers, ordered by the gap in standard deviations of the
    feature over all trades (the features that separate them most come first); ``regimes``: winners' and losers'
    regime mix;
    ``failure_reasons``: losing trades by exit reason."""
    won = ledger.with_columns(won=pl.col("net_bps") > 0)
    names = _features(ledger)
    schema = {"feature": pl.String, "winners_mean": pl.Float64, "losers_mean": pl.Float64, "gap_in_std": pl.Float64}
    # one aggregation over every feature (nulls dropped per feature, as means and std do), not one query each
    stats = (
        won.select(
            *[pl.col(n).filter(pl.col("won")).mean().cast(pl.Float64).alias(f"w|{n}") for n in names],
            *[pl.col(n).filter(~pl.col("won")).mean().cast(pl.Float64).alias(f"l|{n}") for n in names],
            *[pl.col(n).std().cast(pl.Float64).alias(f"s|{n}") for n in names],
        ).row(0, named=True)
        if names
        else {}
    )
    rows = []
    for name in names:
        w_mean, l_mean, spread = stats[f"w|{name}"], stats[f"l|{name}"], stats[f"s|{name}"]
        gap = (w_mean - l_mean) / spread if spread and w_mean is not None and l_mean is not None else None
        rows.append(
            {
                "feature": name.removeprefix(FEATURE_PREFIX),
                "winners_mean": w_mean,
                "losers_mean": l_mean,
                "gap_in_std": gap,
            }
        )
    features = pl.DataFrame(rows, schema=schema).sort(pl.col("gap_in_std").abs(), descending=True, nulls_last=True)
    regimes = (
        won.group_by("regime", "won")
        .agg(pl.len().alias("trades"))
        .with_columns(share=pl.col("trades") / pl.col("trades").sum().over("won"))
        .sort("won", "regime", descending=[True, False])
    )
    failures = (
        won.filter(~pl.col("won"))
        .group_by("exit_reason")
        .agg(pl.len().alias("trades"), pl.col("net_bps").mean().alias("mean_net_bps"))
        .with_columns(share=pl.col("trades") / pl.col("trades").sum())
        .sort("trades", "exit_reason", descending=[True, False])
    )
    return {"features": features, "regimes": regimes, "failure_reasons": failures}


def post_exit_tracking(
    ledger: pl.DataFrame,
    candles: pl.DataFrame,
    horizons_minutes: tuple[int, ...] = (5, 30, 120),
    too_early_bps: float = 20.0,
    giveback_bps: float = 20.0,
) -> pl.DataFrame:
    """Per trade: the price ``h`` minutes after the exit (the OPEN of the first candle starting at or after
    exit_time + h) and the move since the exit in the trade's favour, ``after_<h>m_bps``; null when the candles
    end before that time — a day's candles usually do not reach 120 minutes past the last exits, so pass a frame
    that extends into the next day. ``exited_too_early``: the longest tracked horizon moved ≥ ``too_early_bps``
    further in the trade's favour. ``exited_too_late``: the best excursion while in the trade beat the realised
    gross by ≥ ``giveback_bps`` (profit was given back before the exit); ``mfe_bps`` is that best excursion."""
    candles = candles.sort("timestamp")
    out = ledger.select("trade_id", "exit_time", "exit_price", "direction", "entry_time", "entry_price", "gross_bps")
    for minutes in horizons_minutes:
        target = out.select("trade_id", (pl.col("exit_time") + timedelta(minutes=minutes)).alias("target")).sort(
            "target"
        )
        later = target.join_asof(
            candles.select(pl.col("timestamp").alias("target"), "open"),
            on="target",
            strategy="forward",
        ).select("trade_id", pl.col("open").alias(f"price_{minutes}m"))
        out = out.join(later, on="trade_id", how="left").with_columns(
            (pl.col("direction") * (pl.col(f"price_{minutes}m") / pl.col("exit_price") - 1.0) * 1e4).alias(
                f"after_{minutes}m_bps"
            )
        )
    times = candles["timestamp"]
    highs, lows = candles["high"].to_numpy(), candles["low"].to_numpy()
    start = times.search_sorted(out["entry_time"], side="left").to_numpy()
    stop = times.search_sorted(out["exit_time"], side="right").to_numpy()
    best = [
        (highs[s:e].max() if d > 0 else lows[s:e].min()) if e > s else np.nan
        for s, e, d in zip(start, stop, out["direction"].to_numpy(), strict=True)
    ]
    longest = f"after_{max(horizons_minutes)}m_bps"
    return (
        out.with_columns(
            mfe_bps=pl.col("direction")
            * (pl.Series(best, dtype=pl.Float64).fill_nan(None) / pl.col("entry_price") - 1.0)
            * 1e4
        )
        .with_columns(
            exited_too_early=pl.col(longest) >= too_early_bps,
            exited_too_late=(pl.col("mfe_bps") - pl.col("gross_bps")) >= giveback_bps,
        )
        .drop("entry_time", "entry_price", "gross_bps")
    )


def regime_analysis(ledger: pl.DataFrame) -> pl.DataFrame:
    return ledger.group_by("regime").agg(_outcome_stats()).sort("regime")


def pattern_library(ledger: pl.DataFrame, k: int = 4, seed: int = 7, iterations: int = 50) -> pl.DataFrame:
    """Cluster the entry feature vectors (z-scored, nulls at the mean) with a small seeded k-means, and report
    each pattern's count, win rate, mean net bps and centroid (``centroid_<feature>`` in original units)."""
    names = _features(ledger)
    if ledger.height == 0 or not names:
        return pl.DataFrame(
            schema={
                "pattern": pl.Int64,
                "trades": pl.UInt32,
                "win_rate": pl.Float64,
                "mean_net_bps": pl.Float64,
                "net_pnl": pl.Float64,
            }
        )
    raw = ledger.select(names).to_numpy().astype(np.float64)
    with warnings.catch_warnings():  # a feature null on every entry (too little history) centres at 0
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.where(np.isfinite(raw), raw, np.nan), axis=0)
    mean = np.nan_to_num(mean)
    filled = np.where(np.isfinite(raw), raw, mean)
    std = filled.std(axis=0)
    x = (filled - mean) / np.where(std > 0, std, 1.0)
    k = min(k, len(x))
    centres = x[np.random.default_rng(seed).choice(len(x), size=k, replace=False)]
    labels = np.zeros(len(x), np.int64)
    for _ in range(iterations):
        labels = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        moved = np.array([x[labels == j].mean(axis=0) if (labels == j).any() else centres[j] for j in range(k)])
        if np.allclose(moved, centres):
            break
        centres = moved
    stats = (
        ledger.with_columns(pattern=pl.Series(labels))
        .group_by("pattern")
        .agg(*_outcome_stats(), *[pl.col(n).mean().alias(f"centroid_{n.removeprefix(FEATURE_PREFIX)}") for n in names])
    )
    return stats.sort("pattern")
