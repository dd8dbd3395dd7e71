"""``research_search``: the research search of each week, as ``huracan research`` runs it, in the UI.

One partition per week (``ResearchWeeks``): the search over the days before the week, on the universe the Engine
declares for the window's last day (the explicit ``HURACAN_SYMBOLS``, or the top N by quote volume ranked on the
Engine's timeframe before that day, as ``universe`` resolves it for the features). The body is the CLI's wiring:
everything it decides lives in ``huracan_core.research``.
"""

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from huracan_core.champions.book import ChampionBook
from huracan_core.cores import usable_cores
from huracan_core.research.challengers import Offer, offer_winners
from huracan_core.research.judge import CoinVerdict
from huracan_core.research.report import FIGURES, TABLE
from huracan_core.research.run import ResearchOutcome, run_research
from huracan_core.research.space import UNIVERSE, SearchSpace
from huracan_core.research.tracking import log_search
from huracan_core.storage.keys import export_search_key, research_key
from huracan_core.trading.exits import ExitConfig
from huracan_core.versions import modules_used, source_hash
from huracan_dagster.defs.assets.champions import EVALUATION_DAYS
from huracan_dagster.defs.partitions import ResearchWeeks
from huracan_dagster.defs.resources import (
    ArchiveResource,
    CostsResource,
    MLflowResource,
    PromotionResource,
    UniverseResource,
)
from huracan_dagster.defs.verdicts import Verdict, evaluations, partitioned_check

RESEARCH_KEY = dg.AssetKey("research_search")
#: the search's verdict: whether any coin's best candidate survived the corrections (a warning, never blocking)
CORRECTED = "search_corrected"
#: the columns of the candidates' table in the UI: who, the selection, and issue 24's figures in the report's order
SHOWN_COLUMNS = ("symbol", "candidate", "family", "selected", "admitted", *(key for key, *_ in FIGURES))
_TYPES = {pl.String: "string", pl.Boolean: "bool", pl.Int64: "int", pl.Float64: "float"}


def research_asset(
    space: SearchSpace,
    weeks: ResearchWeeks,
    *,
    universe_timeframe: str,
    cache: Path,
    chain_timeframes: tuple[str, ...],
    evaluation_days: int = EVALUATION_DAYS,
) -> dg.AssetsDefinition:
    """``space``: the loaded search space (its digest is in the code version, so another space marks the weeks
    stale); ``universe_timeframe``: the candles the universe is ranked on; ``cache``: where evaluated units are
    kept, shared with ``huracan research``; ``chain_timeframes``: the champion books an admitted winner may be
    offered to (the timeframes the daily chain runs)."""

    @dg.asset(
        key=RESEARCH_KEY,
        partitions_def=weeks.weeks,
        check_specs=[
            partitioned_check(
                CORRECTED,
                RESEARCH_KEY,
                partitions_def=weeks.weeks,
                description=(
                    "Per coin (and the market-neutral universe): whether its best candidate by out-of-sample Sharpe "
                    "survived the search's corrections (gates, DSR, SPA, PBO, stability in time, buy-and-hold). A "
                    "week where none did is a research result, not a broken run: a warning that holds nothing back."
                ),
            )
        ],
        kinds={"lightgbm", "mlflow", "parquet"},
        group_name="research",
        code_version=source_hash(
            *modules_used(
                "huracan_core.research.run", "huracan_core.research.tracking", "huracan_core.research.challengers"
            ),
            extra={"space": space.digest, "window_days": weeks.window_days, "universe_timeframe": universe_timeframe},
        ),
        metadata={"space": space.name, "window_days": weeks.window_days},
        description=(
            f"The research search of each week (weeks from Monday): every candidate of the search space `{space.name}` "
            f"(HURACAN_RESEARCH_SPACE) on each coin, judged out of sample after costs over the {weeks.window_days} days "
            "before the week (HURACAN_RESEARCH_DAYS; nothing of the week itself), then each coin's best corrected "
            "for the search. The universe is the Engine's on the window's last day. Writes "
            f"`exports/{TABLE}/<search_id>.parquet` (the `{TABLE}` view of the analysts' DuckDB file, from the next "
            "`analytics` run) and `research/<search_id>/` (equity, IC per fold, the HTML report), and one MLflow "
            "parent run with a child per candidate. Each admitted winner the daily chain can trade as judged (a per-coin "
            "model on a chain timeframe, with the shadow trader's exits) is offered to that timeframe's champion book "
            "as a challenger carrying the search's figures; the others are listed with why not. Units already evaluated on the same inputs and code are read "
            "from the cache, so a week materialized again computes nothing and writes the same bytes. The work runs "
            "over spawned processes, never more than the cores this process may use."
        ),
    )
    def research_search(
        context: dg.AssetExecutionContext,
        archive: ArchiveResource,
        universe: UniverseResource,
        costs: CostsResource,
        mlflow: MLflowResource,
        promotion: PromotionResource,
    ) -> Iterator:
        week = date.fromisoformat(context.partition_key)
        start, end = weeks.window(week)
        symbols = universe.members_by_day(universe_timeframe, [end])[end]
        workers = usable_cores()
        outcome = run_research(
            universe.source.open(),
            symbols,
            start,
            end,
            space=space,
            costs=costs.cost_model(),
            exchange=costs.exchange,
            workers=workers,
            cache=cache,
            progress=context.log.info,
        )
        store = archive.store()
        for key, data in sorted(outcome.files.items()):
            store.write_bytes(key, data)
        offers = list(
            offer_winners(
                outcome,
                {tf: ChampionBook(store, tf) for tf in chain_timeframes},
                chain_exits=ExitConfig(),
                costs=costs.cost_model(),
                exchange=costs.exchange,
                rule=promotion.rule(),
                evaluation_days=evaluation_days,
                decided_at=datetime.now(UTC),
                run_id=context.run.run_id,
            )
        )
        for offer in offers:
            context.log.info(f"{offer.symbol} {offer.candidate}: {offer.outcome} — {offer.why}")
        export = export_search_key(TABLE, outcome.search_id)
        candidates = pl.read_parquet(io.BytesIO(outcome.files[export]))
        run_id = log_search(
            mlflow.config(),
            outcome.search_id,
            outcome.judged.candidates,
            {
                "space": space.name,
                "space_digest": space.digest,
                "timeframes": ",".join(space.timeframes),
                "window": f"{start}..{end}",
                "symbols": ",".join(symbols),
                "candidates_per_coin": len(space.candidates()),
                "dagster_partition": context.partition_key,
            },
        )
        yield dg.MaterializeResult(
            metadata={
                "search_id": outcome.search_id,
                "window": f"{start}..{end}",
                "symbols": ", ".join(symbols),
                "candidates": candidates.height,
                "admitted": int(candidates["admitted"].sum()),
                "candidates_table": candidate_table(candidates),
                "report": dg.MetadataValue.path(store.uri(research_key(outcome.search_id, "index.html"))),
                "export": dg.MetadataValue.path(store.uri(export)),
                "mlflow_parent_run_id": run_id,
                "challengers": dg.MetadataValue.md(offers_table(offers)),
                "units": outcome.computed + outcome.cached,
                "computed": outcome.computed,
                "cached": outcome.cached,
                "workers": workers,
                "seconds": round(outcome.seconds, 1),
            }
        )
        yield from evaluations(
            context,
            RESEARCH_KEY,
            CORRECTED,
            {context.partition_key: corrected(outcome)},
            severity=dg.AssetCheckSeverity.WARN,
        )

    return research_search


def offers_table(offers: list[Offer]) -> str:
    """The admitted winners and what became of them: promoted or kept by the promotion rule, or not offered, why."""
    if not offers:
        return "No candidate was admitted: nothing was offered to the champion book."
    rows = [f"| {o.symbol} | {o.candidate} | {o.outcome} | {o.why.replace('|', chr(92) + '|')} |" for o in offers]
    return "\n".join(["| coin | candidate | outcome | why |", "|---|---|---|---|", *rows])


def candidate_table(candidates: pl.DataFrame) -> dg.TableMetadataValue:
    """Every candidate of the search, a row each, with the figures of the report's table (null: undefined)."""
    shown = candidates.select(SHOWN_COLUMNS)
    schema = dg.TableSchema(columns=[dg.TableColumn(name, _TYPES[shown.schema[name]]) for name in SHOWN_COLUMNS])
    return dg.MetadataValue.table([dg.TableRecord(row) for row in shown.iter_rows(named=True)], schema=schema)


def corrected(outcome: ResearchOutcome) -> Verdict:
    """Passed when some coin's best candidate survived every correction; the table says, coin by coin, which did and
    what the others failed."""
    verdicts = sorted(outcome.judged.verdicts.values(), key=lambda v: v.symbol)
    survived = [v for v in verdicts if _survived(v)]
    judged = _groups(verdicts)
    if survived:
        named = ", ".join(f"{v.symbol} {v.winner}" for v in survived)
        summary = f"the best candidate survived the search's corrections on {len(survived)} of {judged}: {named}"
    else:
        summary = f"no candidate survived the search's corrections on any of {judged}"
    rows = [
        f"| {v.symbol} | {'yes' if _survived(v) else 'no'} | {v.winner or 'none'} | {v.trials} | {_why(v)} |"
        for v in verdicts
    ]
    table = "\n".join(["| coin | survived | best candidate | trials | why |", "|---|---|---|---|---|", *rows])
    return Verdict(
        bool(survived),
        summary,
        {"admitted": len(survived), "coins": len(verdicts), "verdicts": dg.MetadataValue.md(table)},
    )


def _groups(verdicts: list[CoinVerdict]) -> str:
    """What was judged: the coins, and the market-neutral candidates' universe when the space has them."""
    coins = sum(v.symbol != UNIVERSE for v in verdicts)
    universe = " and the market-neutral universe" if len(verdicts) > coins else ""
    return f"{coins} coin{'s' * (coins != 1)}{universe}"


def _survived(verdict: CoinVerdict) -> bool:
    return verdict.admission is not None and verdict.admission.admitted


def _why(verdict: CoinVerdict) -> str:
    if verdict.admission is None:
        return verdict.reason or "not judged"
    text = "every correction passed" if verdict.admission.admitted else "; ".join(verdict.admission.reasons)
    return text.replace("|", "\\|")
