"""shadow_trades and trade_analysis: ranged materializations from candles to post-exit outcomes on the bundled sample.

Every assertion is an invariant of the trader and of the assets (a day traded flat-to-flat, costs on both legs,
post-exit outcomes waiting for the next day's candles …), so it holds whatever the candles of the window are.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import dagster as dg
import polars as pl
import pytest

from huracan_core.desk.day_analysis import POST_EXIT_HORIZONS
from huracan_core.desk.shadow_day import TradingDay
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.health.anomalies import CHECKS as ANOMALY_CHECKS
from huracan_core.health.anomalies import TRADE_COUNT
from huracan_core.health.patterns import ledger_patterns
from huracan_core.health.pauses import PauseEvent, pauses_key, record
from huracan_core.storage import LocalArtifactStore
from huracan_core.storage.keys import would_be_key
from huracan_core.trading.consensus import ConsensusConfig
from huracan_core.trading.costs import BPS, PAID_COLUMNS
from huracan_core.trading.exits import take_profit_expr
from huracan_core.trading.metrics import summary
from huracan_core.trading.shadow_trader import EXIT_REASONS, LEDGER_COLUMNS
from huracan_dagster.defs.assets.trading import _trading_metadata
from huracan_dagster.defs.definitions import timeframe_assets
from huracan_dagster.defs.metadata import INLINE_MARKDOWN
from huracan_dagster.defs.partitions import asset_key
from huracan_dagster.defs.resources import CostsResource, ModelSettingsResource
from tests.assets.pipeline import (
    CANDLES,
    CHAMPION,
    FEATURES,
    LABELS,
    REGIMES,
    SHADOW_TRADES,
    SIGNALS,
    SYMBOLS,
    TF,
    TRADE_ANALYSIS,
    failure_text,
    latest_metadata,
    materialize,
)

RECIPE = FeatureRecipe.default(TF)
DAYS = ["2024-11-28", "2024-11-29", "2024-11-30", "2024-12-01"]
NEXT_DAY = (date.fromisoformat(DAYS[-1]) + timedelta(days=1)).isoformat()  # not materialized until a test does it
#: maker entries and take profits at 2 bps a side (stops and time exits as takers): trades are likelier, the ledger
#: checks bite, and the maker path runs through the assets
CHEAP = CostsResource(order_type="maker")
DEFAULT = CostsResource()  # taker fills of the default profile, 5 bps a side
COIN_MODEL = asset_key(TF, "coin_model")
EVERYTHING = [CANDLES, FEATURES, REGIMES, SIGNALS, LABELS, COIN_MODEL, CHAMPION, SHADOW_TRADES, TRADE_ANALYSIS]
#: the trader trades the day's champion, so each day needs its coin model and champion decision: a small one
TRAIN_DAYS = 8
MODELS = ModelSettingsResource(
    walk_forward_train_days=4, walk_forward_test_days=2, walk_forward_step_days=2, rounds=10, use_encoder=False
)
ASSETS = timeframe_assets(TF, train_days=TRAIN_DAYS)
SVG = "{http://www.w3.org/2000/svg}svg"
TEXT = {"trade_id", "symbol", "exit_reason", "regime", "engines_agreeing", "policy", "model_version"}


def _fee(costs: CostsResource, symbol: str) -> float:
    return costs.cost_model().fee_bps(costs.exchange, symbol)


def _fees_due(costs: CostsResource, symbol: str, ledger: pl.DataFrame) -> pl.Series:
    """Each trade's fees (quote currency) as the order type says: a taker pays the taker fee on both legs; a maker
    entry pays the maker fee, and so does a take profit, every other exit the taker fee."""
    model = costs.cost_model()
    taker, maker = (model.fee_bps(costs.exchange, symbol, kind) for kind in ("taker", "maker"))
    entry = maker if model.order_type == "maker" else taker
    exit_fee = pl.when((pl.col("exit_reason") == "take_profit") & pl.lit(model.order_type == "maker"))
    return ledger.select((entry + exit_fee.then(maker).otherwise(taker)) * pl.col("size") / BPS).to_series()


def _materialize(instance, archive, selection, start, end, costs=CHEAP) -> dg.ExecuteInProcessResult:
    result = materialize(
        instance,
        archive,
        start,
        end,
        selection=selection,
        assets=ASSETS,
        extra_resources={"costs": costs, "models": MODELS},
    )
    assert result.success, failure_text(result)
    return result


def _history(instance, archive, first: str, last: str, costs=CHEAP) -> None:
    """What days ``first..last`` read before them: the models' training days (signals and labels), the signals'
    3 warm-up days (features and regimes) and the recipe's 12 trailing days of candles."""

    def before(days: int) -> str:
        return (date.fromisoformat(first) - timedelta(days=days)).isoformat()

    previous = before(1)
    _materialize(instance, archive, [CANDLES], before(TRAIN_DAYS + 3 + 12), previous, costs)
    _materialize(instance, archive, [FEATURES, REGIMES], before(TRAIN_DAYS + 3), previous, costs)
    _materialize(instance, archive, [SIGNALS, LABELS], before(TRAIN_DAYS), previous, costs)


def _ledger(archive: Path, symbol: str, day: str) -> pl.DataFrame:
    return pl.read_parquet(archive / f"shadow_trades/{symbol}/{TF}/{day}.parquet")


def _analysis(archive: Path, symbol: str, day: str) -> pl.DataFrame:
    return pl.read_parquet(archive / f"trade_analysis/{symbol}/{TF}/{day}.parquet")


def _costs(archive: Path, symbol: str, day: str) -> dict:
    return json.loads((archive / f"costs/{symbol}/{TF}/{day}.json").read_text())


def _candles(archive: Path, symbol: str, *days: str) -> pl.DataFrame:
    paths = [archive / f"candles/{symbol}/{TF}/{d}.parquet" for d in days]
    return pl.concat([pl.read_parquet(p) for p in paths if p.is_file()])


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    archive = tmp_path_factory.mktemp("archive")
    instance = dg.DagsterInstance.ephemeral()
    _history(instance, archive, DAYS[0], DAYS[-1])
    _materialize(instance, archive, EVERYTHING, DAYS[0], DAYS[-1])
    return instance, archive


def test_every_partition_is_materialized_and_recorded(pipeline):
    instance, archive = pipeline
    expected = {f"{d}|{s}" for d in DAYS for s in SYMBOLS}
    for asset in (SHADOW_TRADES, TRADE_ANALYSIS):
        assert instance.get_materialized_partitions(asset) == expected
    for d in DAYS:
        for s in SYMBOLS:
            assert (archive / f"shadow_trades/{s}/{TF}/{d}.parquet").is_file()
            assert (archive / f"trade_analysis/{s}/{TF}/{d}.parquet").is_file()
            assert (archive / f"costs/{s}/{TF}/{d}.json").is_file()


def test_ledgers_hold_only_their_day_flat_at_day_end_with_costs_on_both_legs(pipeline):
    instance, archive = pipeline
    model = CHEAP.cost_model()
    for d in DAYS:
        for s in SYMBOLS:
            ledger = _ledger(archive, s, d)
            assert latest_metadata(instance, SHADOW_TRADES, f"{d}|{s}")["trades"].value == ledger.height
            if ledger.is_empty():
                continue
            day = date.fromisoformat(d)
            assert ledger["entry_time"].dt.date().eq(day).all()  # only the day's entries
            assert ledger["exit_time"].dt.date().eq(day).all()  # and flat at day end
            assert (ledger["exit_time"] >= ledger["entry_time"]).all() and (
                ledger["signal_time"] < ledger["entry_time"]
            ).all()
            # one position at a time: a trade enters after the previous one left
            assert (ledger["entry_time"].slice(1) > ledger["exit_time"].slice(0, ledger.height - 1)).all()
            assert ledger["trade_id"].is_unique().all() and set(ledger["symbol"]) == {s}
            assert set(ledger["exit_reason"]) <= set(EXIT_REASONS)
            paid = ledger.select(pl.sum_horizontal(PAID_COLUMNS)).to_series()
            assert ((ledger["gross_bps"] - ledger["net_bps"]) * ledger["size"] / BPS - paid).abs().max() < 1e-9
            assert (ledger["net_bps"] < ledger["gross_bps"]).all()
            assert ((ledger["fees_paid"] - _fees_due(CHEAP, s, ledger)).abs() < 1e-9).all()
            champion = pl.read_parquet(archive / f"champion_decisions/{s}/{TF}/{d}.parquet")["champion_folder"][0]
            assert set(zip(ledger["policy"], ledger["model_version"], strict=True)) <= {
                ("rules", ""),
                ("model", champion),
            }
            # a maker take profit crosses nothing; every other exit is a taker leg: half a spread of at least one tick
            # and the order's impact
            took = ledger["exit_reason"] == "take_profit"
            assert (ledger.filter(took)[["spread_paid", "slippage_paid"]].sum_horizontal() == 0).all()
            assert (ledger.filter(~took)["spread_paid"] > 0).all() and (ledger.filter(~took)["slippage_paid"] > 0).all()
            # funding: a long pays, a short receives, a whole number of settlements at the day's rate
            rate = model.quotes.quote(s, day).funding[0][1]
            settlements = ledger["funding_paid"] * ledger["direction"] / (ledger["size"] * rate)
            assert (settlements >= 0).all() and ((settlements - settlements.round()).abs() < 1e-9).all()


def test_costs_json_per_symbol_and_day(pipeline):
    _, archive = pipeline
    for d in DAYS:
        for s in SYMBOLS:
            payload = _costs(archive, s, d)
            assert {"fee_bps", "spread_bps", "avg_slip_bps", "funding_bps", "trades"} <= set(payload)
            assert payload["symbol"] == s and payload["date"] == d and payload["exchange"] == CHEAP.exchange
            assert payload["trades"] == _ledger(archive, s, d).height
            ledger = _ledger(archive, s, d)
            if ledger.height:  # what was paid: the fees as the order type says, per side
                due = float(_fees_due(CHEAP, s, ledger).sum()) / (2 * float(ledger["size"].sum())) * BPS
                assert payload["fee_bps"] == pytest.approx(due)
            else:  # what a maker round trip is quoted: the maker fee, no spread, no slippage
                assert payload["fee_bps"] == pytest.approx(_fee(CHEAP, s))
            assert payload["spread_bps"] >= 0 and payload["avg_slip_bps"] >= 0
            assert payload["fee_profile"] == CHEAP.fee_profile and payload["order_type"] == "maker"


def test_metadata_carries_plot_metrics_and_recipe_hash(pipeline):
    instance, archive = pipeline
    plots = set()
    for d in DAYS:
        for s in SYMBOLS:
            meta = latest_metadata(instance, SHADOW_TRADES, f"{d}|{s}")
            assert meta["trades"].value == _ledger(archive, s, d).height
            assert "| hit_rate |" in meta["metrics"].value and "| expectancy_bps |" in meta["metrics"].value
            assert meta["recipe_hash"].value == RECIPE.version_hash
            assert {
                "hit_rate_pct",
                "mean_net_bps",
                "mean_gross_bps",
                "net_pnl_usdt",
                "costs_paid_usdt",
                "costs_pct_of_gross",
                "paid_fees_bps_per_round_trip",
                "fee_tier_bps_per_side",
                "costs_json",
            } <= set(meta)
            assert Path(meta["costs_json"].value) == archive / f"costs/{s}/{TF}/{d}.json"
            _assert_figures_say_what_was_paid(meta, _ledger(archive, s, d), _fee(CHEAP, s), CHEAP)
            _assert_equity_is_drawn_and_plotted(meta, _ledger(archive, s, d))
            if "equity_curves" in meta:
                plots.add(Path(meta["equity_curves"].value))
            champion = pl.read_parquet(archive / f"champion_decisions/{s}/{TF}/{d}.parquet").row(0, named=True)
            if champion["champion_folder"] is None:  # the day's champion decides, or the rules say why there is none
                assert (
                    meta["policy"].value == "rules"
                    and meta["decided_by"].value == f"rules-only: no champion ({champion['reason']})"
                )
            else:
                assert meta["policy"].value == "model" and champion["champion_folder"] in meta["decided_by"].value
            analysis = latest_metadata(instance, TRADE_ANALYSIS, f"{d}|{s}")
            assert {
                "traded_winners_vs_losers",
                "opportunities_by_regime",
                "opportunities_patterns",
                "post_exit",
            } <= set(analysis)
            rows = _analysis(archive, s, d)
            assert analysis["trades"].value == rows.filter(pl.col("kind") == "trade").height == meta["trades"].value
            # every bar whose outcome is known is an opportunity on each side, traded or not
            labels = pl.read_parquet(archive / f"labels/{s}/{TF}/{d}.parquet")
            known = sum(labels[f"{side}_net_bps"].is_not_null().sum() for side in ("long", "short"))
            assert analysis["opportunities"].value == rows.filter(pl.col("kind") == "opportunity").height == known
    traded = any(_ledger(archive, s, d).height for d in DAYS for s in SYMBOLS)
    assert len(plots) == int(traded)  # one picture per run that traded, linked from every partition of the run
    for plot in plots:
        assert plot.parent == archive / f"plots/shadow_trades/{TF}" and plot.suffix == ".svg"
        assert ElementTree.fromstring(plot.read_bytes()).tag == SVG  # a picture a browser opens


def _assert_equity_is_drawn_and_plotted(meta: dict, ledger: pl.DataFrame) -> None:
    """A day that traded draws its equity in place (an SVG under the length the UI expands) and gives the UI numbers
    to plot across partitions; a day without trades says so: no picture, no flat line, "n/a" figures."""
    if ledger.is_empty():
        assert meta["equity_curve"].value.startswith("no trades")
        assert all(meta[k].value == "n/a" for k in ("ending_equity_usdt", "net_pnl_usdt", "max_drawdown_pct"))
        return
    inline = meta["equity_curve"].value
    assert len(inline) < INLINE_MARKDOWN and inline.endswith(")")
    svg = base64.b64decode(inline.split("data:image/svg+xml;base64,")[1][:-1]).decode()
    assert ElementTree.fromstring(svg).tag.endswith("svg")
    net = float(ledger["net_pnl"].sum())
    assert meta["net_pnl_usdt"].value == pytest.approx(net, abs=1e-5)
    assert meta["ending_equity_usdt"].value == pytest.approx(10_000.0 + net, abs=1e-5)
    assert 0 <= meta["max_drawdown_pct"].value < 100
    assert isinstance(meta["trades"].value, int) and meta["trades"].value == ledger.height


def _assert_figures_say_what_was_paid(meta: dict, ledger: pl.DataFrame, fee: float, costs: CostsResource) -> None:
    """Undefined figures say n/a, never 0; paid costs are what the trades paid (nothing without trades), per round
    trip; a day without trades says why."""
    paid = (
        "paid_fees_bps_per_round_trip",
        "paid_spread_bps_per_round_trip",
        "paid_slippage_bps_per_round_trip",
        "paid_funding_bps_per_round_trip",
        "paid_total_bps_per_round_trip",
    )
    assert meta["fee_tier_bps_per_side"].value == pytest.approx(fee)
    if ledger.is_empty():
        assert all(
            meta[k].value == "n/a"
            for k in ("hit_rate_pct", "mean_net_bps", "mean_gross_bps", "costs_pct_of_gross", *paid)
        )
        assert meta["costs_paid_usdt"].value == 0 and meta["net_pnl_usdt"].value == "n/a"
        assert meta["why_no_trades"].value.startswith(f"{meta['policy'].value}:")
        for figure in (
            "sharpe",
            "profit_factor",
            "hit_rate",
            "expectancy_bps",
            "cost_share_of_gross",
            "net_pnl",
            "gross_pnl",
            "max_drawdown",
        ):
            assert re.search(rf"^\| {figure} \| n/a \|", meta["metrics"].value, re.MULTILINE), figure
        assert re.search(r"^\| trade_count \| 0 \(no trades\) \|", meta["metrics"].value, re.MULTILINE)
        assert "0.0" not in meta["metrics"].value
        return
    assert re.search(rf"^\| trade_count \| {ledger.height} \| trades \|$", meta["metrics"].value, re.MULTILINE)
    assert "why_no_trades" not in meta
    assert 0 <= meta["hit_rate_pct"].value <= 100
    symbol = str(ledger["symbol"][0])
    due = float(_fees_due(costs, symbol, ledger).sum()) / float(ledger["size"].sum()) * BPS
    assert meta["paid_fees_bps_per_round_trip"].value == pytest.approx(due, abs=1e-5)  # as the order type says
    assert meta["paid_total_bps_per_round_trip"].value == pytest.approx(sum(meta[k].value for k in paid[:4]), abs=1e-5)
    assert meta["costs_paid_usdt"].value == pytest.approx(
        float(ledger.select(pl.sum_horizontal(PAID_COLUMNS)).to_series().sum()), abs=1e-5
    )


def test_a_day_without_trades_says_n_a_and_why():
    """The metadata of a day whose ledger is empty, built from core's own figures for it."""
    day, bars = date.fromisoformat(DAYS[0]), pl.Series([datetime(2024, 11, 28, h, tzinfo=UTC) for h in range(4)])
    ledger = pl.DataFrame(
        schema={
            c: pl.Datetime("us", "UTC") if c.endswith("_time") else pl.String if c in TEXT else pl.Float64
            for c in LEDGER_COLUMNS
        }
    )
    traded = TradingDay(
        day=day,
        symbol="BTC-USDT",
        ledger=ledger,
        costs={"fee_bps": 5.0, "trades": 0.0},
        metrics=summary(ledger, TF, 10_000.0, bars, missed_entries=0),
        equity=pl.DataFrame({"timestamp": bars, "equity": [10_000.0] * 4}),
        bars=4,
        policy="rules",
        model_version="",
        reason="rules-only: no champion",
        no_trades_because="rules: …",
    )
    recorded = dg.AssetMaterialization(
        SHADOW_TRADES, metadata=_trading_metadata(traded, 5.0, "costs.json", None, 10_000.0)
    ).metadata
    _assert_figures_say_what_was_paid(recorded, ledger, 5.0, DEFAULT)
    _assert_equity_is_drawn_and_plotted(recorded, ledger)
    assert "equity_curves" not in recorded  # nothing traded: no picture of the run


def test_a_ranged_run_records_its_partitions_in_date_order(pipeline):
    """The UI's latest materialization of an asset is the last one recorded: after a ranged run, the newest day."""
    instance, _ = pipeline
    for asset in (CANDLES, FEATURES, REGIMES, SIGNALS, LABELS, CHAMPION, SHADOW_TRADES, TRADE_ANALYSIS):
        [latest] = instance.fetch_materializations(asset, limit=1).records
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset), limit=1000, ascending=True
        ).records
        recorded = [r.partition_key for r in records if r.run_id == latest.run_id]
        assert len(recorded) > 1 and recorded == sorted(recorded), asset.to_user_string()
        assert latest.partition_key.startswith(max(recorded)[:10])


def test_post_exit_outcomes_are_null_exactly_while_the_next_days_candles_are_absent(pipeline):
    instance, archive = pipeline
    last = DAYS[-1]

    def assert_consistent(symbol: str, day: str) -> int:
        """after_<h>m_bps is null exactly when no candle starts at or after exit + h; returns the pending trades."""
        rows, seen = _analysis(archive, symbol, day), _candles(archive, symbol, day, _next(day))
        trades = rows.filter(pl.col("kind") == "trade")
        assert trades.height == _ledger(archive, symbol, day).height
        horizon_end = seen["timestamp"].max()
        for minutes in POST_EXIT_HORIZONS:  # traded and opportunities alike
            beyond = (rows["exit_time"] + timedelta(minutes=minutes)) > horizon_end
            assert (rows[f"after_{minutes}m_bps"].is_null() == beyond).all(), (symbol, day, minutes)
        pending = int(((trades["exit_time"] + timedelta(minutes=max(POST_EXIT_HORIZONS))) > horizon_end).sum())
        status = latest_metadata(instance, TRADE_ANALYSIS, f"{day}|{symbol}")["post_exit"].value
        assert latest_metadata(instance, TRADE_ANALYSIS, f"{day}|{symbol}")["post_exit_pending"].value == pending
        if pending == 0:
            assert status == "complete"
        elif not (archive / f"candles/{symbol}/{TF}/{_next(day)}.parquet").is_file():
            assert status.startswith(f"waiting for {_next(day)} candles") and f"of {pending} of" in status
        return pending

    assert not (archive / f"candles/{SYMBOLS[0]}/{TF}/{NEXT_DAY}.parquet").exists()
    # earlier days read their next day's candles: an exit of the day is at most 23:59, so nothing can be pending
    for d in DAYS[:-1]:
        for s in SYMBOLS:
            assert assert_consistent(s, d) == 0
    for s in SYMBOLS:
        assert_consistent(s, last)

    _materialize(instance, archive, [CANDLES], NEXT_DAY, NEXT_DAY)
    _materialize(instance, archive, [TRADE_ANALYSIS], last, last)
    for s in SYMBOLS:
        assert assert_consistent(s, last) == 0
        filled = _analysis(archive, s, last).filter(pl.col("kind") == "trade")
        assert filled.select(pl.col("^after_.*_bps$").null_count()).sum_horizontal().sum() == 0


def _next(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def test_rematerializing_writes_the_same_bytes(pipeline):
    instance, archive = pipeline

    def objects() -> dict[str, bytes]:
        return {
            p.relative_to(archive).as_posix(): p.read_bytes()
            for prefix in ("shadow_trades", "costs", "plots")
            for p in (archive / prefix).rglob("*.*")
        }

    first = objects()
    assert any(k.startswith("plots/") for k in first)
    _materialize(instance, archive, [SHADOW_TRADES], DAYS[0], DAYS[-1])
    assert objects() == first


def test_default_fees_are_a_finding_not_an_error(pipeline, tmp_path):
    """The default taker fee: the run succeeds and records every partition; whatever it trades paid the fee on
    both legs and was expected to beat the round trip (consensus skips an edge that does not)."""
    _, cheap_archive = pipeline
    instance, day = dg.DagsterInstance.ephemeral(), DAYS[1]
    _history(instance, tmp_path, day, day, DEFAULT)
    _materialize(
        instance,
        tmp_path,
        [CANDLES, FEATURES, REGIMES, SIGNALS, LABELS, COIN_MODEL, CHAMPION, SHADOW_TRADES],
        day,
        day,
        DEFAULT,
    )
    margin = ConsensusConfig().safety_margin_bps
    for s in SYMBOLS:
        fee = _fee(DEFAULT, s)
        ledger = _ledger(tmp_path, s, day)
        assert latest_metadata(instance, SHADOW_TRADES, f"{day}|{s}")["trades"].value == ledger.height
        payload = _costs(tmp_path, s, day)
        assert payload["fee_bps"] == pytest.approx(fee) and payload["trades"] == ledger.height
        assert ((ledger["fees_paid"] - 2 * fee * ledger["size"] / BPS).abs() < 1e-9).all()
        before_funding = ledger["net_bps"] + ledger["funding_paid"] / ledger["size"] * BPS
        assert (before_funding <= ledger["gross_bps"] - 2 * fee).all()
        edge = ledger.select(
            pl.col("confidence") * take_profit_expr(ConsensusConfig().exits, pl.col("confidence"))
        ).to_series()
        assert (edge > 2 * fee + margin).all()
        # the same day and inputs at zero fees: the features, regimes and candles are the same bytes
        for asset, path in (("features", f"{RECIPE.version_hash}/{s}/{day}"), ("regimes", f"{s}/{TF}/{day}")):
            assert (tmp_path / f"{asset}/{path}.parquet").read_bytes() == (
                cheap_archive / f"{asset}/{path}.parquet"
            ).read_bytes()


def test_every_partition_gets_each_anomaly_verdict_and_a_rules_day_says_it_has_no_baseline(pipeline):
    """How a champion's day is judged is tested on planted days (``test_trading_anomaly_verdicts``); here, that the
    asset records every check on every partition it wrote, as WARN, and that what traded says why it was judged."""
    instance, archive = pipeline
    result = _materialize(instance, archive, [SHADOW_TRADES], DAYS[0], DAYS[-1])
    expected = {f"{d}|{s}" for d in DAYS for s in SYMBOLS}
    found = result.get_asset_check_evaluations()
    for check in ANOMALY_CHECKS:
        assert sorted(str(e.partition) for e in found if e.check_name == check) == sorted(expected), check
    for e in found:
        if e.check_name not in ANOMALY_CHECKS:
            continue
        assert e.severity == dg.AssetCheckSeverity.WARN
        day, symbol = str(e.partition).split("|")
        ledger = _ledger(archive, symbol, day)
        text = str(e.metadata["found"].value)
        if ledger.height and ledger["model_version"].unique().to_list() == [""]:  # the rules traded the day
            assert text == "not judged: rules-only day, no champion baseline", text
        elif ledger.height:
            assert e.check_name != TRADE_COUNT or text.startswith(f"{ledger.height} trades"), text


def test_a_paused_pattern_is_skipped_from_the_day_after_the_pause_and_traded_apart(pipeline):
    instance, archive = pipeline
    day, symbol = next((d, s) for d in DAYS[1:] for s in SYMBOLS if _ledger(archive, s, d).height)
    before = _ledger(archive, symbol, day)
    pattern = ledger_patterns(before)[0]
    store = LocalArtifactStore(archive)
    paused_at = datetime.combine(date.fromisoformat(day) - timedelta(days=1), datetime.min.time(), UTC)
    record(store, TF, [PauseEvent(pattern, "pause", "test", paused_at, "planted")])
    try:
        _materialize(instance, archive, [SHADOW_TRADES], day, day)
        after = _ledger(archive, symbol, day)
        assert pattern not in ledger_patterns(after).to_list()
        would_be = pl.read_parquet(archive / would_be_key(symbol, TF, date.fromisoformat(day)))
        assert set(ledger_patterns(would_be).to_list()) == {pattern}
        assert latest_metadata(instance, SHADOW_TRADES, f"{day}|{symbol}")["paused_patterns"].value == pattern
    finally:  # the log is the Archive's: removed here only so that the module's other days trade as before
        (archive / pauses_key(TF)).unlink()
        _materialize(instance, archive, [SHADOW_TRADES], day, day)
    assert _ledger(archive, symbol, day).equals(before)
