"""Hamilton's paper fills held against the shadow trader's for the same bars: where both entered on the same bar
in the same direction, the two trades must be one trade at two sizes.

Hamilton fills by the shadow trader's own kernel, so a matched pair enters and leaves at the same bars and prices;
only the costs may differ, because slippage grows with the size (the risk manager's notional against the shadow
trader's fixed one). The move alone, ``gross_bps``, must therefore agree: a pair whose gross move differs
drifted *beyond costs* (a champion or regime that was not the same, another exit, a price that is not the bar's),
and that is worth a warning. A position the kill switch closed is Hamilton's own exit, counted apart. Trades only
one of the two made (a refusal of the risk manager, a coin paused, a position still open on one side) are counted,
not judged: the two traders are not meant to take every trade alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from huracan_core.trading.costs import BPS

#: how far two gross moves of one trade may differ (float noise; a price step is thousands of times more)
TOLERANCE_BPS = 0.01
KEY = ("entry_time", "direction")


@dataclass(frozen=True)
class ShadowMatch:
    #: one row per trade both made and both closed: each side's exit, gross, costs and net, and their differences
    matched: pl.DataFrame
    #: closed on both sides but Hamilton's exit was the kill switch
    killed: int
    #: entered by only one of the two on this day
    paper_only: int
    shadow_only: int
    #: entered by both, still open on one side (nothing to compare yet)
    open: int

    @property
    def drifted(self) -> pl.DataFrame:
        """The matched trades whose gross moves differ beyond ``TOLERANCE_BPS``."""
        return self.matched.filter(pl.col("gross_drift_bps").abs() > TOLERANCE_BPS)


def match_shadow(paper: pl.DataFrame, shadow: pl.DataFrame) -> ShadowMatch:
    """``paper``: ``paper_day.ROUND_TRIP`` rows; ``shadow``: the shadow trader's ledger of the same day and coin."""
    theirs = shadow.select(
        "entry_time",
        pl.col("direction").cast(pl.Int8),
        shadow_exit_time=pl.col("exit_time"),
        shadow_exit_reason=pl.col("exit_reason"),
        shadow_gross_bps=pl.col("gross_bps"),
        shadow_costs_bps=(
            pl.col("fees_paid") + pl.col("spread_paid") + pl.col("slippage_paid") + pl.col("funding_paid")
        )
        / (pl.col("size") / BPS),
        shadow_net_bps=pl.col("net_bps"),
    )
    ours = paper.select(
        "entry_time", "direction", "position_id", "exit_time", "exit_reason", "gross_bps", "costs_bps", "net_bps"
    )
    both = ours.join(theirs, on=KEY, how="inner")
    closed = both.filter(pl.col("exit_time").is_not_null() & (pl.col("shadow_exit_reason") != "end_of_data"))
    killed = closed.filter(pl.col("exit_reason") == "kill_switch")
    matched = closed.filter(pl.col("exit_reason") != "kill_switch").with_columns(
        gross_drift_bps=pl.col("gross_bps") - pl.col("shadow_gross_bps"),
        costs_diff_bps=pl.col("costs_bps") - pl.col("shadow_costs_bps"),
        net_diff_bps=pl.col("net_bps") - pl.col("shadow_net_bps"),
    )
    return ShadowMatch(
        matched=matched.sort("entry_time"),
        killed=killed.height,
        paper_only=ours.join(theirs, on=KEY, how="anti").height,
        shadow_only=theirs.join(ours, on=KEY, how="anti").height,
        open=both.height - closed.height,
    )
