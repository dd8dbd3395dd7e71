"""Hamilton's side: a coin's champion loaded and verified, and the newest closed candle scored by it.

``load_champion`` reads ``champion/<SYMBOL>/<timeframe>/latest.json`` (a coin trades on one timeframe's champion;
``champions/roster/<timeframe>/latest.json`` ranks the coins of that timeframe and says which may trade), loads the model folder it points at (every file checked
against ``sha256.txt`` first) and refuses a model whose features this code cannot compute: the recipe hash in its
``features.json`` must be the hash of the recipe this code builds for its timeframe.

``score_latest`` rebuilds the model's inputs from plain candles with the pipeline's own functions, in the
pipeline's own day partitions — ``compute_feature_partitions`` (each day from ``history_days`` earlier days),
the regime detector, ``signal_partitions`` (``SIGNAL_WARMUP_DAYS`` earlier days) and ``model_bars`` — so the bar
it scores has exactly the inputs, hence exactly the edges, the model would have seen for it in training or in the
shadow trader. The candles it needs (``required_symbols``):

* the coin's own, from 00:00 UTC of the day ``Champion.history_days`` days before the scored bar's day
  (``features.partitions.history_days`` of the recipe for the features, plus ``SIGNAL_WARMUP_DAYS`` for the
  signals' warm-up: 12 + 3 = 15 days for the 15m recipe);
* the recipe's reference (``BTC-USDT``: ``corr_btc``, ``beta_btc``), unless the coin is the reference;
* every member of the universe that ``rs_rank``/``leader_flag`` rank against — the universe the pipeline declared
  for those days (its explicit symbol list, or the top N by the quote volume of the 30 days before each day,
  ``universe.universe_by_day``). By default it is every symbol given in ``candles``.

The reference and the members need the same days as the coin (each day the coin has candles), as in the
pipeline. Extra symbols outside the universe are ignored when ``universe`` is given. Each frame is the canonical
candle frame (``huracan_core.schema``: ``timestamp`` = the candle's open time, UTC), held to the rules the pipeline
stores candles under. Candles that close after ``now`` are left out, of every symbol; ``now`` defaults to the close
of the coin's last candle, or the present moment if that is still ahead, so a candle still forming is never scored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from huracan_core.candles import day_start
from huracan_core.day_keys import DayKey
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import compute_feature_partitions
from huracan_core.features.windows import history_days as feature_history_days
from huracan_core.models.artifacts import CorruptModelError, read_model_folder
from huracan_core.models.inputs import model_bars
from huracan_core.models.policy import CoinModel, load_coin_model
from huracan_core.regimes import RegimeDetector
from huracan_core.schema import TIMESTAMP_DTYPE, conform
from huracan_core.storage.keys import champion_pointer_key, roster_key
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore
from huracan_core.symbols import to_key
from huracan_core.timeframes import timeframe_delta
from huracan_core.trading.costs import CostModel, FeeSchedule, order_type
from huracan_core.trading.signals import WARMUP_DAYS as SIGNAL_WARMUP_DAYS
from huracan_core.trading.signals import signal_partitions
from huracan_core.validation import validate_candles


class NoChampionError(LookupError):
    """The coin has no champion pointer: nothing may trade it (the roster says why)."""


class RecipeMismatchError(ValueError):
    """The champion was trained on features of another recipe than the one this code computes."""


class MissingCandlesError(LookupError):
    """A symbol whose candles the recipe needs (the coin, its reference, a universe member) is absent."""


class NotEnoughHistoryError(ValueError):
    """The candles start too late for the features' and signals' warm-up before the scored bar's day."""


@dataclass(frozen=True)
class Champion:
    """A coin's serving model as loaded from its pointer, with what it takes to compute its inputs."""

    symbol: str  # BASE-QUOTE
    timeframe: str
    #: ``champion/<SYMBOL>/<tf>/latest.json`` as read
    pointer: dict[str, Any]
    model: CoinModel
    #: the recipe whose hash the model's ``features.json`` names (this code's recipe for the timeframe)
    recipe: FeatureRecipe
    #: the venue and costs its signals were priced at (``config.json`` / ``costs.json``)
    exchange: str
    costs: CostModel
    #: its out-of-sample record over the walk-forward test folds (``metrics.json``'s ``aggregate``: hit rate,
    #: profit factor, …), what position sizing bets on
    out_of_sample: Mapping[str, Any]

    @property
    def model_folder(self) -> str:
        return self.model.folder

    @property
    def mlflow_version(self) -> str:
        version = self.pointer.get("mlflow_version")
        return "" if version is None else str(version)

    @property
    def history_days(self) -> int:
        """Whole days of candles needed before the scored bar's day: the features' and the signals' warm-up."""
        return feature_history_days(self.recipe) + SIGNAL_WARMUP_DAYS

    def required_symbols(self, universe: Sequence[str] = ()) -> list[str]:
        """Whose candles ``score`` reads: the coin, the recipe's reference and the universe's members."""
        return sorted({self.symbol, to_key(self.recipe.reference_symbol), *(to_key(m) for m in universe)})

    def score(
        self,
        candles: Mapping[str, pl.DataFrame],
        *,
        now: datetime | None = None,
        universe: Sequence[str] | Mapping[date, Sequence[str]] | None = None,
    ) -> Score:
        """The newest candle of the coin closed by ``now``, scored (arguments as for ``bar``)."""
        bar, now = self._bar(candles, now, universe)
        long_edge, short_edge = self.model.predict(bar)
        decision = self.model.rule.decide(bar, long_edge, short_edge, self.model.folder)
        bar_time: datetime = bar["timestamp"][0]
        volatility = bar["volatility_percentile"][0] if "volatility_percentile" in bar.columns else None
        return Score(
            symbol=self.symbol,
            timestamp=bar_time,
            long_edge_bps=float(long_edge[0]),
            short_edge_bps=float(short_edge[0]),
            decision=int(decision["direction"][0]),
            expected_edge_bps=float(decision["expected_edge_bps"][0]),
            margin_bps=self.model.margin_bps,
            rule=self.model.rule.describe(),
            model_folder=self.model.folder,
            mlflow_version=self.mlflow_version,
            as_of=now,
            in_training_window=bar_time < self.model.cutoff,
            close=float(bar["close"][0]),
            regime=str(bar["regime"][0] or "UNKNOWN"),
            confidence=float(decision["confidence"][0]),
            engines_agreeing=str(decision["engines_agreeing"][0] or ""),
            volatility_percentile=None if volatility is None else float(volatility),
        )

    def bar(
        self,
        candles: Mapping[str, pl.DataFrame],
        *,
        now: datetime | None = None,
        universe: Sequence[str] | Mapping[date, Sequence[str]] | None = None,
    ) -> pl.DataFrame:
        """What the model reads for the newest candle of the coin closed by ``now``: one row of ``model_bars``.

        ``candles``: symbol (``BTC/USDT`` or ``BTC-USDT``) → canonical candle frame, see the module docstring.
        ``now`` defaults to the close of the coin's last candle, or the present moment if that close is still
        ahead: a candle still forming is never read, of any symbol.
        ``universe``: the members ``rs_rank`` ranks against, one list for every day or one per day (the days
        read are the scored day and its ``SIGNAL_WARMUP_DAYS`` before); default: every symbol in ``candles``.
        """
        return self._bar(candles, now, universe)[0]

    def _bar(
        self,
        candles: Mapping[str, pl.DataFrame],
        now: datetime | None,
        universe: Sequence[str] | Mapping[date, Sequence[str]] | None,
    ) -> tuple[pl.DataFrame, datetime]:
        frames = _keyed_frames(candles)
        own = self._own_candles(frames)
        now = self._moment(own, now)
        bar_time = self._newest_closed(own, now)
        day = bar_time.date()
        days = [day - timedelta(days=n) for n in range(SIGNAL_WARMUP_DAYS, -1, -1)]
        members = _members_by_day(universe, frames, days)
        by_day = self._day_partitions(frames, own, members, bar_time, now)

        wanted = [(d, self.symbol) for d in days if (d, self.symbol) in by_day]
        batch = compute_feature_partitions(self.recipe, by_day, wanted, {d: members[d] for d, _ in wanted})
        features = {(p.day, p.symbol): p.frame for p in batch.parts}
        detector = RegimeDetector()
        regimes = {key: detector.detect(frame) for key, frame in features.items()}
        own_days = {k: f for k, f in by_day.items() if k[1] == self.symbol}
        key = (day, self.symbol)
        signals = signal_partitions(
            own_days, features, regimes, [key], warmup_days=SIGNAL_WARMUP_DAYS, exchange=self.exchange, costs=self.costs
        )
        bars = model_bars([by_day[key]], [features[key]], [regimes[key]], [signals[key]])
        bar = bars.filter(pl.col("timestamp") == bar_time)
        if bar.height != 1:
            raise AssertionError(f"scoring {self.symbol}: the model's bars lack {bar_time.isoformat()}")
        return bar, now

    def _own_candles(self, frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        if self.symbol not in frames:
            raise MissingCandlesError(
                f"scoring {self.symbol}: no candles of {self.symbol} given (got {', '.join(sorted(frames)) or 'none'})"
            )
        own = _canonical(self.symbol, frames[self.symbol], self.timeframe)
        if own.is_empty():
            raise MissingCandlesError(f"scoring {self.symbol}: the candles of {self.symbol} are empty")
        return own

    def _moment(self, own: pl.DataFrame, now: datetime | None) -> datetime:
        """``now`` in UTC; by default the last candle's close, unless that is still ahead (a live feed's forming
        candle)."""
        if now is None:
            return min(own["timestamp"][-1] + timeframe_delta(self.timeframe), datetime.now(UTC))
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"scoring {self.symbol}: now={now.isoformat()} has no time zone: give a UTC moment")
        return now.astimezone(UTC)

    def _newest_closed(self, own: pl.DataFrame, now: datetime) -> datetime:
        """The open time of the coin's newest candle closed by ``now``, with the warm-up history before its day."""
        closed = own.filter(pl.col("timestamp") + timeframe_delta(self.timeframe) <= now)
        if closed.is_empty():
            raise NotEnoughHistoryError(
                f"scoring {self.symbol}: no candle of {self.symbol} has closed by {now.isoformat()} "
                f"(its first opens at {own['timestamp'][0].isoformat()})"
            )
        bar_time: datetime = closed["timestamp"][-1]
        first_day = bar_time.date() - timedelta(days=self.history_days)
        if own["timestamp"][0] > day_start(first_day):
            raise NotEnoughHistoryError(
                f"scoring {self.symbol} at {bar_time.isoformat()}: needs {self.history_days} whole days of candles "
                f"before {bar_time.date()} (from {first_day} 00:00 UTC): {feature_history_days(self.recipe)} for the "
                f"features of recipe {self.recipe.version_hash} ({self.recipe.history_bars} bars) and "
                f"{SIGNAL_WARMUP_DAYS} for the signals' warm-up; the candles of {self.symbol} start at "
                f"{own['timestamp'][0].isoformat()}"
            )
        return bar_time

    def _day_partitions(
        self,
        frames: Mapping[str, pl.DataFrame],
        own: pl.DataFrame,
        members: Mapping[date, Sequence[str]],
        bar_time: datetime,
        now: datetime,
    ) -> dict[DayKey, pl.DataFrame]:
        """Every symbol read cut into UTC days as the candles asset stores them, from the first warm-up day to
        ``now``; the reference and each member on every day the coin has candles (as the features require)."""
        reference = to_key(self.recipe.reference_symbol)
        universe = sorted({m for ms in members.values() for m in ms})
        others = sorted({reference, *universe} - {self.symbol})
        absent = [s for s in others if s not in frames]
        if absent:
            raise MissingCandlesError(
                f"scoring {self.symbol}: no candles of {', '.join(absent)} given; the features of recipe "
                f"{self.recipe.version_hash} read the reference {reference} and every member of the universe "
                f"({', '.join(universe)})"
            )
        start, step = day_start(bar_time.date() - timedelta(days=self.history_days)), timeframe_delta(self.timeframe)

        def window(symbol: str, frame: pl.DataFrame) -> pl.DataFrame:
            cut = frame.filter((pl.col("timestamp") >= start) & (pl.col("timestamp") + step <= now))
            return _validated(symbol, cut, self.timeframe)

        series = {self.symbol: window(self.symbol, own)}
        series |= {s: window(s, _canonical(s, frames[s], self.timeframe)) for s in others}
        by_day = _by_day(series)
        own_days = sorted(d for d, s in by_day if s == self.symbol)
        lacking = {s: [d for d in own_days if (d, s) not in by_day] for s in others}
        lacking = {s: ds for s, ds in lacking.items() if ds}
        if lacking:
            lines = "; ".join(f"{s} ({_days(ds)})" for s, ds in lacking.items())
            raise MissingCandlesError(
                f"scoring {self.symbol} at {bar_time.isoformat()}: no candles on days the features read: {lines}"
            )
        return by_day


@dataclass(frozen=True)
class Score:
    """The champion's verdict on one closed candle."""

    symbol: str
    #: the scored candle's open time (UTC); it closed at ``timestamp + timeframe`` <= ``as_of``
    timestamp: datetime
    #: predicted after-cost edge (bps) of a long / a short entered after this bar
    long_edge_bps: float
    short_edge_bps: float
    #: +1 long, −1 short, 0 stay out: the model's rule (``config.json``'s ``decision``), as the shadow trader decides
    decision: int
    expected_edge_bps: float
    margin_bps: float
    #: the rule and its thresholds per side, for people (``DecisionRule.describe``)
    rule: str
    model_folder: str
    mlflow_version: str
    #: the moment the candles were cut at (candles closing later were left out)
    as_of: datetime
    #: the bar lies before the model's cutoff: the model trained on that stretch, so it is no out-of-sample call
    in_training_window: bool
    #: the scored candle's close, its regime, the consensus confidence and engines agreeing (the exits read them:
    #: stop and max hold by regime, take profit by confidence) and its ``volatility_percentile`` feature (None in
    #: the feature's warm-up)
    close: float
    regime: str
    confidence: float
    #: the engines whose votes agreed, comma-separated
    engines_agreeing: str
    volatility_percentile: float | None


def load_champion(store: ArtifactStore, symbol: str, timeframe: str) -> Champion:
    """The champion of ``symbol`` on ``timeframe``: pointer read, model folder verified against ``sha256.txt``,
    recipe checked.

    Raises ``NoChampionError`` (no pointer), ``CorruptModelError`` (incomplete or altered folder; names folder and
    file), ``RecipeMismatchError`` (trained on another feature recipe than this code computes) or ``ValueError``
    (a pointer that is not what the promotion writes).
    """
    coin = to_key(symbol)
    key = champion_pointer_key(coin, timeframe)
    where = store.uri(key)
    try:
        raw = store.read_bytes(key)
    except ArtifactNotFound:
        raise NoChampionError(
            f"{coin} has no {timeframe} champion: {where} does not exist, so nothing may trade it — "
            f"{store.uri(roster_key(timeframe))} says why (not ranked, no model passed its gates, …)"
        ) from None
    pointer = _pointer(raw, coin, where)
    folder = pointer["model_folder"].rstrip("/")
    try:
        model = load_coin_model(store, folder)
        files = read_model_folder(store, folder)
    except CorruptModelError as error:
        raise CorruptModelError(f"champion of {coin} ({where}): {error}") from error
    config = json.loads(files["config.json"])
    spec = json.loads(files["features.json"])
    if tuple(spec["columns"]) != model.columns:  # both reads verified, so the folder was rewritten in between
        raise CorruptModelError(
            f"champion of {coin} ({where}): model folder {store.uri(folder)} changed while it was read"
        )
    if to_key(config["symbol"]) != coin:
        raise ValueError(f"champion of {coin} ({where}) points at {folder}, a model of {config['symbol']}")
    if config["timeframe"] != timeframe or pointer.get("timeframe") not in (None, timeframe):
        raise ValueError(
            f"champion of {coin} ({where}) is a {timeframe} pointer, but it says timeframe "
            f"{pointer.get('timeframe')} and its model {folder} is {config['timeframe']}"
        )

    recipe = FeatureRecipe.default(timeframe)
    trained_on = spec["recipe_hash"]
    if pointer.get("recipe_hash") not in (None, "", trained_on):
        raise RecipeMismatchError(
            f"champion of {coin} ({where}) names recipe {pointer['recipe_hash']}, but its model {folder} was trained "
            f"on recipe {trained_on} (features.json)"
        )
    if trained_on != recipe.version_hash:
        raise RecipeMismatchError(
            f"champion of {coin} ({folder}) was trained on features of recipe {trained_on}, but this code computes "
            f"recipe {recipe.version_hash} for {timeframe}: its scores would come from other features — run the code "
            f"of recipe {trained_on}, or promote a model trained on recipe {recipe.version_hash}"
        )
    costs = json.loads(files["costs.json"])
    return Champion(
        symbol=coin, timeframe=timeframe, pointer=pointer, model=model, recipe=recipe,
        exchange=config["exchange"], costs=_cost_model(costs["model"]),
        out_of_sample=json.loads(files["metrics.json"]).get("aggregate", {}),
    )  # fmt: skip


def score_latest(
    store: ArtifactStore,
    symbol: str,
    timeframe: str,
    candles: Mapping[str, pl.DataFrame],
    *,
    now: datetime | None = None,
    universe: Sequence[str] | Mapping[date, Sequence[str]] | None = None,
) -> Score:
    """The champion of ``symbol`` (``load_champion``) scoring the newest candle closed by ``now``
    (``Champion.score``: what ``candles`` must hold is in the module docstring)."""
    return load_champion(store, symbol, timeframe).score(candles, now=now, universe=universe)


def _pointer(raw: bytes, coin: str, where: str) -> dict[str, Any]:
    try:
        pointer = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"champion pointer {where} is not JSON: {error}") from None
    if not isinstance(pointer, dict) or not isinstance(pointer.get("model_folder"), str) or not pointer["model_folder"]:
        raise ValueError(f"champion pointer {where} names no model_folder")
    if "symbol" in pointer and to_key(str(pointer["symbol"])) != coin:
        raise ValueError(f"champion pointer {where} is for {pointer['symbol']}, not {coin}")
    return pointer


def _cost_model(doc: Mapping[str, Any]) -> CostModel:
    """The ``CostModel`` that ``costs.json`` recorded (``model``: ``CostModel.describe``, fees keyed
    ``exchange:symbol``; a folder written before order types says ``use_taker``). The quotes are the recorded
    table's: a folder keeps the book's hash, not the book."""
    fees = {tuple(name.split(":", 1)): FeeSchedule(**schedule) for name, schedule in doc.get("fees", {}).items()}
    kind = doc.get("order_type") or ("taker" if doc.get("use_taker", True) else "maker")
    return CostModel(
        default_fees=FeeSchedule(**doc["default_fees"]),
        fees=fees,
        order_type=order_type(kind),
        slip_impact_bps=float(doc.get("slip_impact_bps", CostModel.slip_impact_bps)),
    )


def _keyed_frames(candles: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    frames: dict[str, pl.DataFrame] = {}
    for symbol, frame in candles.items():
        key = to_key(symbol)
        if key in frames:
            raise ValueError(f"candles of {key} given twice (as {symbol} and another spelling)")
        frames[key] = frame
    return frames


def _canonical(symbol: str, frame: pl.DataFrame, timeframe: str) -> pl.DataFrame:
    """The canonical candle frame (``schema.conform``), sorted; one whose timestamps are no UTC times is refused
    by the rules the pipeline stores candles under (``_validated`` holds the window read to all of them)."""
    frame = conform(frame)
    if frame.schema.get("timestamp") != TIMESTAMP_DTYPE:
        _validated(symbol, frame, timeframe)
    return frame.sort("timestamp")


def _validated(symbol: str, frame: pl.DataFrame, timeframe: str) -> pl.DataFrame:
    """``CandleValidationError`` naming each bad day (``YYYY-MM-DD|BASE-QUOTE``), column, rows and reason."""
    return validate_candles(frame, timeframe=timeframe, partition_of=lambda d: f"{d.isoformat()}|{symbol}")


def _members_by_day(
    universe: Sequence[str] | Mapping[date, Sequence[str]] | None,
    frames: Mapping[str, pl.DataFrame],
    days: Sequence[date],
) -> dict[date, list[str]]:
    if universe is None:
        return {d: sorted(frames) for d in days}
    if isinstance(universe, Mapping):
        absent = [d.isoformat() for d in days if d not in universe]
        if absent:
            raise ValueError(
                f"no universe given for {', '.join(absent)} (the features of each day rank against its own)"
            )
        return {d: sorted({to_key(m) for m in universe[d]}) for d in days}
    if isinstance(universe, str):
        raise TypeError("universe must be a list of symbols, not one string")
    return {d: sorted({to_key(m) for m in universe}) for d in days}


def _by_day(series: Mapping[str, pl.DataFrame]) -> dict[DayKey, pl.DataFrame]:
    """Each symbol's candles cut into UTC days, as the candles asset stores them."""
    out: dict[DayKey, pl.DataFrame] = {}
    for symbol, frame in series.items():
        parts = frame.with_columns(pl.col("timestamp").dt.date().alias("_day")).partition_by(
            "_day", as_dict=True, include_key=False
        )
        out.update({(key[0], symbol): part for key, part in parts.items()})
    return out


def _days(days: Sequence[date]) -> str:
    return days[0].isoformat() if len(days) == 1 else f"{len(days)} days, {days[0].isoformat()}..{days[-1].isoformat()}"
