"""The research search's honesty: a planted edge wins and survives the corrections, an edge of one half of history
is refused by the stability rule, shuffled labels promote nothing, no training row reaches a test window, and a
candidate already evaluated on the same inputs and code is read back, not recomputed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from huracan_core.champions.book import ChampionBook
from huracan_core.champions.day_decisions import partition_row
from huracan_core.champions.roster import build_roster
from huracan_core.models.artifacts import read_model_folder
from huracan_core.models.walk_forward import WalkForwardConfig
from huracan_core.research.bars import resample
from huracan_core.research.challengers import offer_winners
from huracan_core.research.evaluation import PooledFitter
from huracan_core.research.judge import Holding, Judged, judge
from huracan_core.research.run import ResearchOutcome, run_research
from huracan_core.research.search import run_search
from huracan_core.research.space import SpaceError, load_space, parse_space
from huracan_core.sources.replay import ReplaySource
from huracan_core.storage.local import LocalArtifactStore
from huracan_core.trading.costs import CostModel
from huracan_core.trading.exits import ExitConfig
from tests.core.research_candles import planted_candles, utc

SYMBOLS = ["AAA/USDT", "BBB/USDT", "CCC/USDT"]
SMALL = """
timeframes = ["1h"]
families = {families}
encoder = [false]
market_neutral = {neutral}
cross_section = {cross}
[exits]
hold_bars = [1, 4]
[walk_forward]
train_days = {train}
test_days = {test}
step_days = {test}
expanding = {expanding}
[model]
rounds = 40
seed = {seed}
[model.min_data_in_leaf]
"1h" = 50
"""


def small_space(*, families=("coin_lgbm",), train=60, test=20, expanding=False, seed=7, neutral=False, cross=()):
    text = SMALL.format(
        families=list(families),
        neutral=str(neutral).lower(),
        cross=list(cross),
        train=train,
        test=test,
        expanding=str(expanding).lower(),
        seed=seed,
    ).replace("'", '"')
    return parse_space(text, "test")


def searched(candles: dict[str, pl.DataFrame], space, start, days: int, **kwargs) -> Judged:
    end = start + timedelta(days=days)
    run = run_search(space, {"1h": candles}, start, end, costs=CostModel(), **kwargs)
    holdings = {
        s: Holding(f.group_by(pl.col("timestamp").dt.date().alias("day")).agg(pl.col("close").last()).sort("day"), 10.0)
        for s, f in candles.items()
    }
    window = (start.date(), (end - timedelta(days=1)).date())
    return judge(run.records, holdings, space.rules, capital=10_000.0, notional=1_000.0, search_id="t", window=window)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> ResearchOutcome:
    """``huracan research``'s own path over files a source serves: two coins whose events drift on for 4 bars."""
    folder = tmp_path_factory.mktemp("candles")
    for symbol, frame in planted_candles(SYMBOLS[:2], utc(2024, 1, 1), 120, edge_bps=40.0, hold=4).items():
        frame.write_parquet(folder / f"{symbol.replace('/', '-')}_1h.parquet")
    return run_research(
        ReplaySource(folder), SYMBOLS[:2], date(2024, 1, 1), date(2024, 4, 29), space=small_space(), costs=CostModel()
    )


def test_a_planted_edge_at_one_horizon_wins_and_survives_the_corrections(planted: ResearchOutcome):
    judged = planted.judged
    for symbol, verdict in judged.verdicts.items():
        assert verdict.winner == "1h·hold4·coin·plain", symbol
        assert verdict.admission is not None and verdict.admission.admitted, verdict.admission
        assert verdict.admission.dsr.probability >= 0.95
        assert verdict.admission.dsr.trials == 2
    selected = judged.candidates.filter("selected")
    assert selected["admitted"].all() and (selected["net_bps"] > 0).all()
    # net is after costs: below the gross the planted drift pays
    assert (selected["net_bps"] < 4 * 40.0).all()
    assert sorted(planted.files) == sorted(
        [
            f"exports/research_candidates/{planted.search_id}.parquet",
            *(f"research/{planted.search_id}/{name}" for name in ("equity.parquet", "folds.parquet", "index.html")),
        ]
    )


def test_an_edge_of_one_half_of_history_is_refused_by_the_stability_rule():
    """The events keep their look, but from 2024 on no drift follows them: the record earns in 2023 only (the models
    trained on 2024 stop trading, or lose the costs), so one year carries its PnL and the stability rule refuses it
    although its Sharpe over the whole record looks fine."""
    start = utc(2023, 1, 1)
    candles = planted_candles(SYMBOLS, start, 730, edge_bps=40.0, hold=4, edge_until=utc(2024, 1, 1))
    space = small_space(train=120, test=91)
    judged = searched(candles, space, start, 730)
    for symbol, verdict in judged.verdicts.items():
        admission = verdict.admission
        assert admission is not None and not admission.admitted, symbol
        stable = admission.stable
        assert stable.largest_year == 2023 and stable.largest_year_share > space.rules.max_year_share, stable
        assert any("2023 carries" in reason for reason in admission.reasons), admission.reasons


@pytest.mark.parametrize("seed", [3, 11])
def test_shuffled_labels_over_the_whole_space_promote_nothing(seed: int):
    """Every family of the space, on candles whose edge is real but whose targets are permuted: whatever a model
    finds is luck, and the corrections must refuse it (per-coin, pooled and market-neutral, in repeated seeds)."""
    start = utc(2024, 1, 1)
    candles = planted_candles(SYMBOLS, start, 100, edge_bps=40.0, hold=4, seed=seed)
    space = small_space(families=("coin_lgbm", "pooled_lgbm"), neutral=True, cross=("ret_5", "rsi_14"), seed=seed)
    judged = searched(candles, space, start, 100, shuffle_labels=True)
    assert not judged.candidates["admitted"].any()
    assert set(judged.verdicts) == {*SYMBOLS, "UNIVERSE"}


def test_no_pooled_training_row_reaches_its_fold_slice_or_test_window():
    rng = np.random.default_rng(5)
    start = utc(2024, 1, 1)
    for trial in range(20):
        bars = {}
        for k in range(3):
            n = int(rng.integers(500, 900))
            times = [start + timedelta(hours=int(h)) for h in np.cumsum(rng.integers(1, 3, n))]
            ends = [t + timedelta(hours=int(h)) for t, h in zip(times, rng.integers(1, 30, n), strict=True)]
            bars[f"S{k}"] = pl.DataFrame(
                {"timestamp": times, "label_end": ends, "long_net_bps": rng.normal(0, 1, n), "short_net_bps": 0.0},
                schema_overrides={"timestamp": pl.Datetime("us", "UTC"), "label_end": pl.Datetime("us", "UTC")},
            )
        config = small_space(train=20, test=5).model_config("1h", 60)
        cutoff = start + timedelta(days=60)
        fitter = PooledFitter(bars, [], "1h", cutoff, config, False)
        embargo = timedelta(hours=config.walk_forward.embargo_bars)
        train_start = start + timedelta(days=int(rng.integers(0, 20)))
        slice_start = train_start + timedelta(days=int(rng.integers(5, 15)))
        rows = fitter.rows(train_start, slice_start)
        chosen = fitter.window[rows]
        assert (chosen["timestamp"] >= train_start).all(), trial
        assert (chosen["label_end"] < slice_start - embargo).all(), trial
        # every row that qualifies is used: nothing else is dropped
        qualifies = fitter.window.filter(
            (pl.col("timestamp") >= train_start) & (pl.col("label_end") < slice_start - embargo)
        )
        assert chosen.height == qualifies.height, trial


def test_a_candidate_already_evaluated_on_the_same_inputs_is_read_back(tmp_path: Path):
    start = utc(2024, 1, 1)
    candles = planted_candles(SYMBOLS[:2], start, 90, edge_bps=40.0, hold=4)
    space = small_space(train=50, test=20)
    end = start + timedelta(days=90)
    first = run_search(space, {"1h": candles}, start, end, costs=CostModel(), cache=tmp_path)
    again = run_search(space, {"1h": candles}, start, end, costs=CostModel(), cache=tmp_path)
    assert (first.computed, first.cached) == (4, 0)
    assert (again.computed, again.cached) == (0, 4)
    assert again.records == first.records
    # other candles are other inputs: evaluated again
    moved = {s: f.with_columns(pl.col("close") * 1.001) for s, f in candles.items()}
    assert run_search(space, {"1h": moved}, start, end, costs=CostModel(), cache=tmp_path).computed == 4


def test_the_shipped_spaces_load_and_count_every_candidate():
    default, years = load_space(None), load_space("years")
    # 1 timeframe × 3 exits × 2 families × 2 encoder flags, + market-neutral on the 2 fixed holds × 2
    assert len(default.candidates()) == 16
    assert len(years.candidates()) == 3 * 4 * 2 * 2 + 3 * 2 * 2
    assert len({c.id for c in years.candidates()}) == len(years.candidates())


@pytest.mark.parametrize(
    "text, named",
    [
        ('timeframes = ["1h"]\nbogus = 1\n[exits]\nhold_bars = [1]', "bogus"),
        ('timeframes = ["7m"]\n[exits]\nhold_bars = [1]', "7m"),
        ('timeframes = ["1h"]\n[exits]\nprofiles = ["wide"]', "wide"),
        ('timeframes = ["1h"]\n[exits]\nhold_bars = [0]', "hold_bars"),
        ('timeframes = ["1h"]\nfamilies = ["svm"]\n[exits]\nhold_bars = [1]', "svm"),
        ('timeframes = ["1h"]\n[exits]\nhold_bars = [1]\n[rules]\nmin_dsr = 2.0', "min_dsr"),
    ],
)
def test_a_bad_space_is_refused_naming_the_key(text: str, named: str):
    with pytest.raises(SpaceError, match=named):
        parse_space(text, "bad.toml")


def test_built_bars_aggregate_whole_buckets_and_drop_the_unfinished_one():
    hourly = planted_candles(["AAA/USDT"], utc(2024, 1, 1), 3, seed=4)["AAA/USDT"]
    hourly = hourly.filter(pl.col("timestamp") != utc(2024, 1, 1) + timedelta(hours=5)).head(-2)  # a gap, a torn end
    built = resample(hourly, "4h", "1h")
    assert built["timestamp"].to_list()[-1] == utc(2024, 1, 3) + timedelta(hours=16)  # 20:00–23:00 lacks 22:00, 23:00
    first = hourly.filter(pl.col("timestamp") < utc(2024, 1, 1) + timedelta(hours=4))
    assert built.row(0, named=True) == {
        "timestamp": utc(2024, 1, 1),
        "open": first["open"][0],
        "high": first["high"].max(),
        "low": first["low"].min(),
        "close": first["close"][-1],
        "volume": pytest.approx(first["volume"].sum()),
    }
    gap = built.filter(pl.col("timestamp") == utc(2024, 1, 1) + timedelta(hours=4))
    assert gap.height == 1  # a bucket missing an hour (an exchange halt) is kept, as the exchange's kline would be
    assert date(2024, 1, 1) in built["timestamp"].dt.date().to_list()


def test_an_unknown_fold_layout_names_the_symbol_and_candidate():
    start = utc(2024, 1, 1)
    candles = planted_candles(SYMBOLS[:2], start, 30)
    with pytest.raises(ValueError, match=r"research AAA/USDT 1h·hold1·coin·plain: walk-forward span"):
        run_search(
            small_space(train=60, test=20), {"1h": candles}, start, start + timedelta(days=30), costs=CostModel()
        )


def test_walk_forward_of_the_space_is_the_coin_models_own():
    config = small_space(train=60, test=20).model_config("1h", 120)
    assert config.walk_forward == WalkForwardConfig(train_days=60, test_days=20, step_days=20)
    assert config.train_days == 120 and config.min_data_in_leaf == 50 and config.rounds == 40


def test_an_admitted_winner_becomes_a_challenger_with_the_searchs_figures(planted: ResearchOutcome, tmp_path: Path):
    """The planted winner is trained as the Engine trains a coin model, written as a verified challenger folder,
    judged by the promotion rule and the book's line carries the search's figures; a chain that follows other exits
    is not offered it."""
    book = ChampionBook(LocalArtifactStore(tmp_path / "archive"), "1h")
    hold4 = next(e for e in planted.space.exits if e.name == "hold4").config("1h")
    decided = utc(2024, 4, 30)
    elsewhere = list(
        offer_winners(planted, {"1h": book}, chain_exits=ExitConfig(), costs=CostModel(), decided_at=decided)
    )
    assert [o.outcome for o in elsewhere] == ["not offered"] * 2
    assert all("exits hold4" in o.why for o in elsewhere)
    assert book.history() == []
    offers = list(offer_winners(planted, {"1h": book}, chain_exits=hold4, costs=CostModel(), decided_at=decided))
    # judged like any challenger: promoted, or kept by the promotion rule's own terms (e.g. too few trades in the
    # evaluation window), never skipped
    assert {o.outcome for o in offers} <= {"promoted", "kept"} and "promoted" in {o.outcome for o in offers}, offers
    for offer in offers:
        files = read_model_folder(book.store, offer.folder or "")  # verified against sha256.txt
        search = json.loads(files["metrics.json"])["search"]
        assert search["candidate"] == "1h·hold4·coin·plain" and search["trials"] == 2
        assert search["dsr"]["probability"] >= 0.95
        [line] = book.history(offer.symbol)
        assert line["source"] == "research" and line["candidates"][0]["search"] == search
        if offer.outcome == "promoted":
            assert line["champion"]["model_folder"] == offer.folder and line["champion"]["search"] == search
            # the champion partition and the roster carry the search's figures too
            row = partition_row(date(2024, 4, 30), line).row(0, named=True)
            assert json.loads(row["search"]) == search
            roster = build_roster(date(2024, 4, 30), "1h", {offer.symbol: row}, {}, {}, {})
            assert roster["symbols"][0]["search"] == search
