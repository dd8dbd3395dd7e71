"""Hamilton's step: one closed bar, from the roster to the logs and the committed state.

At each bar, in order:

1. the kill switch is read (on: every entry waiting for its fill is dropped, every open position closes at this
   bar's close, no entry is approved until it is cleared);
2. the entries approved at the last bar fill at this bar's open (a maker limit fills only if the bar trades
   through it), and every open position is followed through this bar (``fills``): stop, take profit, trailing
   stop or max hold, by the shadow trader's rules and at its costs;
3. the roster and each tradeable coin's champion pointer are read anew, so a promotion is picked up at the next
   bar; a champion that cannot be loaded (no pointer, a folder failing its checksums, another feature recipe),
   that was trained on data reaching past the bar (its call would have seen the future) or whose data ends more
   than ``max_champion_age_days`` before the bar (stale) is refused, and the refusal is logged with why;
4. each coin without a position or a waiting entry is scored on the bar (``Champion.score``: a candle still
   forming is never read), marked, and a call to enter goes to the risk manager, sized from the exits' stop for
   the bar's regime, the costs of a leg at this bar, and the champion's out-of-sample record; a call whose
   pattern (``REGIME:side:engines``) is paused on the bar's day (``health.pauses``, the shadow trader's rule: a
   pause or a lift takes effect from the day after it was recorded) is refused with the rule ``pattern_paused``
   before the risk manager sees it;
5. the bar's rows go to the logs (``logs``), then the state is committed (``state``).

Only coins whose roster entry says ``trade_ok`` are scored; with none it says so once a bar and waits. A person
keeps coins from entering through Telegram (``control``: ``/pause SYMBOL``, ``/trade N`` for the roster's top N):
such a coin is not scored, its entry waiting for a fill is dropped, its open position runs to its exit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from huracan_core.candles import day_start
from huracan_core.champions.hamilton import (
    SIGNAL_WARMUP_DAYS,
    Champion,
    MissingCandlesError,
    NoChampionError,
    NotEnoughHistoryError,
    RecipeMismatchError,
    Score,
    load_champion,
)
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.features.windows import history_days as feature_history_days
from huracan_core.health.patterns import pattern_of
from huracan_core.health.pauses import PauseEvent, load_book
from huracan_core.models.artifacts import CorruptModelError
from huracan_core.paper.control import Control
from huracan_core.paper.fills import Followed, follow
from huracan_core.paper.logs import write_bar
from huracan_core.paper.signals import Signal
from huracan_core.paper.state import PaperState, load_state, save_state
from huracan_core.risk import Decision, Edge, EntryRequest, RiskManager, RiskSettings, RiskState
from huracan_core.storage.keys import champion_pointer_key, roster_key
from huracan_core.storage.store import ArtifactNotFound, ArtifactStore
from huracan_core.symbols import to_key
from huracan_core.timeframes import timeframe_delta
from huracan_core.trading.costs import BPS, CostModel, leg_costs
from huracan_core.trading.exits import ExitConfig, stop_expr
from huracan_core.validation.problems import CandleValidationError

#: what keeps a champion from being loaded: each names the coin, the pointer or folder, and the cause
LOAD_ERRORS = (NoChampionError, CorruptModelError, RecipeMismatchError, ValueError)
#: what keeps a loaded champion from scoring the bar: candles missing or too short, or breaking the candle rules
SCORE_ERRORS = (MissingCandlesError, NotEnoughHistoryError, CandleValidationError)
Universe = Callable[[Sequence[date]], Mapping[date, Sequence[str]]]


@dataclass(frozen=True)
class PaperConfig:
    timeframe: str
    #: the costs every fill pays (the shadow trader's cost path: fees, spread, slippage, funding, order type)
    costs: CostModel
    exchange: str = "binance"
    exits: ExitConfig = field(default_factory=ExitConfig)
    risk: RiskSettings = field(default_factory=RiskSettings)
    #: a champion whose model's data ends more than this many days before the bar is stale, and refused
    max_champion_age_days: float = 14.0
    #: the members ``rs_rank`` ranks against on each day (the universe the pipeline declared); None: every
    #: symbol whose candles are given
    universe: Universe | None = None


@dataclass(frozen=True)
class BarReport:
    bar: datetime
    equity: float
    #: what happened, for people: fills, approvals, refusals, champions refused
    lines: list[str]
    #: entries and exits filled at the bar
    fills: int
    #: coins scored at the bar
    decisions: int


class PaperTrader:
    """Trades ``config.timeframe`` forward over ``store``, resuming from the state the last bar committed."""

    def __init__(self, store: ArtifactStore, config: PaperConfig) -> None:
        self.store, self.config = store, config
        self.step_size = timeframe_delta(config.timeframe)
        self.recipe = FeatureRecipe.default(config.timeframe)
        self.state = load_state(store, config.timeframe) or PaperState(risk=RiskState(cash=config.risk.starting_equity))
        self.risk = RiskManager(config.risk, self.state.risk)
        #: each coin's champion as loaded, with the pointer's bytes it was loaded for
        self._champions: dict[str, tuple[bytes, Champion]] = {}

    @property
    def next_bar(self) -> datetime | None:
        """The bar to do next: the one after the last committed (None before the first)."""
        return None if self.state.last_bar is None else self.state.last_bar + self.step_size

    def history_start(self, bar: datetime) -> datetime:
        """The first candle any coin's score at ``bar`` reads: the features' and signals' warm-up days before."""
        return day_start(bar.date() - timedelta(days=feature_history_days(self.recipe) + SIGNAL_WARMUP_DAYS))

    def symbols_needed(self, bar: datetime) -> list[str]:
        """Whose candles ``step`` reads at ``bar``: the roster's tradeable coins, every coin with a position or an
        entry waiting, the recipe's reference and the universe's members."""
        roster = self.roster() or []
        coins = {to_key(e["symbol"]) for e in roster if e.get("trade_ok")}
        coins |= {s.symbol for s in self.state.pending.values()} | {s.symbol for s in self.state.held.values()}
        coins.add(to_key(self.recipe.reference_symbol))
        if self.config.universe is not None:
            coins |= {to_key(m) for ms in self.config.universe(self._score_days(bar)).values() for m in ms}
        return sorted(coins)

    def roster(self) -> list[dict[str, Any]] | None:
        """The roster's coins in rank order; None when no roster exists yet."""
        doc = self._roster_document()
        if doc is None:
            return None
        return sorted(doc.get("symbols", []), key=lambda e: (e.get("rank") is None, e.get("rank"), e["symbol"]))

    def roster_day(self) -> date | None:
        """The day the roster ranks coins for (None without a roster, or one that does not say)."""
        doc = self._roster_document()
        return None if doc is None or not doc.get("date") else date.fromisoformat(doc["date"])

    def _roster_document(self) -> dict[str, Any] | None:
        try:
            return self.store.read_json(roster_key(self.config.timeframe))
        except ArtifactNotFound:
            return None

    def step(
        self, bar: datetime, candles: Mapping[str, pl.DataFrame], kill: str | None, control: Control = Control()
    ) -> BarReport:
        """Do the closed bar opening at ``bar`` with ``candles`` (symbol → canonical frame holding at least the
        history from ``history_start(bar)``; candles after ``bar`` are left out), the kill switch on with
        ``kill``'s reason or off with None, and the coins ``control`` keeps from entering (paused, or outside the
        roster's top N). After an exception, resume with a new trader: this one's memory may be half a bar ahead
        of the committed state."""
        if self.next_bar is not None and bar != self.next_bar:
            raise ValueError(
                f"Hamilton: bar {bar.isoformat()} is not the next one ({self.next_bar.isoformat()}): bars are done "
                "once each, in order"
            )
        self.risk.start_bar(bar)
        if kill is not None and not self.state.risk.killed:
            self.risk.kill(kill)
        elif kill is None and self.state.risk.killed:
            self.risk.clear_kill()
        frames = {to_key(s): f.filter(pl.col("timestamp") <= bar) for s, f in candles.items()}
        rows: dict[str, list[dict[str, Any]]] = {"trades": [], "decisions": []}
        lines: list[str] = []
        roster = self.roster()
        excluded = control.excluded(roster or [])
        self._fill_pending(bar, frames, excluded, rows["trades"], lines)
        self._follow_held(bar, frames, rows["trades"], lines)
        decided = self._decide(bar, frames, roster, excluded, rows["decisions"], lines)
        rows["equity"] = [self._equity_row(bar)]
        write_bar(self.store, self.config.timeframe, bar, rows)
        self.state.last_bar = bar
        save_state(self.store, self.config.timeframe, self.state)
        fills = sum(row["event"] in ("entry", "exit") for row in rows["trades"])
        return BarReport(bar=bar, equity=self.risk.equity, lines=lines, fills=fills, decisions=decided)

    def _follow(self, signal: Signal, frames: Mapping[str, pl.DataFrame], bar: datetime) -> Followed | None:
        frame = frames.get(signal.symbol)
        if frame is None:
            raise MissingCandlesError(f"Hamilton at {bar.isoformat()}: no candles of {signal.symbol}, which it holds")
        c = self.config
        return follow(signal, frame, bar, timeframe=c.timeframe, exchange=c.exchange, costs=c.costs, exits=c.exits)

    def _fill_pending(
        self,
        bar: datetime,
        frames: Mapping[str, pl.DataFrame],
        excluded: Mapping[str, tuple[str, str]],
        trades: list[dict[str, Any]],
        lines: list[str],
    ) -> None:
        for symbol, signal in sorted(self.state.pending.items()):
            base = _trade_row(bar, signal)
            if self.state.risk.killed:
                del self.state.pending[symbol]
                trades.append({**base, "event": "dropped", "risk_why": f"kill switch: {self.state.risk.kill_reason}"})
                lines.append(f"{symbol}: entry dropped, the kill switch is on")
                continue
            if symbol in excluded:  # paused, or no longer in the top N, since it was approved
                del self.state.pending[symbol]
                trades.append({**base, "event": "dropped", "risk_why": excluded[symbol][1]})
                lines.append(f"{symbol}: entry dropped: {excluded[symbol][1]}")
                continue
            followed = self._follow(signal, frames, bar)
            if followed is None:  # the coin has no candle after its signal bar yet
                continue
            del self.state.pending[symbol]
            if followed.missed:
                trades.append({**base, "event": "missed", "fill_bar": bar})
                lines.append(f"{symbol}: maker entry missed (the bar did not trade through the limit)")
                continue
            t = followed.trade
            position_id = str(t["trade_id"])
            self.risk.opened(signal.approval, position_id, t["entry_price"], followed.entry_cost(), followed.entry_time)
            self.state.held[position_id] = signal
            trades.append(
                {
                    **base,
                    **_leg(t, "in"),
                    "event": "entry",
                    "position_id": position_id,
                    "fill_bar": t["entry_time"],
                    "price": t["entry_price"],
                }
            )
            lines.append(f"{symbol}: {_side(signal.direction)} {signal.notional:,.2f} filled at {t['entry_price']:g}")

    def _follow_held(
        self, bar: datetime, frames: Mapping[str, pl.DataFrame], trades: list[dict[str, Any]], lines: list[str]
    ) -> None:
        killed = self.state.risk.killed
        for position_id, signal in sorted(self.state.held.items()):
            followed = self._follow(signal, frames, bar)
            if followed is None or (followed.still_open and not killed):
                continue
            t = followed.trade
            reason = "kill_switch" if followed.still_open else str(t["exit_reason"])
            self.risk.closed(position_id, t["exit_price"], followed.exit_cost())
            del self.state.held[position_id]
            trades.append(
                {
                    **_trade_row(bar, signal),
                    **_leg(t, "out"),
                    "event": "exit",
                    "position_id": position_id,
                    "fill_bar": t["exit_time"],
                    "price": t["exit_price"],
                    "funding": t["funding_paid"],
                    "net_pnl": t["net_pnl"],
                    "net_bps": t["net_bps"],
                    "exit_reason": reason,
                }
            )
            lines.append(f"{signal.symbol}: closed ({reason}) at {t['exit_price']:g}, net {t['net_pnl']:+,.2f}")

    def _decide(
        self,
        bar: datetime,
        frames: Mapping[str, pl.DataFrame],
        roster: list[dict[str, Any]] | None,
        excluded: Mapping[str, tuple[str, str]],
        decisions: list[dict[str, Any]],
        lines: list[str],
    ) -> int:
        if roster is None:
            why = f"no roster at {self.store.uri(roster_key(self.config.timeframe))}: nothing to trade, waiting"
            decisions.append({"bar_time": bar, "symbol": "", "outcome": "no_roster", "why": why})
            lines.append(why)
            return 0
        tradeable = [to_key(e["symbol"]) for e in roster if e.get("trade_ok")]
        if not tradeable:
            why = f"no champion may trade: the roster's {len(roster)} coins all say trade_ok false; waiting"
            decisions.append({"bar_time": bar, "symbol": "", "outcome": "no_champion", "why": why})
            lines.append(why)
            return 0
        for symbol in tradeable:
            if symbol in excluded:
                outcome, why = excluded[symbol]
                decisions.append({"bar_time": bar, "symbol": symbol, "outcome": outcome, "rule": "control", "why": why})
        tradeable = [s for s in tradeable if s not in excluded]
        if not tradeable:
            lines.append("every coin the roster lets trade is paused or outside the top N (Telegram): waiting")
            return 0
        busy = {s.symbol for s in self.state.pending.values()} | {s.symbol for s in self.state.held.values()}
        scored: dict[str, tuple[Champion, Score, dict[str, Any]]] = {}
        members = self.config.universe(self._score_days(bar)) if self.config.universe else None
        for symbol in tradeable:
            row: dict[str, Any] = {"bar_time": bar, "symbol": symbol}
            if symbol in busy:
                decisions.append({**row, "outcome": "holding"})
                continue
            champion, refusal = self._champion(symbol, bar)
            if champion is None:
                decisions.append({**row, "outcome": "champion_refused", "rule": "champion", "why": refusal})
                lines.append(f"{symbol}: champion refused: {refusal}")
                continue
            row |= {"model_folder": champion.model_folder, "mlflow_version": champion.mlflow_version}
            try:
                score = champion.score(frames, now=bar + self.step_size, universe=members)
            except SCORE_ERRORS as error:
                decisions.append({**row, "outcome": "not_scored", "why": str(error)})
                lines.append(f"{symbol}: not scored: {error}")
                continue
            if score.timestamp != bar:
                why = f"no candle of {symbol} at {bar.isoformat()} (its newest closed opens at {score.timestamp})"
                decisions.append({**row, "outcome": "not_scored", "why": why})
                continue
            row |= {
                "long_edge_bps": score.long_edge_bps,
                "short_edge_bps": score.short_edge_bps,
                "direction": score.decision,
                "regime": score.regime,
                "volatility_percentile": score.volatility_percentile,
            }
            scored[symbol] = (champion, score, row)
        for symbol in sorted({*scored, *(p.symbol for p in self.state.risk.positions.values())}):
            frame = frames.get(symbol)
            last = None if frame is None else frame.filter(pl.col("timestamp") == bar)
            if last is not None and last.height:
                rank = scored[symbol][1].volatility_percentile if symbol in scored else None
                self.risk.mark(symbol, float(last["close"][0]), volatility_percentile=rank)
        paused: dict[str, PauseEvent] | None = None
        for symbol in tradeable:
            if symbol not in scored:
                continue
            champion, score, row = scored[symbol]
            if score.decision == 0:
                decisions.append({**row, "outcome": "no_signal"})
                continue
            if paused is None:  # read once a bar, and only when a call to enter needs it
                paused = load_book(self.store, self.config.timeframe).paused(on=bar.date())
            pattern = pattern_of(score.regime, score.decision, score.engines_agreeing)
            if pattern in paused:
                pause = paused[pattern]
                why = f"pattern {pattern} paused since {pause.at.isoformat()} by {pause.by}: {pause.reason}"
                figures = {"pattern": pattern, "paused_at": pause.at.isoformat(), "paused_by": pause.by}
                decisions.append(
                    {
                        **row,
                        "outcome": "refused",
                        "rule": "pattern_paused",
                        "why": why,
                        "figures": json.dumps(figures, sort_keys=True),
                    }
                )
                lines.append(f"{symbol}: {_side(score.decision)} refused by pattern_paused: {why}")
                continue
            decision = self.risk.decide(self._request(champion, score, frames[symbol], bar))
            decisions.append(
                {
                    **row,
                    "outcome": "approved" if decision.approved else "refused",
                    "rule": decision.rule,
                    "notional": decision.notional,
                    "why": decision.why,
                    "figures": json.dumps(decision.figures, sort_keys=True),
                }
            )
            word = "approved" if decision.approved else "refused"
            lines.append(f"{symbol}: {_side(score.decision)} {word} by {decision.rule}: {decision.why}")
            if decision.approved:
                self.state.pending[symbol] = _signal(champion, score, decision)
        return len(scored)

    def _champion(self, symbol: str, bar: datetime) -> tuple[Champion | None, str]:
        """The coin's champion in force at ``bar``, or why none may trade. The pointer is read at every bar (a
        promotion is picked up at the next one); the model is loaded, its folder's checksums verified, when the
        pointer is new to this process (a folder is written once and never changed in place)."""
        key = champion_pointer_key(symbol, self.config.timeframe)
        try:
            pointer = self.store.read_bytes(key)
        except ArtifactNotFound:
            pointer = b""
        cached = self._champions.get(symbol)
        if cached is not None and cached[0] == pointer:
            champion = cached[1]
        else:
            try:
                champion = load_champion(self.store, symbol, self.config.timeframe)
            except LOAD_ERRORS as error:
                self._champions.pop(symbol, None)
                return None, str(error)
            self._champions[symbol] = (pointer, champion)
        cutoff = champion.model.cutoff
        if bar < cutoff:
            return None, (
                f"champion of {symbol} ({champion.model_folder}) was trained on data up to {cutoff.isoformat()}, "
                f"after the bar {bar.isoformat()}: its call on the bar would have seen the future"
            )
        age = bar - cutoff
        if age > timedelta(days=self.config.max_champion_age_days):
            return None, (
                f"champion of {symbol} ({champion.model_folder}) is stale: its data ends {cutoff.isoformat()}, "
                f"{age.total_seconds() / 86400:.1f} days before the bar (at most {self.config.max_champion_age_days:g})"
            )
        return champion, ""

    def _request(self, champion: Champion, score: Score, frame: pl.DataFrame, bar: datetime) -> EntryRequest:
        """The entry as the risk manager weighs it: the exits' stop for the bar's regime, a taker leg's cost at
        this bar for the largest size it may get (stops and time exits leave as takers), the champion's record."""
        c = self.config
        stop_bps = float(pl.select(stop_expr(c.exits, pl.lit(score.regime))).item())
        size = c.risk.max_position_share * max(self.risk.equity, 0.0)
        legs = leg_costs(frame.filter(pl.col("timestamp") == bar), c.costs, c.exchange, score.symbol, size, "taker")
        cost_bps = float(legs["fee_bps"][0] + legs["spread_bps"][0] / 2 + legs["slip_bps"][0])
        try:
            return EntryRequest(
                score.symbol,
                score.decision,
                stop_bps,
                cost_bps,
                score.regime,
                Edge.from_metrics(champion.out_of_sample),
            )
        except ValueError as error:
            return EntryRequest(score.symbol, score.decision, stop_bps, cost_bps, score.regime, None, str(error))

    def _score_days(self, bar: datetime) -> list[date]:
        return [bar.date() - timedelta(days=n) for n in range(SIGNAL_WARMUP_DAYS, -1, -1)]

    def _equity_row(self, bar: datetime) -> dict[str, Any]:
        risk, state = self.risk, self.state.risk
        return {
            "bar_time": bar,
            "equity": risk.equity,
            "cash": state.cash,
            "day_loss": risk.day_loss(),
            "daily_limit": risk.daily_limit(),
            "gross_exposure": sum(p.notional for p in state.positions.values()),
            "open_risk": risk.open_risk(),
            "positions": len(state.positions),
            "pending": len(self.state.pending),
            "killed": state.killed,
            "daily_stop": state.daily_stop_day is not None and state.daily_stop_day == state.day,
            "losing_streak": state.losing_streak,
        }


def _signal(champion: Champion, score: Score, decision: Decision) -> Signal:
    return Signal(
        symbol=score.symbol,
        signal_time=score.timestamp,
        direction=score.decision,
        notional=decision.notional,
        regime=score.regime,
        confidence=score.confidence,
        engines_agreeing=score.engines_agreeing,
        expected_edge_bps=score.expected_edge_bps,
        model_folder=champion.model_folder,
        mlflow_version=champion.mlflow_version,
        decision=decision.to_dict(),
    )


def _trade_row(bar: datetime, signal: Signal) -> dict[str, Any]:
    approval = signal.decision
    return {
        "bar_time": bar,
        "symbol": signal.symbol,
        "direction": signal.direction,
        "notional": signal.notional,
        "model_folder": signal.model_folder,
        "mlflow_version": signal.mlflow_version,
        "risk_rule": approval["rule"],
        "risk_why": approval["why"],
    }


def _leg(trade: Mapping[str, Any], side: str) -> dict[str, float]:
    """One leg's costs in quote currency (bps of the entry notional in the ledger)."""
    per_bps = trade["size"] / BPS
    return {
        "fees": trade[f"fee_{side}"] * per_bps,
        "spread": trade[f"spread_{side}"] * per_bps,
        "slippage": trade[f"slip_{side}"] * per_bps,
        "funding": 0.0,
    }


def _side(direction: int) -> str:
    return "long" if direction > 0 else "short"
