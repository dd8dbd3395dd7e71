"""What the trades teach: how winners differ from losers, what happened after each exit, how each regime
paid, and which kinds of entry (clusters of entry feature vectors) work.

Post-exit tracking looks *forward* from each exit on purpose; it reads the ledger and candles after the fact
and its output must never be fed back as an input feature.

The tables are computed on arrays taken from the ledger once (``Outcomes``), not with polars queries: a query on a
ledger of ~100 feature columns costs more than a day's arithmetic, and a range of days takes its arrays from one
frame of all its days and cuts them per day (``Outcomes.rows``), each day computed alone on its own rows.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl

FEATURE_PREFIX = "f_"
#: microseconds a minute: times are compared as microseconds since the epoch
MINUTE_US = 60_000_000
#: a time past every candle: where an exit or entry time is null
NEVER_US = 2**62

FEATURES_SCHEMA = {
    "feature": pl.String,
    "winners_mean": pl.Float64,
    "losers_mean": pl.Float64,
    "gap_in_std": pl.Float64,
}
REGIMES_SCHEMA = {"regime": pl.String, "won": pl.Boolean, "trades": pl.UInt32, "share": pl.Float64}
FAILURES_SCHEMA = {"exit_reason": pl.String, "trades": pl.UInt32, "mean_net_bps": pl.Float64, "share": pl.Float64}
STATS_SCHEMA = {"trades": pl.UInt32, "win_rate": pl.Float64, "mean_net_bps": pl.Float64, "net_pnl": pl.Float64}
BY_REGIME_SCHEMA = {"regime": pl.String, **STATS_SCHEMA}
PATTERNS_SCHEMA = {"pattern": pl.Int64, **STATS_SCHEMA}
#: what ``tables`` holds
TABLE_NAMES = ("features", "regimes", "failure_reasons", "by_regime", "patterns")


class Table(NamedTuple):
    """A table's columns as lists, turned into a frame later: many days' tables of one schema become one frame."""

    schema: dict[str, pl.DataType | type[pl.DataType]]
    columns: dict[str, list]

    @property
    def height(self) -> int:
        return len(next(iter(self.columns.values())))


@dataclass(frozen=True)
class Outcomes:
    """What the tables read of a ledger. Nulls are NaN in the float arrays, and told apart from a NaN value by the
    ``*_known`` masks, so means skip nulls and carry NaN as polars does."""

    names: tuple[str, ...]
    #: (rows, features) entry features; ``present``: not null; ``zeroed``: the values with 0 where not present,
    #: which a column's sum over any rows reads (taken once for a range, not once per mean)
    values: np.ndarray
    present: np.ndarray
    zeroed: np.ndarray
    net_bps: np.ndarray
    net_known: np.ndarray
    net_pnl: np.ndarray
    pnl_known: np.ndarray
    regime: list[str | None]
    exit_reason: list[str | None]

    @classmethod
    def of(cls, ledger: pl.DataFrame) -> Outcomes:
        names = tuple(c for c in ledger.columns if c.startswith(FEATURE_PREFIX))
        feats = ledger.select(pl.col(names).cast(pl.Float64))
        flags = ledger.select(
            pl.col(names).is_not_null(), net=pl.col("net_bps").is_not_null(), pnl=pl.col("net_pnl").is_not_null()
        )
        values = np.ascontiguousarray(feats.to_numpy(), dtype=np.float64).reshape(ledger.height, len(names))
        present = np.ascontiguousarray(flags.select(names).to_numpy(), dtype=bool).reshape(ledger.height, len(names))
        return cls(
            names=names,
            values=values,
            present=present,
            zeroed=np.where(present, values, 0.0),
            net_bps=ledger["net_bps"].cast(pl.Float64).to_numpy(),
            net_known=flags["net"].to_numpy(),
            net_pnl=ledger["net_pnl"].cast(pl.Float64).to_numpy(),
            pnl_known=flags["pnl"].to_numpy(),
            regime=ledger["regime"].cast(pl.String).to_list(),
            exit_reason=ledger["exit_reason"].cast(pl.String).to_list(),
        )

    def rows(self, start: int, stop: int) -> Outcomes:
        """Rows ``start:stop`` as arrays of their own: a day cut from a range computes exactly as the day alone."""
        return Outcomes(
            names=self.names,
            values=self.values[start:stop].copy(),
            present=self.present[start:stop].copy(),
            zeroed=self.zeroed[start:stop].copy(),
            net_bps=self.net_bps[start:stop].copy(),
            net_known=self.net_known[start:stop].copy(),
            net_pnl=self.net_pnl[start:stop].copy(),
            pnl_known=self.pnl_known[start:stop].copy(),
            regime=self.regime[start:stop],
            exit_reason=self.exit_reason[start:stop],
        )

    @property
    def won(self) -> np.ndarray:
        return self.net_known & (self.net_bps > 0)

    @property
    def lost(self) -> np.ndarray:
        return self.net_known & ~(self.net_bps > 0)


def table_frames(tables: Sequence[Table]) -> list[pl.DataFrame]:
    """Each table as a frame, cut from one frame per schema: building a frame costs per column, not per row."""
    out: list[pl.DataFrame | None] = [None] * len(tables)
    by_schema: dict[tuple, list[int]] = {}
    for i, table in enumerate(tables):
        by_schema.setdefault(tuple(table.schema.items()), []).append(i)
    for members in by_schema.values():
        schema = tables[members[0]].schema
        whole = pl.DataFrame({c: [v for i in members for v in tables[i].columns[c]] for c in schema}, schema=schema)
        start = 0
        for i in members:
            out[i] = whole.slice(start, tables[i].height)
            start += tables[i].height
    return [frame for frame in out if frame is not None]


def _optional(values: np.ndarray, known: np.ndarray) -> list[float | None]:
    return [v if k else None for v, k in zip(values.tolist(), known.tolist(), strict=True)]


def _nulls_first(value: str | None) -> tuple[bool, str]:
    return (value is not None, value or "")


def _masks(values: list[str | None], groups: Iterable[str | None]) -> dict[str | None, np.ndarray]:
    """Each group's rows of ``values`` as a mask, from one pass over the values."""
    index = {g: i for i, g in enumerate(groups)}
    codes = np.array([index.get(v, -1) for v in values], dtype=np.int64)
    return {g: codes == i for g, i in index.items()}


def _column_means(o: Outcomes, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each feature's mean over its present cells in ``rows`` (a mask; every row when None), and how many there
    were (0: the mean is null)."""
    zeroed, present = (o.zeroed, o.present) if rows is None else (o.zeroed[rows], o.present[rows])
    count = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return zeroed.sum(axis=0) / count, count


def _stats(o: Outcomes, rows: np.ndarray) -> tuple[int, float | None, float | None, float]:
    """trades, win rate, mean net bps and net P&L of ``rows`` (a mask): nulls skipped, as polars aggregates."""
    net = o.net_bps[rows & o.net_known]
    return (
        int(rows.sum()),
        float((net > 0).mean()) if net.size else None,
        float(net.mean()) if net.size else None,
        float(o.net_pnl[rows & o.pnl_known].sum()),
    )


def _stats_columns(stats: list[tuple[int, float | None, float | None, float]]) -> dict[str, list]:
    return (
        dict(zip(STATS_SCHEMA, (list(c) for c in zip(*stats, strict=True)), strict=True))
        if stats
        else {name: [] for name in STATS_SCHEMA}
    )


def _feature_table(o: Outcomes) -> Table:
    """Ordered by the gap's size, a NaN gap first and a null one last, ties in the ledger's order."""
    winners, w_count = _column_means(o, o.won)
    losers, l_count = _column_means(o, o.lost)
    mean, count = _column_means(o)
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation = np.where(o.present, o.values - mean, 0.0)
        spread = np.sqrt((deviation**2).sum(axis=0) / (count - 1))
        gap = (winners - losers) / spread
    has_gap = (w_count > 0) & (l_count > 0) & (count > 1) & (spread != 0)
    size = np.where(has_gap, -np.abs(gap), 0.0)
    rank = np.where(has_gap, np.where(np.isnan(gap), 0, 1), 2)
    order = np.lexsort((size, rank))
    return Table(
        FEATURES_SCHEMA,
        {
            "feature": [o.names[i].removeprefix(FEATURE_PREFIX) for i in order],
            "winners_mean": _optional(winners[order], w_count[order] > 0),
            "losers_mean": _optional(losers[order], l_count[order] > 0),
            "gap_in_std": _optional(gap[order], has_gap[order]),
        },
    )


def _regime_mix_table(o: Outcomes) -> Table:
    """Winners' and losers' regime mix: winners first, then losers (a null outcome before both)."""
    won = [bool(w) if k else None for w, k in zip((o.net_bps > 0).tolist(), o.net_known.tolist(), strict=True)]
    counts = Counter(zip(o.regime, won, strict=True))
    totals = Counter(won)
    outcome_rank = {None: 0, True: 1, False: 2}
    keys = sorted(counts, key=lambda k: (outcome_rank[k[1]], _nulls_first(k[0])))
    return Table(
        REGIMES_SCHEMA,
        {
            "regime": [r for r, _ in keys],
            "won": [w for _, w in keys],
            "trades": [counts[k] for k in keys],
            "share": [counts[k] / totals[k[1]] for k in keys],
        },
    )


def _failure_table(o: Outcomes) -> Table:
    """Losing trades by exit reason, the most frequent first."""
    lost = o.lost
    groups = {r for r, x in zip(o.exit_reason, lost.tolist(), strict=True) if x}
    rows = {g: lost & mask for g, mask in _masks(o.exit_reason, groups).items()}
    trades = {g: int(rows[g].sum()) for g in groups}
    order = sorted(groups, key=lambda g: (-trades[g], _nulls_first(g)))
    total = sum(trades.values())
    return Table(
        FAILURES_SCHEMA,
        {
            "exit_reason": order,
            "trades": [trades[g] for g in order],
            "mean_net_bps": [float(o.net_bps[rows[g]].mean()) for g in order],
            "share": [trades[g] / total for g in order],
        },
    )


def _by_regime_table(o: Outcomes) -> Table:
    regimes = sorted(set(o.regime), key=_nulls_first)
    masks = _masks(o.regime, regimes)
    stats = [_stats(o, masks[g]) for g in regimes]
    return Table(BY_REGIME_SCHEMA, {"regime": regimes, **_stats_columns(stats)})


def win_loss_tables(o: Outcomes) -> dict[str, Table]:
    return {"features": _feature_table(o), "regimes": _regime_mix_table(o), "failure_reasons": _failure_table(o)}


def win_loss_analysis(ledger: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """``features``: mean entry feature of winners vs losers, ordered by the gap in standard deviations of the
    feature over all trades (the features that separate them most come first); ``regimes``: winners' and losers'
    regime mix;
    ``failure_reasons``: losing trades by exit reason."""
    parts = win_loss_tables(Outcomes.of(ledger))
    return dict(zip(parts, table_frames(list(parts.values())), strict=True))


def regime_analysis(ledger: pl.DataFrame) -> pl.DataFrame:
    (frame,) = table_frames([_by_regime_table(Outcomes.of(ledger))])
    return frame


def pattern_table(o: Outcomes, k: int = 4, seed: int = 7, iterations: int = 50) -> Table:
    """``pattern_library``'s table."""
    if not len(o.net_bps) or not o.names:
        return Table(PATTERNS_SCHEMA, {name: [] for name in PATTERNS_SCHEMA})
    labels = _kmeans(o.values, k, seed, iterations)
    patterns = np.unique(labels)
    members = [labels == p for p in patterns]
    names = [f"centroid_{n.removeprefix(FEATURE_PREFIX)}" for n in o.names]
    return Table(
        {**PATTERNS_SCHEMA, **dict.fromkeys(names, pl.Float64)},
        {
            "pattern": patterns.tolist(),
            **_stats_columns([_stats(o, m) for m in members]),
            **dict(zip(names, _centroid_columns([_column_means(o, m) for m in members]), strict=True)),
        },
    )


def _centroid_columns(centroids: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[list[float | None]]:
    """Per feature, each pattern's mean (None where no member had the feature), from the patterns' (mean, count)."""
    columns = np.array([mean for mean, _ in centroids]).T.tolist()
    for feature, pattern in np.argwhere(np.array([count for _, count in centroids]).T == 0).tolist():
        columns[feature][pattern] = None
    return columns


def _kmeans(raw: np.ndarray, k: int, seed: int, iterations: int) -> np.ndarray:
    """Each row's cluster: rows z-scored, a missing value (null, NaN, inf) at its feature's mean (0 when the
    feature has none: too little history). Distances and centroids are matrix products."""
    finite = np.isfinite(raw)
    count = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.where(finite, raw, 0.0).sum(axis=0) / count, 0.0)
        filled = np.where(finite, raw, mean)
        std = filled.std(axis=0)
        x = (filled - mean) / np.where(std > 0, std, 1.0)
        k = min(k, len(x))
        centres = x[list(_first_centres(len(x), k, seed))]
        norms, twice = (x * x).sum(axis=1), 2 * x
        clusters = np.arange(k)[:, None]
        labels = np.zeros(len(x), np.int64)
        for _ in range(iterations):
            labels = (norms[:, None] - twice @ centres.T + (centres * centres).sum(axis=1)).argmin(axis=1)
            members = (labels[None, :] == clusters).astype(np.float64)
            counts = members.sum(axis=1)[:, None]
            moved = np.where(counts > 0, (members @ x) / counts, centres)  # an empty cluster keeps its centre
            if (np.abs(moved - centres) <= 1e-8 + 1e-5 * np.abs(centres)).all():  # np.allclose, without its overhead
                break
            centres = moved
    return labels


@functools.lru_cache(maxsize=1024)
def _first_centres(rows: int, k: int, seed: int) -> tuple[int, ...]:
    """The rows a seeded k-means of ``rows`` rows starts from. They depend on the size alone, and a generator costs
    15 µs to build, a tenth of a day's clustering: drawn once for each size."""
    return tuple(np.random.default_rng(seed).choice(rows, size=k, replace=False).tolist())


def pattern_library(ledger: pl.DataFrame, k: int = 4, seed: int = 7, iterations: int = 50) -> pl.DataFrame:
    """Cluster the entry feature vectors (z-scored, nulls at the mean) with a small seeded k-means, and report
    each pattern's count, win rate, mean net bps and centroid (``centroid_<feature>`` in original units)."""
    (frame,) = table_frames([pattern_table(Outcomes.of(ledger), k, seed, iterations)])
    return frame


def tables(o: Outcomes) -> dict[str, Table]:
    """Every table of a ledger: win/loss, ``by_regime`` and ``patterns``."""
    return {**win_loss_tables(o), "by_regime": _by_regime_table(o), "patterns": pattern_table(o)}


class Span(NamedTuple):
    """Ledger rows ``first_row:stop_row`` and the candles (rows of a frame sorted by time) they may read."""

    first_row: int
    stop_row: int
    first_candle: int
    stop_candle: int


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
    spans = [Span(0, ledger.height, 0, candles.height)]
    post = post_exit_columns(ledger, candles, spans, horizons_minutes, too_early_bps, giveback_bps)
    return ledger.select("trade_id", "exit_time", "exit_price", "direction").hstack(post)


def post_exit_columns(
    ledger: pl.DataFrame,
    candles: pl.DataFrame,
    spans: Sequence[Span],
    horizons_minutes: tuple[int, ...],
    too_early_bps: float = 20.0,
    giveback_bps: float = 20.0,
) -> pl.DataFrame:
    """``post_exit_tracking``'s outcome columns, each span of ledger rows reading only its own candles of the
    time-sorted ``candles``: the days of a range read one frame, each as if it held only the day's candles."""
    times = _micros(candles["timestamp"])
    exits, entries = _micros(ledger["exit_time"]), _micros(ledger["entry_time"])
    prices = {}
    for minutes in horizons_minutes:
        at, found = _search(times, exits + minutes * MINUTE_US, spans, "left")
        prices[f"price_{minutes}m"] = candles["open"].gather(_nullable(at, found))
    first, _ = _search(times, entries, spans, "left")
    stop, _ = _search(times, exits, spans, "right")
    held = (first < stop) & ledger["entry_time"].is_not_null().to_numpy() & ledger["exit_time"].is_not_null().to_numpy()
    longest = f"after_{max(horizons_minutes)}m_bps"
    return (
        ledger.select("direction", "exit_price", "entry_price", "gross_bps")
        .with_columns(
            **prices, best=_nullable(_extreme(candles, first, stop, ledger["direction"]), held).fill_nan(None)
        )
        .select(
            *[
                expr
                for minutes in horizons_minutes
                for expr in (
                    pl.col(f"price_{minutes}m"),
                    (pl.col("direction") * (pl.col(f"price_{minutes}m") / pl.col("exit_price") - 1.0) * 1e4).alias(
                        f"after_{minutes}m_bps"
                    ),
                )
            ],
            mfe_bps=pl.col("direction") * (pl.col("best") / pl.col("entry_price") - 1.0) * 1e4,
            gross_bps=pl.col("gross_bps"),
        )
        .with_columns(
            exited_too_early=pl.col(longest) >= too_early_bps,
            exited_too_late=(pl.col("mfe_bps") - pl.col("gross_bps")) >= giveback_bps,
        )
        .drop("gross_bps")
    )


def _micros(times: pl.Series) -> np.ndarray:
    return times.dt.epoch("us").fill_null(NEVER_US).to_numpy()


def _nullable(values: np.ndarray, known: np.ndarray) -> pl.Series:
    return pl.Series(values).scatter(np.flatnonzero(~known), None)


def _search(times: np.ndarray, targets: np.ndarray, spans: Sequence[Span], side: str) -> tuple[np.ndarray, np.ndarray]:
    """Each target's ``searchsorted`` position among its span's candles (as an index of ``times``), and whether
    it falls on one of them."""
    at, found = np.zeros(len(targets), np.int64), np.zeros(len(targets), bool)
    for span in spans:
        window = times[span.first_candle : span.stop_candle]
        rows = slice(span.first_row, span.stop_row)
        where = np.searchsorted(window, targets[rows], side=side)  # type: ignore[call-overload]
        at[rows], found[rows] = where + span.first_candle, where < len(window)
    return at, found


def _extreme(candles: pl.DataFrame, first: np.ndarray, stop: np.ndarray, direction: pl.Series) -> np.ndarray:
    """The highest high (long) or lowest low (short) of candles ``first:stop`` of each row; undefined where the
    range is empty."""
    if not len(first):
        return np.zeros(0)
    bounds = np.column_stack([first, stop]).ravel()  # reduceat reduces each [first, stop); every other one is ours
    highs = np.maximum.reduceat(np.append(candles["high"].cast(pl.Float64).to_numpy(), np.nan), bounds)[::2]
    lows = np.minimum.reduceat(np.append(candles["low"].cast(pl.Float64).to_numpy(), np.nan), bounds)[::2]
    return np.where(direction.to_numpy() > 0, highs, lows)
