"""Date × symbol partitions shared by every per-coin asset.

Dates are UTC days: the days the source holds (``PartitionSpace``; a live exchange's from 2018-01-01). Symbols are a
*dynamic* dimension: the universe changes (listings, delistings, top-N by volume) without a code deploy, and a
symbol that leaves the universe keeps its history. ``huracan run`` registers the symbols it runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import dagster as dg

from huracan_core.symbols import to_key

if TYPE_CHECKING:
    from huracan_dagster.dagster_internals import PartitionsSubset

# Backfill policies are how a UI backfill avoids a process per partition (CANDLES_BACKFILL says why the candles'
# differs); Dagster marks the parameter beta, and the daily job, which holds both policies, warns that a *job*
# backfill uses the smaller. Both are known and chosen: said once here, where the assets' modules import them.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)
warnings.filterwarnings(
    "ignore", message="Asset job .* materializes assets with varying BackfillPolicies", category=UserWarning
)

PARTITIONS_START = "2018-01-01"
SYMBOL_DIMENSION = "symbol"
#: what a run covers, on the runs ``huracan run`` and the schedules make (the Runs page filters by tag): the days
#: asked for (``2024-12-30..2024-12-31``) and the coins of its partition range (``BTC-USDT,ETH-USDT``)
WINDOW_TAG = "huracan/window"
SYMBOLS_TAG = "huracan/symbols"

symbol_partitions = dg.DynamicPartitionsDefinition(name=SYMBOL_DIMENSION)


def symbol_blocks(wanted: Sequence[str], registered: Sequence[str]) -> list[list[str]]:
    """Group ``wanted`` into runs of neighbours in the registered order: one ranged run per block."""
    position = {s: i for i, s in enumerate(registered)}
    ordered = sorted(wanted, key=position.__getitem__)
    blocks: list[list[str]] = []
    for symbol in ordered:
        if blocks and position[symbol] == position[blocks[-1][-1]] + 1:
            blocks[-1].append(symbol)
        else:
            blocks.append([symbol])
    return blocks


T = TypeVar("T")


@dataclass(frozen=True)
class PartitionSpace:
    """The days that are partitions. A live exchange: every day from 2018-01-01 to the last one. A recorded source
    (the bundled sample, a replay folder): only the days it holds, so the UI opens on the data — not on eight
    years with the sample a sliver in them, "0 % filled" — and no one is offered a day that cannot have candles."""

    first: date = date.fromisoformat(PARTITIONS_START)
    #: the last day, inclusive; None: up to today, growing by itself
    last: date | None = None

    @cached_property
    def dates(self) -> dg.DailyPartitionsDefinition:
        end = None if self.last is None else (self.last + timedelta(days=1)).isoformat()
        return dg.DailyPartitionsDefinition(start_date=self.first.isoformat(), end_date=end, timezone="UTC")

    @cached_property
    def dates_and_symbols(self) -> dg.MultiPartitionsDefinition:
        return dg.MultiPartitionsDefinition({"date": self.dates, SYMBOL_DIMENSION: symbol_partitions})

    def holds(self, day: date) -> bool:
        """Whether ``day`` is a partition (a live source's last day is today, so only its first bounds it)."""
        return self.first <= day and (self.last is None or day <= self.last)

    @classmethod
    def of_days(cls, recorded: tuple[date, date] | None) -> PartitionSpace:
        """The space of a source's recorded days (``None``: a live source), never before 2018-01-01."""
        if recorded is None:
            return cls()
        return cls(first=max(recorded[0], cls.first), last=recorded[1])


DEFAULT_SPACE = PartitionSpace()


@dataclass(frozen=True)
class ResearchWeeks:
    """The weeks of the research search (weeks start on Monday, UTC). Week W's search reads the ``window_days``
    days before W and nothing of W itself, like a coin model of day D reads the days before D, and its winners are
    offered for W: so W is a partition from the moment it starts (its window is complete then) — from the first
    Monday ``window_days`` after the source's first day and, on a recorded source, up to the week that starts the
    day after its last day (or contains it)."""

    #: the first week's Monday
    first: date
    #: the Monday after the last week (exclusive); None: a live source, one more week every Monday
    end: date | None
    window_days: int

    @classmethod
    def of(cls, space: PartitionSpace, window_days: int) -> ResearchWeeks:
        first = _monday(space.first + timedelta(days=window_days + 6))  # on or after
        if space.last is None:
            return cls(first, None, window_days)
        return cls(first, max(first, _monday(space.last + timedelta(days=1)) + timedelta(days=7)), window_days)

    @cached_property
    def weeks(self) -> dg.WeeklyPartitionsDefinition:
        """Dagster's weeks from Monday; an end on a Monday boundary (Dagster keeps a lone incomplete week when the
        end falls inside the first one), equal to the start when the source holds no whole week after a window. The
        week under way is a partition (``end_offset``: Dagster's weeks otherwise exist once they ended):
        its search reads only the days before it."""
        end = None if self.end is None else self.end.isoformat()
        return dg.WeeklyPartitionsDefinition(
            start_date=self.first.isoformat(), end_date=end, day_offset=1, timezone="UTC", end_offset=1
        )

    def holds(self, week: date) -> bool:
        return week.weekday() == 0 and self.first <= week and (self.end is None or week < self.end)

    def window(self, week: date) -> tuple[date, date]:
        """The first and the last day (inclusive) week ``week``'s search reads: the ``window_days`` before it."""
        return week - timedelta(days=self.window_days), week - timedelta(days=1)


def week_of(moment: datetime) -> date:
    """The Monday of the week ``moment`` (UTC) lies in: every day before it is complete, so its search can run."""
    return _monday(moment.astimezone(UTC).date())


def _monday(day: date) -> date:
    """The Monday on or before ``day``."""
    return day - timedelta(days=day.weekday())


#: How a backfill launched from the UI (the daemon) turns a date × symbol subset into runs. Dagster cuts a
#: multi-partition subset into one range per symbol (or per date, whichever is fewer) and runs each range in one
#: run, so a year of a symbol pays one process start, not 365. Every asset computed from the candles shares one
#: policy, so the daemon puts features → regimes → signals → labels … of a range into the same run (in dependency
#: order). The candles' policy differs on purpose: the features read *every* symbol's candles, and with one policy
#: the daemon would launch them beside the other symbols' candle runs and race them; with its own, every targeted
#: candle is materialized before any feature run starts. A year of one symbol per candle run bounds a run's fetch.
#: ``huracan run`` joins neighbouring symbols' ranges of the same days into one run up to the same count
#: (``policy_runs``): a run then holds what one symbol's year holds, in memory and in a step's frames.
RUN_PARTITIONS = 366
CANDLES_BACKFILL = dg.BackfillPolicy.multi_run(max_partitions_per_run=RUN_PARTITIONS)
CHAIN_BACKFILL = dg.BackfillPolicy.single_run()
#: The steps that write the analysts' files (the DuckDB file, the dbt marts and dbt's target folder) claim this
#: pool; the production instance (``dagster.postgres.yaml``) lets one hold it at a time across concurrent runs.
ANALYTICS_POOL = "analytics_files"


def partition_key(day: date, symbol: str) -> str:
    """The multi-partition key string; dimensions are ordered by name, so ``date`` comes first."""
    return dg.MultiPartitionKey({"date": day.isoformat(), SYMBOL_DIMENSION: to_key(symbol)})


def split_key(key: str | dg.MultiPartitionKey) -> tuple[date, str]:
    day, symbol = str(key).split("|")
    return date.fromisoformat(day), symbol


def by_day(frames: Mapping[str, T]) -> dict[tuple[date, str], T]:
    """``{partition_key: frame}`` as core functions take it: ``{(day, symbol): frame}``."""
    return {split_key(key): frame for key, frame in frames.items()}


def days_by_symbol(keys: list[str]) -> dict[str, list[date]]:
    grouped: dict[str, list[date]] = {}
    for key in keys:
        day, symbol = split_key(key)
        grouped.setdefault(symbol, []).append(day)
    return {symbol: sorted(days) for symbol, days in grouped.items()}


#: asset metadata: the asset computes from whatever part of its declared history exists (and reports what was short),
#: so ``huracan run`` does not require the history before a source's first day (``cli/window_plan.py``)
PARTIAL_HISTORY = "huracan/partial_history"


def day_window(start_offset: int, end_offset: int = 0, *, all_symbols: bool = False) -> dg.MultiPartitionMapping:
    """Upstream days ``[day + start_offset, day + end_offset]`` of the same symbol (or of every symbol).

    Days outside the partitions (before 2018-01-01, after today) are allowed and simply absent: the consuming
    core function decides what a missing history or next day means, and says so.
    """
    with warnings.catch_warnings():  # MultiPartitionMapping and allow_nonexistent… are beta; date × symbol needs them
        warnings.simplefilter("ignore", dg.BetaWarning)
        dates = dg.TimeWindowPartitionMapping(
            start_offset=start_offset, end_offset=end_offset, allow_nonexistent_upstream_partitions=True
        )
        symbols = dg.AllPartitionMapping() if all_symbols else dg.IdentityPartitionMapping()
        return dg.MultiPartitionMapping(
            {
                "date": dg.DimensionPartitionMapping("date", dates),
                SYMBOL_DIMENSION: dg.DimensionPartitionMapping(SYMBOL_DIMENSION, symbols),
            }
        )


def day_window_upstream(
    mapping: dg.PartitionMapping | None,
    downstream: dg.PartitionsDefinition | None,
    upstream: dg.PartitionsDefinition | None,
    key_range: dg.PartitionKeyRange,
    instance: dg.DagsterInstance,
) -> PartitionsSubset | None:
    """The upstream partitions of a range of days × symbols under a ``day_window``: Dagster's own answer, by date
    arithmetic. Dagster maps a window over date × symbol day by day, each day through subsets, time windows and key
    strings (about 1 ms a day: 9 % of a run over the whole sample). A range's symbols are the registered ones from
    its first key's to its last key's (Dagster's product of the two dimensions' ranges: a run of a block of
    neighbours). None where the mapping, the definitions or the range are of another shape (a symbol not
    registered, a day outside the partitions), for Dagster to answer."""
    shape = _day_window_shape(mapping)
    if shape is None or upstream is None or downstream != upstream:
        return None
    dates = _utc_days(upstream)
    symbols = _dimension(upstream, SYMBOL_DIMENSION)
    if dates is None or not isinstance(symbols, dg.DynamicPartitionsDefinition) or symbols.name is None:
        return None
    (first_day, symbol), (last_day, last_symbol) = (split_key(key) for key in (key_range.start, key_range.end))
    bounds = dates.get_first_partition_key(), dates.get_last_partition_key()  # days: no store needed
    if bounds[0] is None or bounds[1] is None:
        return None
    first, last = date.fromisoformat(bounds[0]), date.fromisoformat(bounds[1])
    if not first <= first_day <= last_day <= last:
        return None
    registered = instance.get_dynamic_partitions(symbols.name)
    between = symbols_between(symbol, last_symbol, registered)
    if not between:
        return None
    start_offset, end_offset, all_symbols = shape
    lo, hi = max(first_day + timedelta(days=start_offset), first), min(last_day + timedelta(days=end_offset), last)
    days = [(lo + timedelta(days=n)).isoformat() for n in range((hi - lo).days + 1)]
    every = registered if all_symbols else between
    keys = [dg.MultiPartitionKey({"date": day, SYMBOL_DIMENSION: s}) for day in days for s in every]
    return upstream.empty_subset().with_partition_keys(keys)


def symbols_between(first: str, last: str, registered: Sequence[str]) -> list[str]:
    """The symbols a date × symbol range from ``first``'s key to ``last``'s covers: every registered symbol between
    them, in registration order (the symbol dimension's; Dagster resolves a range to the product of its days and
    these). Nothing where either is not registered or ``last`` is registered before ``first``."""
    if first not in registered or last not in registered:
        return []
    return list(registered[registered.index(first) : registered.index(last) + 1])


def _day_window_shape(mapping: dg.PartitionMapping | None) -> tuple[int, int, bool] | None:
    """(start_offset, end_offset, all_symbols) of a mapping ``day_window`` made; None for any other mapping."""
    if not isinstance(mapping, dg.MultiPartitionMapping):
        return None
    by_dimension = mapping.downstream_mappings_by_upstream_dimension
    if set(by_dimension) != {"date", SYMBOL_DIMENSION} or any(m.dimension_name != n for n, m in by_dimension.items()):
        return None
    dates, symbols = by_dimension["date"].partition_mapping, by_dimension[SYMBOL_DIMENSION].partition_mapping
    if not isinstance(dates, dg.TimeWindowPartitionMapping) or not dates.allow_nonexistent_upstream_partitions:
        return None
    if not isinstance(symbols, dg.IdentityPartitionMapping | dg.AllPartitionMapping):
        return None
    return dates.start_offset, dates.end_offset, isinstance(symbols, dg.AllPartitionMapping)


def _dimension(partitions: dg.PartitionsDefinition, name: str) -> dg.PartitionsDefinition | None:
    if not isinstance(partitions, dg.MultiPartitionsDefinition) or len(partitions.partitions_defs) != 2:
        return None
    return next((d.partitions_def for d in partitions.partitions_defs if d.name == name), None)


def _utc_days(partitions: dg.PartitionsDefinition) -> dg.TimeWindowPartitionsDefinition | None:
    """The date dimension when its partitions are whole UTC days keyed ``YYYY-MM-DD`` (``PartitionSpace.dates``)."""
    dates = _dimension(partitions, "date")
    if not isinstance(dates, dg.TimeWindowPartitionsDefinition):
        return None
    daily = (dates.cron_schedule, dates.timezone, dates.fmt, dates.end_offset) == ("0 0 * * *", "UTC", "%Y-%m-%d", 0)
    return dates if daily else None


def asset_key(timeframe: str, name: str) -> dg.AssetKey:
    """Assets of each timeframe live under their own prefix (``15m/candles``), so two timeframes in one
    instance never share partition status."""
    return dg.AssetKey([timeframe, name])


def same_date() -> dg.MultiToSingleDimensionPartitionMapping:
    """Between a date-partitioned asset and the date × symbol ones: the same day, every symbol."""
    with warnings.catch_warnings():  # beta in 1.13, and the only mapping between the two definitions
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date")
