"""Cross-asset: co-movement with a reference (BTC/USDT) and relative strength within a universe.

Inputs arrive as columns joined on timestamp (``_ref_close``, ``_rs_rank``); without a reference or a
universe they are null, and ``FeatureRecipe.null_reasons`` says so rather than inventing a number.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from huracan_core.features.feature import Feature, safe_div
from huracan_core.features.rolling import rolling_corr, rolling_cov, rolling_var

RS_WINDOW = 20


def attach_reference(frame: pl.LazyFrame, reference: pl.DataFrame | pl.LazyFrame | None) -> pl.LazyFrame:
    """Join the reference close by timestamp; bars the reference lacks stay null (no forward fill)."""
    if reference is None:
        return frame.with_columns(pl.lit(None, pl.Float64).alias("_ref_close"))
    ref = reference.lazy().select("timestamp", pl.col("close").alias("_ref_close"))
    return frame.join(ref, on="timestamp", how="left")


def universe_returns(universe: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> pl.LazyFrame:
    """Wide table: timestamp + one ``RS_WINDOW``-bar log return column per member (``_u_<symbol>``)."""
    table: pl.LazyFrame | None = None
    for symbol, candles in universe.items():
        member = candles.lazy().select(
            "timestamp", (pl.col("close") / pl.col("close").shift(RS_WINDOW)).log().alias(f"_u_{symbol}")
        )
        table = member if table is None else table.join(member, on="timestamp", how="full", coalesce=True)
    if table is None:
        raise ValueError("universe is empty")
    return table


def attach_rs_rank(
    frame: pl.LazyFrame, table: pl.LazyFrame | None, members: list[str], symbol: str | None
) -> pl.LazyFrame:
    """Add ``_rs_rank``: share of the other members whose return is below ours (ties count half)."""
    others = [m for m in members if m != symbol]
    if table is None or not others:
        return frame.with_columns(pl.lit(None, pl.Float64).alias("_rs_rank"))
    own = (pl.col("close") / pl.col("close").shift(RS_WINDOW)).log()
    cols = [pl.col(f"_u_{m}") for m in others]
    below = pl.sum_horizontal([(c < own).cast(pl.Float64) for c in cols])
    ties = pl.sum_horizontal([(c == own).cast(pl.Float64) for c in cols])
    count = pl.sum_horizontal([(c.is_not_null() & own.is_not_null()).cast(pl.Float64) for c in cols])
    rank = safe_div(below + 0.5 * ties, count)
    joined = frame.join(table.select("timestamp", *cols), on="timestamp", how="left")
    return joined.with_columns(rank.alias("_rs_rank")).drop([f"_u_{m}" for m in others])


def reference_log_return() -> pl.Expr:
    """1-bar log return of the reference."""
    return (pl.col("_ref_close") / pl.col("_ref_close").shift(1)).log()


def correlation(n: int) -> pl.Expr:
    """Rolling correlation of 1-bar log returns with the reference over ``n`` bars."""
    return rolling_corr(pl.col("log_ret_1"), pl.col("_ref_log_ret"), n)


def beta(n: int) -> pl.Expr:
    """Rolling beta to the reference: how many % we move per 1 % of BTC."""
    ref = pl.col("_ref_log_ret")
    return safe_div(rolling_cov(pl.col("log_ret_1"), ref, n), rolling_var(ref, n), tiny=1e-18)


def rs_rank() -> pl.Expr:
    """Relative-strength rank in [0, 1] of the 20-bar return among the universe (1 = strongest)."""
    return pl.col("_rs_rank")


def leader_flag(top: float) -> pl.Expr:
    """+1 leader (rank ≥ top), −1 laggard (rank ≤ 1 − top), else 0."""
    r = pl.col("rs_rank")
    return pl.when(r >= top).then(1.0).when(r <= 1.0 - top).then(-1.0).when(r.is_not_null()).then(0.0)


def features() -> list[Feature]:
    return [
        Feature("_ref_log_ret", reference_log_return, 1, "cross_asset"),
        Feature("corr_btc", correlation, 96, "cross_asset", {"n": 96}),
        Feature("beta_btc", beta, 96, "cross_asset", {"n": 96}),
        Feature("rs_rank", rs_rank, RS_WINDOW, "cross_asset"),
        Feature("leader_flag", leader_flag, RS_WINDOW, "cross_asset", {"top": 0.8}),
    ]
