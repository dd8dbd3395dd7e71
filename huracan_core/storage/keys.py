"""Storage keys (docs/architecture.md#storage-keys) — the one place that spells them, so that readers and writers agree."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from huracan_core.symbols import to_key

#: date × symbol objects, one parquet per partition
PARTITIONED_LAYOUT = {
    "candles": "candles/{symbol}/{timeframe}/{date}.parquet",
    "features": "features/{recipe_hash}/{symbol}/{date}.parquet",
    "regimes": "regimes/{symbol}/{timeframe}/{date}.parquet",
    "signals": "signals/{symbol}/{timeframe}/{date}.parquet",
    "labels": "labels/{symbol}/{timeframe}/{date}.parquet",
    # the partition's record of the model it trained (folder, verdict, MLflow version); the model is in its folder
    "coin_model": "coin_model/{symbol}/{timeframe}/{date}.parquet",
    "shadow_trades": "shadow_trades/{symbol}/{timeframe}/{date}.parquet",
    "trade_analysis": "trade_analysis/{symbol}/{timeframe}/{date}.parquet",
    # Hamilton's round trips entered on the day, read from its live_logs
    "paper_trades": "paper_trades/{symbol}/{timeframe}/{date}.parquet",
    # the day's champion decision (in force, promoted or kept, why); the pointer is champion/<SYMBOL>/<tf>/latest.json
    "champion": "champion_decisions/{symbol}/{timeframe}/{date}.parquet",
    # the day's MarketQuote (spread, impact, tick, funding, where they come from) as one row
    "market_quotes": "market_quotes/{symbol}/{timeframe}/{date}.parquet",
}
# Every key carries the timeframe (features through the recipe hash, which covers it): two timeframes in one
# HURACAN_HOME never touch each other's files.

#: what one symbol-day of shadow trading paid (fee, spread, slippage in bps), beside the day's ledger
COSTS_LAYOUT = "costs/{symbol}/{timeframe}/{date}.json"
#: one look at a live exchange's order book (``QuoteSample``), taken every 15 minutes. The only key without a
#: timeframe: a book is the same whatever the candles' timeframe, and every timeframe's ``market_quotes`` reads it
QUOTE_SAMPLE_LAYOUT = "quotes/{symbol}/{date}/{time}.parquet"
#: one picture per run of an asset (equity curves …), linked from the partitions' metadata
PLOT_LAYOUT = "plots/{asset}/{timeframe}/{name}.svg"
#: one trained model's folder (files and their ``sha256.txt``), named for the UTC moment its training data ends;
#: the timeframe level keeps two timeframes' models apart, like every other key
MODEL_FOLDER_LAYOUT = "models/{symbol}/{timeframe}/{cutoff}"
#: the shared encoder of one day (``encoder.pt`` and its ``sha256.txt``), one per timeframe
ENCODER_FOLDER_LAYOUT = "encoders/{timeframe}/{date}"


def partition_object_key(asset: str, *, symbol: str, day: date, timeframe: str, recipe_hash: str = "") -> str:
    try:
        template = PARTITIONED_LAYOUT[asset]
    except KeyError:
        raise ValueError(f"no storage layout for asset {asset!r}; known: {sorted(PARTITIONED_LAYOUT)}") from None
    if "{recipe_hash}" in template and not recipe_hash:
        raise ValueError(f"storing {asset!r} needs the feature recipe hash")
    return template.format(symbol=to_key(symbol), date=day.isoformat(), timeframe=timeframe, recipe_hash=recipe_hash)


def candles_key(symbol: str, timeframe: str, day: date) -> str:
    return partition_object_key("candles", symbol=symbol, day=day, timeframe=timeframe)


def costs_key(symbol: str, timeframe: str, day: date) -> str:
    return COSTS_LAYOUT.format(symbol=to_key(symbol), timeframe=timeframe, date=day.isoformat())


def quote_sample_key(symbol: str, moment: datetime) -> str:
    """The sample read at ``moment`` (UTC, to the second)."""
    utc = moment.astimezone(UTC)
    return QUOTE_SAMPLE_LAYOUT.format(symbol=to_key(symbol), date=utc.date().isoformat(), time=utc.strftime("%H%M%S"))


def quote_samples_prefix(symbol: str, day: date) -> str:
    """Where the samples of one symbol's UTC day lie."""
    return QUOTE_SAMPLE_LAYOUT.format(symbol=to_key(symbol), date=day.isoformat(), time="").removesuffix(".parquet")


def plot_key(asset: str, timeframe: str, name: str) -> str:
    return PLOT_LAYOUT.format(asset=asset, timeframe=timeframe, name=name)


def model_folder_key(symbol: str, timeframe: str, cutoff: datetime) -> str:
    """``cutoff`` must carry a time zone: a naive moment would name a different folder on every machine's clock."""
    if cutoff.tzinfo is None or cutoff.utcoffset() is None:
        raise ValueError(f"model cutoff {cutoff.isoformat()} has no time zone: give the UTC moment training data ends")
    stamp = cutoff.astimezone(UTC).strftime("%Y%m%d_%H%M%SZ")
    return MODEL_FOLDER_LAYOUT.format(symbol=to_key(symbol), timeframe=timeframe, cutoff=stamp)


def encoder_folder_key(timeframe: str, day: date) -> str:
    return ENCODER_FOLDER_LAYOUT.format(timeframe=timeframe, date=day.isoformat())


#: the champion pointer of one coin on one timeframe: always points at a complete, checksum-valid model folder
#: (absent: no champion). A coin's 1h champion never stands in for its 15m one.
CHAMPION_POINTER_LAYOUT = "champion/{symbol}/{timeframe}/latest.json"
#: every champion decision, promoted or not, one JSON object per line (the history); each line names its timeframe,
#: and every look-up (``ChampionBook``) reads one timeframe's lines
PROMOTIONS_KEY = "champions/promotions.jsonl"
#: history lines that could not be read (damaged, or an append cut short), moved aside with where and why
QUARANTINE_KEY = "champions/promotions.quarantine.jsonl"
#: the newest roster of a timeframe (symbols ranked for trading: what Hamilton reads), and each day's roster
ROSTER_LAYOUT = "champions/roster/{timeframe}/latest.json"
ROSTER_DAY_LAYOUT = "champions/roster/{timeframe}/{date}.json"
#: a challenger the Mechanic trained from the freshest data, named like a model folder
CHALLENGER_FOLDER_LAYOUT = "challengers/{symbol}/{timeframe}/{cutoff}"
DAILY_SUMMARY_LAYOUT = "summaries/daily/{timeframe}/{date}.json"


def champion_pointer_key(symbol: str, timeframe: str) -> str:
    return CHAMPION_POINTER_LAYOUT.format(symbol=to_key(symbol), timeframe=timeframe)


def challenger_folder_key(symbol: str, timeframe: str, cutoff: datetime) -> str:
    return model_folder_key(symbol, timeframe, cutoff).replace("models/", "challengers/", 1)


def roster_key(timeframe: str) -> str:
    return ROSTER_LAYOUT.format(timeframe=timeframe)


def roster_day_key(timeframe: str, day: date) -> str:
    return ROSTER_DAY_LAYOUT.format(timeframe=timeframe, date=day.isoformat())


def daily_summary_key(timeframe: str, day: date) -> str:
    return DAILY_SUMMARY_LAYOUT.format(timeframe=timeframe, date=day.isoformat())


#: Hamilton's logs of one UTC day (``YYYYMMDD``): ``trades`` (every fill), ``decisions`` (every coin at every bar),
#: ``equity`` (one row a bar); each replaced whole as bars are added
LIVE_LOG_LAYOUT = "live_logs/{kind}/{timeframe}/{day}.parquet"
#: Hamilton's state (the risk manager's, the entries awaiting their fill, the positions' signals): one document
LIVE_STATE_LAYOUT = "live_state/{timeframe}/hamilton.json"


def live_log_key(kind: str, timeframe: str, day: date) -> str:
    return LIVE_LOG_LAYOUT.format(kind=kind, timeframe=timeframe, day=day.strftime("%Y%m%d"))


def live_logs_prefix(kind: str, timeframe: str) -> str:
    return LIVE_LOG_LAYOUT.format(kind=kind, timeframe=timeframe, day="").rsplit("/", 1)[0] + "/"


def live_state_key(timeframe: str) -> str:
    return LIVE_STATE_LAYOUT.format(timeframe=timeframe)


#: export tables analysts query (``huracan_core/exports``): one object per source partition, replaced whole
EXPORT_LAYOUT = "exports/{table}/{timeframe}/{symbol}/{date}.parquet"
EXPORT_DAY_LAYOUT = "exports/{table}/{timeframe}/{date}.parquet"


def export_key(table: str, timeframe: str, day: date, symbol: str | None = None) -> str:
    if symbol is None:
        return EXPORT_DAY_LAYOUT.format(table=table, timeframe=timeframe, date=day.isoformat())
    return EXPORT_LAYOUT.format(table=table, timeframe=timeframe, symbol=to_key(symbol), date=day.isoformat())


#: a research search's candidates (``research_candidates``), one object per search: a search spans timeframes and
#: coins, so its id, not a timeframe, keeps two searches apart
EXPORT_SEARCH_LAYOUT = "exports/{table}/{search_id}.parquet"
#: the rest of a search's output beside it: the candidates' daily equity, their IC per fold and the HTML report
RESEARCH_LAYOUT = "research/{search_id}/{name}"
#: a search id is one path segment that names nothing else (no ``/``, no ``..``)
_SEARCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def export_search_key(table: str, search_id: str) -> str:
    return EXPORT_SEARCH_LAYOUT.format(table=table, search_id=_search_id(search_id))


def research_key(search_id: str, name: str) -> str:
    return RESEARCH_LAYOUT.format(search_id=_search_id(search_id), name=name)


def _search_id(search_id: str) -> str:
    if not _SEARCH_ID.fullmatch(search_id):
        raise ValueError(
            f"search id {search_id!r} cannot name a storage key: letters, digits, '.', '_' and '-' only, "
            "starting with a letter or digit"
        )
    return search_id


def would_be_key(symbol: str, timeframe: str, day: date) -> str:
    """The trades a day's paused patterns would have taken (``health.pauses``: their recovery is judged on them)."""
    return f"health/would_be/{to_key(symbol)}/{timeframe}/{day.isoformat()}.parquet"
