"""``huracan research`` and the ``research_search`` asset call this: load the universe's bars of every timeframe of
the space, run the search, judge it, and lay out what it found (table, Archive files, per-coin verdicts).

The search id names the window, the universe and the space (its file's hash), so the same search asked again
writes the same files: a search is a pure function of what it declares.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from huracan_core.research.bars import load_bars
from huracan_core.research.dataset import TimeframeData
from huracan_core.research.judge import Holding, Judged, judge
from huracan_core.research.report import research_files, terminal_table
from huracan_core.research.search import Progress, run_search
from huracan_core.research.space import SearchSpace
from huracan_core.sources.base import CandleSource
from huracan_core.symbols import to_key
from huracan_core.timeframes import timeframe_seconds
from huracan_core.trading.costs import CostModel


@dataclass(frozen=True)
class ResearchOutcome:
    search_id: str
    space: SearchSpace
    judged: Judged
    #: Archive key → bytes (``report.research_files``)
    files: dict[str, bytes]
    table: str
    computed: int
    cached: int
    seconds: float
    #: each timeframe's inputs, for the winners offered as challengers (``challengers.py``)
    data: dict[str, TimeframeData]
    window: tuple[datetime, datetime]

    def conclusions(self) -> list[str]:
        """One line per coin: its admitted winner, or that nothing survived and why."""
        lines = []
        for symbol, verdict in sorted(self.judged.verdicts.items()):
            admission = verdict.admission
            if admission is not None and admission.admitted:
                lines.append(f"{symbol}: {verdict.winner} admitted (best of {verdict.trials}, every correction passed)")
            elif admission is None:
                lines.append(f"{symbol}: nothing to judge ({verdict.reason})")
            else:
                lines.append(
                    f"{symbol}: no candidate survived the search's corrections; best of {verdict.trials} "
                    f"{verdict.winner}: {'; '.join(admission.reasons)}"
                )
        return lines


def search_id(space: SearchSpace, symbols: Sequence[str], start: date, end: date) -> str:
    universe = hashlib.sha256(",".join(sorted(to_key(s) for s in symbols)).encode()).hexdigest()[:6]
    return f"{start:%Y%m%d}-{end:%Y%m%d}-{space.digest[:6]}{universe}"


def run_research(
    source: CandleSource,
    symbols: Sequence[str],
    start: date,
    end: date,
    *,
    space: SearchSpace,
    costs: CostModel,
    exchange: str = "binance",
    workers: int = 1,
    cache: Path | None = None,
    progress: Progress | None = None,
) -> ResearchOutcome:
    """The search over the UTC days ``start``..``end`` (inclusive) of ``symbols``."""
    began = time.monotonic()
    if len(set(symbols)) < 2 and "pooled_lgbm" in space.families:
        raise ValueError(f"research: a pooled model needs a universe of at least two symbols, got {list(symbols)}")
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    candles = {tf: load_bars(source, symbols, tf, lo, hi) for tf in space.timeframes}
    run = run_search(
        space, candles, lo, hi, costs=costs, exchange=exchange, workers=workers, cache=cache, progress=progress
    )
    finest = min(space.timeframes, key=timeframe_seconds)
    first_exit = space.exits[0].name
    holdings = {
        symbol: Holding(
            closes=frame.group_by(pl.col("timestamp").dt.date().alias("day")).agg(pl.col("close").last()).sort("day"),
            round_trip_bps=_round_trip_bps(run.data[finest].labels[(first_exit, symbol)]),
        )
        for symbol, frame in candles[finest].items()
    }
    config = space.model_config(finest, (hi - lo).days)
    sid = search_id(space, symbols, start, end)
    judged = judge(
        run.records,
        holdings,
        space.rules,
        capital=config.capital,
        notional=space.exits[0].config(finest).notional,
        search_id=sid,
        window=(start, end),
    )
    return ResearchOutcome(
        search_id=sid,
        space=space,
        judged=judged,
        files=research_files(judged.candidates, judged.equity, judged.folds),
        table=terminal_table(judged.candidates),
        computed=run.computed,
        cached=run.cached,
        seconds=time.monotonic() - began,
        data=run.data,
        window=(lo, hi),
    )


def _round_trip_bps(labels: pl.DataFrame) -> float:
    """What a round trip of the coin costs: the median of its labelled trades' costs (both legs, funding held)."""
    paid = labels["long_cost_bps"].drop_nulls().to_numpy()
    return float(np.median(paid)) if paid.size else 0.0
