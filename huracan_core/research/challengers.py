"""A search's admitted winners offered to the champion book: the research path into the existing coin model →
champion chain.

Only an admitted winner is offered — one that survived the correction for the search — and only one the chain can
trade as it was judged: a per-coin model (a pooled or market-neutral one reads cross-sectional ranks the daily
chain does not compute) trading the exits the shadow trader follows (a model judged on other exits would be traded
on rules it never saw). It is trained as the Engine trains a coin model (``train_coin_model`` over the search
window, its encoder kept in the folder), written as a challenger folder with ``sha256.txt`` last, its
``metrics.json`` carrying the search's figures, and judged against the champion in force by the Mechanic's own
``judge_challenger`` like any challenger; the history line records the search's figures beside the test. Every other admitted winner is
answered with why it was not offered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from huracan_core.champions.book import ChampionBook
from huracan_core.champions.mechanic import judge_challenger
from huracan_core.champions.promotion import PromotionRule
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.models.day_models import ModelPartition, json_bytes, model_files, write_model
from huracan_core.models.training import train_coin_model
from huracan_core.research.run import ResearchOutcome
from huracan_core.research.space import Candidate
from huracan_core.storage.keys import challenger_folder_key
from huracan_core.symbols import to_key
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig

SOURCE = "research"


@dataclass(frozen=True)
class Offer:
    symbol: str
    candidate: str
    #: ``promoted``, ``kept`` or ``not offered``
    outcome: str
    why: str
    folder: str | None = None


def offer_winners(
    outcome: ResearchOutcome,
    book_of: dict[str, ChampionBook],
    *,
    chain_exits: ExitConfig,
    costs: CostModel,
    exchange: str = "binance",
    rule: PromotionRule = PromotionRule(),
    evaluation_days: int = 7,
    decided_at: datetime,
    run_id: str = "",
) -> Iterator[Offer]:
    """Each admitted winner, offered or said why not; ``book_of``: the champion book of each timeframe the chain
    runs (a winner of another timeframe has no chain to trade it)."""
    candidates = {c.id: c for c in outcome.space.candidates()}
    for symbol, verdict in sorted(outcome.judged.verdicts.items()):
        admission = verdict.admission
        if admission is None or not admission.admitted or verdict.winner is None:
            continue
        candidate = candidates[verdict.winner]
        why = _not_tradable(candidate, chain_exits, book_of)
        if why:
            yield Offer(to_key(symbol), candidate.id, "not offered", why)
            continue
        search = {
            "search_id": outcome.search_id,
            "candidate": candidate.id,
            "trials": verdict.trials,
            **admission.to_dict(),
        }
        book = book_of[candidate.timeframe]
        yield _offer(
            outcome, symbol, candidate, search, book, costs, exchange, rule, evaluation_days, decided_at, run_id
        )


def _not_tradable(candidate: Candidate, chain_exits: ExitConfig, book_of: dict[str, ChampionBook]) -> str:
    if candidate.family != "coin_lgbm":
        return f"a {candidate.family} model reads cross-sectional ranks the daily chain does not compute"
    if candidate.timeframe not in book_of:
        return f"no {candidate.timeframe} chain runs to trade it (HURACAN_TIMEFRAMES)"
    if candidate.exit.config(candidate.timeframe) != chain_exits:
        return f"it was judged on the exits {candidate.exit.name}, which the shadow trader does not follow"
    return ""


def _offer(
    outcome: ResearchOutcome,
    symbol: str,
    candidate: Candidate,
    search: dict[str, Any],
    book: ChampionBook,
    costs: CostModel,
    exchange: str,
    rule: PromotionRule,
    evaluation_days: int,
    decided_at: datetime,
    run_id: str,
) -> Offer:
    data = outcome.data[candidate.timeframe]
    start, cutoff = outcome.window
    config = outcome.space.model_config(candidate.timeframe, (cutoff - start).days)
    exits = candidate.exit.config(candidate.timeframe)
    bars = data.model_bars(candidate.exit.name, symbol)
    encoder = data.encoder if candidate.encoder else None
    trained = train_coin_model(
        bars,
        data.inputs(candidate.family, candidate.encoder),
        symbol,
        candidate.timeframe,
        cutoff,
        embedding=encoder.embedding_columns if encoder else (),
        config=config,
        costs=costs,
        exchange=exchange,
        exits=exits,
    )
    recipe = FeatureRecipe.default(candidate.timeframe).version_hash
    files = model_files(trained, recipe, encoder, config=config, costs=costs, exchange=exchange, exits=exits)
    files["metrics.json"] = json_bytes({**json.loads(files["metrics.json"]), "search": search})
    folder = challenger_folder_key(symbol, candidate.timeframe, cutoff)
    part = ModelPartition(cutoff.date(), symbol, trained, folder, files, encoder.version_hash if encoder else None)
    write_model(book.store, part)
    recorded = judge_challenger(
        book,
        part,
        {"model_folder": folder, "search": search, "gate_summary": trained.gates.summary()},
        candidate.timeframe,
        lambda: bars.filter(bars["timestamp"] >= cutoff - timedelta(days=evaluation_days)),
        source=SOURCE,
        evaluation_days=evaluation_days,
        decided_at=decided_at,
        rule=rule,
        exchange=exchange,
        costs=costs,
        exits=exits,
        run_id=run_id,
    )
    return Offer(
        to_key(symbol), candidate.id, "promoted" if recorded["promoted"] else "kept", recorded["reason"], folder
    )
