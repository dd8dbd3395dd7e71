"""Lookahead labels: every bar's after-cost outcome of a long and a short, computed by hand for every exit path.

Set-up of the hand cases unless stated: 15m bars, the signal on bar 0 (a flat candle at 100), entry at bar 1's
OPEN = 100. Default exits: regime TREND → stop 50 bps (long 99.5 / short 100.5) and max hold 240 min = 16 bars;
RANGE → stop 100 bps, 8 bars; PANIC → stop 150 bps, 2 bars. Confidence 0.5 → take profit 15 bps (long 100.15 /
short 99.85); 0.85 → 30 bps (100.30 / 99.70), which leaves room for the trailing stop (it starts beyond +15 bps).

Costs: taker fee 5 bps (FeeSchedule(2, 5), spot: no funding), half of a quoted 1 bp spread, and the order's share
of the bar, 10 × sqrt(1,000 / bar notional), on each leg, each at its own bar: bar i trades 1,000 × (10 / (1 + i))²
USDT, so its slippage is 1 + i bps, one side at bar i costs 5 + 0.5 + (1 + i) = 6.5 + i bps and entry and exit
legs are told apart.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from huracan_core.day_keys import MissingPartitionError
from huracan_core.features import FeatureRecipe
from huracan_core.features.causality import check_causality
from huracan_core.models.inputs import input_columns
from huracan_core.models.lookahead_labels import OUTCOME_COLUMNS, label_bars, label_partitions
from huracan_core.regimes.detector import RegimeDetector
from huracan_core.trading.bars import join_bars
from huracan_core.trading.consensus import vote
from huracan_core.trading.costs import CostModel, FeeSchedule, bar_costs, fee_profile
from huracan_core.trading.exits import ExitConfig
from huracan_core.trading.fixed_quotes import FixedQuotes
from tests.conftest import real_15m

SYMBOL = "ETH-USDT"
START = datetime(2025, 1, 1, tzinfo=UTC)
BAR = timedelta(minutes=15)
FEES = FeeSchedule(maker_bps=2.0, taker_bps=5.0)
COSTS = CostModel(default_fees=FEES, quotes=FixedQuotes(spread_bps=1.0), slip_impact_bps=10.0)
EXITS = ExitConfig()
ATR_PCT = 0.002  # 20 bps of ATR: present on every bar, priced nowhere (volatility is no cost)
#: the real-data tests' costs: the default model (perpetual, taker, the recorded quotes)
REAL = CostModel()
#: spot fees and the recorded quotes: no funding, so a label's cost is exactly its two legs
SPOT = CostModel(default_fees=fee_profile("binance-spot-vip0"))

FLAT = (100.0, 100.0, 100.0, 100.0)
QUIET = (100.0, 100.1, 99.9, 100.0)  # inside every level; best excursion 10 bps < 15, so no trailing either
CRASH = (95.0, 95.0, 90.0, 92.0)


def ts(i: int, start: datetime = START) -> datetime:
    return start + i * BAR


def slip_at(i: int) -> float:
    return 1.0 + i


def side_cost(i: int, costs: CostModel = COSTS) -> float:
    """One leg at bar i, written out from the CostModel's fields: fee + half the quoted spread + slippage."""
    quote = costs.quotes.quote(SYMBOL, START.date())
    return costs.fee_bps("binance", SYMBOL) + quote.spread_bps / 2 + slip_at(i)


def volume_for(slip_bps: float, close: float) -> float:
    """The bar volume at which 1,000 USDT pays ``slip_bps``: 10 × sqrt(1,000 / (volume × close)) = slip_bps."""
    return EXITS.notional * (COSTS.slip_impact_bps / slip_bps) ** 2 / close


def bars_frame(ohlc, regimes="TREND", start: datetime = START, slips=None, volume: float | None = None) -> pl.DataFrame:
    """``slips``: each bar's slippage (bps) for 1,000 USDT, set through its volume (1 + i by default), unless a
    ``volume`` is given for every bar."""
    n = len(ohlc)
    regimes = [regimes] * n if isinstance(regimes, str) else list(regimes)
    slips = slips if slips is not None else [slip_at(i) for i in range(n)]
    volumes = [volume if volume is not None else volume_for(s, float(b[3])) for s, b in zip(slips, ohlc, strict=True)]
    return pl.DataFrame(
        {
            "timestamp": [ts(i, start) for i in range(n)],
            "open": [float(b[0]) for b in ohlc],
            "high": [float(b[1]) for b in ohlc],
            "low": [float(b[2]) for b in ohlc],
            "close": [float(b[3]) for b in ohlc],
            "volume": volumes,
            "atr_pct": [ATR_PCT] * n,
            "spread_bps": [50.0] * n,  # the volatility FEATURE: never a cost
            "regime": regimes,
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    )


def signals_frame(bars: pl.DataFrame, rows: dict[int, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"timestamp": [bars["timestamp"][i] for i in rows], "confidence": list(rows.values())},
        schema={"timestamp": pl.Datetime("us", "UTC"), "confidence": pl.Float64},
    )


def outcome(reason: str, gross: float, exit_bar: int, entry_bar: int = 1) -> dict[str, object]:
    """What a hand-computed trade must show: costs from the legs' bars, net = gross − costs."""
    cost = side_cost(entry_bar) + side_cost(exit_bar)
    return {
        "exit_reason": reason, "gross_bps": gross, "cost_bps": cost, "net_bps": gross - cost,
        "bars_held": exit_bar - entry_bar + 1, "exit_time": ts(exit_bar),
    }  # fmt: skip


def assert_side(row: dict[str, object], side: str, want: dict[str, object] | None) -> None:
    if want is None:
        assert all(row[f"{side}_{c}"] is None for c in OUTCOME_COLUMNS), row
        return
    assert row[f"{side}_exit_reason"] == want["exit_reason"], (side, row)
    for c in ("gross_bps", "cost_bps", "net_bps"):
        assert row[f"{side}_{c}"] == pytest.approx(want[c], abs=1e-6), (side, c, row)
    assert row[f"{side}_bars_held"] == want["bars_held"], (side, row)
    assert row[f"{side}_exit_time"] == want["exit_time"], (side, row)
    # every cost is paid: an outcome after costs is always below the same trade before them
    assert row[f"{side}_net_bps"] < row[f"{side}_gross_bps"]
    assert row[f"{side}_cost_bps"] > 0


def assert_label(row: dict[str, object], long, short) -> None:
    assert_side(row, "long", long)
    assert_side(row, "short", short)
    complete = long is not None and short is not None
    assert row["complete"] is complete
    if complete:
        assert row["label_end"] == max(long["exit_time"], short["exit_time"])
    else:
        assert row["label_end"] is None


def label_one(ohlc, regime0: str = "TREND", confidence: float = 0.5, signal_bar: int = 0, **kwargs) -> dict:
    regimes = [regime0] + ["TREND"] * (len(ohlc) - 1)  # only the signal bar's regime may matter
    bars = bars_frame(ohlc, regimes, **kwargs)
    labels = label_bars(bars, signals_frame(bars, {signal_bar: confidence}), SYMBOL, "15m", costs=COSTS, exits=EXITS)
    assert labels.height == 1
    assert labels["timestamp"][0] == ts(signal_bar)
    return labels.row(0, named=True)


def pad(ohlc: list, n: int = 12, fill=QUIET) -> list:
    return list(ohlc) + [fill] * (n - len(ohlc))


# ---------------------------------------------------------------------------------------------------------- exits


def test_exit_levels_of_the_hand_cases_come_from_the_exit_config() -> None:
    # the numbers the cases below are written with
    assert EXITS.stop_bps["TREND"] == 50.0 and EXITS.stop_bps["RANGE"] == 100.0 and EXITS.stop_bps["PANIC"] == 150.0
    assert dict(EXITS.take_profit_bands) == {0.0: 15.0, 0.65: 20.0, 0.80: 30.0}
    assert EXITS.trail_start_bps == 15.0 and EXITS.trail_keep == 0.5
    assert EXITS.max_hold_minutes["TREND"] / 15 == 16 and EXITS.max_hold_minutes["RANGE"] / 15 == 8
    assert EXITS.max_hold_minutes["PANIC"] / 15 == 2
    assert side_cost(1) == 7.5 and side_cost(2) == 8.5  # 5 + 1 / 2 + (1 + i)


@pytest.mark.parametrize(
    ("ohlc", "confidence", "long", "short"),
    [
        pytest.param(  # low 99.4 ≤ long stop 99.5 → 99.5; the same low ≤ short TP 99.85 → 99.85
            [FLAT, (100, 100.05, 99.4, 99.6)],
            0.5,
            outcome("stop_loss", -50.0, 1),
            outcome("take_profit", 15.0, 1),
            id="long_stop_inside_bar__short_tp_inside_bar",
        ),
        pytest.param(  # high 100.6 ≥ short stop 100.5 and ≥ long TP 100.15; low 99.95 touches neither
            [FLAT, (100, 100.6, 99.95, 100.4)],
            0.5,
            outcome("take_profit", 15.0, 1),
            outcome("stop_loss", -50.0, 1),
            id="long_tp_inside_bar__short_stop_inside_bar",
        ),
        pytest.param(  # bar 2 opens at 99.0, under the long stop: paid at the open (−100); beyond the short TP: TP level
            [FLAT, QUIET, (99.0, 99.2, 98.8, 99.1)],
            0.5,
            outcome("stop_loss", -100.0, 2),
            outcome("take_profit", 15.0, 2),
            id="long_gap_through_stop__short_gap_beyond_tp",
        ),
        pytest.param(  # bar 2 opens at 101.0: the short's stop gap is paid in full, the long fills at 100.15, not 101
            [FLAT, QUIET, (101.0, 101.2, 100.8, 100.9)],
            0.5,
            outcome("take_profit", 15.0, 2),
            outcome("stop_loss", -100.0, 2),
            id="long_gap_beyond_tp__short_gap_through_stop",
        ),
        pytest.param(  # 99.4 … 100.6 touches stop and TP of both sides in one bar: the stop is assumed first
            [FLAT, (100, 100.6, 99.4, 100.0)],
            0.5,
            outcome("stop_loss", -50.0, 1),
            outcome("stop_loss", -50.0, 1),
            id="stop_and_tp_in_one_bar__stop_first",
        ),
        pytest.param(
            # TP 30 bps. Long: bar 1 peaks at +25 bps → stop moves to 100 × (1 + 0.5 × (25 − 15) bps) = 100.05 at
            # the END of bar 1 (bar 1's own low 99.95 is not tested against it); bar 2's low 100.0 hits it → +5.
            # Short: never gains more than 5 bps; bar 3's high 100.6 reaches its stop 100.5 → −50, 3 bars.
            [FLAT, (100, 100.25, 99.95, 100.2), (100.2, 100.22, 100.0, 100.1), (100.1, 100.6, 100.05, 100.5)],
            0.85,
            outcome("trailing_stop", 5.0, 2),
            outcome("stop_loss", -50.0, 3),
            id="long_trailing_stop__short_stop",
        ),
        pytest.param(
            # TP 30 bps. Short: bar 1 peaks at +25 bps (low 99.75) → stop moves to 100 × (1 − 5 bps) = 99.95; bar 2
            # opens at 99.98, above it: out at the open → +2 bps, trailing. Long: bar 2's low 99.4 → stop 99.5.
            [FLAT, (100, 100.05, 99.75, 99.8), (99.98, 100.0, 99.4, 99.9)],
            0.85,
            outcome("stop_loss", -50.0, 2),
            outcome("trailing_stop", 2.0, 2),
            id="short_trailing_stop_gap_at_open__long_stop",
        ),
    ],
)
def test_exit_paths_by_hand(ohlc, confidence, long, short) -> None:
    row = label_one(pad(ohlc), confidence=confidence)
    assert_label(row, long, short)


def test_max_hold_exits_at_the_close_of_the_hold_th_bar_of_the_signal_bars_regime() -> None:
    # RANGE on the signal bar: 120 min = 8 bars, stop 100 bps. Bars 1–8 stay inside every level; bar 8 closes at
    # 100.05, so the long makes +5 and the short −5, both after 8 bars — the crash of bar 9 is never seen.
    # (Bars 1.. are TREND, which would hold 16 bars: the signal bar's regime decides.)
    ohlc = [FLAT, *[QUIET] * 7, (100, 100.1, 99.9, 100.05), CRASH, CRASH, CRASH]
    row = label_one(ohlc, regime0="RANGE")
    assert_label(row, outcome("max_hold", 5.0, 8), outcome("max_hold", -5.0, 8))


def test_max_hold_in_panic_is_two_bars() -> None:
    ohlc = pad([FLAT, QUIET, (100, 100.1, 99.9, 99.95), CRASH])
    row = label_one(ohlc, regime0="PANIC")  # stop 150 bps is never near; close of bar 2 = 99.95
    assert_label(row, outcome("max_hold", -5.0, 2), outcome("max_hold", 5.0, 2))


def test_a_trade_that_runs_out_of_bars_has_no_outcome_yet() -> None:
    # TREND holds 16 bars; 11 quiet bars end first: both sides end_of_data → null, not complete
    row = label_one(pad([FLAT]))
    assert_label(row, None, None)
    # one side known, the other still open: the columns of the known side are filled, the label is not complete
    row = label_one(pad([FLAT, (100, 100.2, 99.95, 100.1)]))  # long TP 100.15; short stays between 99.85 and 100.5
    assert_label(row, outcome("take_profit", 15.0, 1), None)
    # a signal on the last bar has no next open to enter at
    row = label_one(pad([FLAT, (100, 100.6, 99.4, 100.0)]), signal_bar=11)
    assert_label(row, None, None)


def test_every_signal_is_followed_even_while_an_earlier_one_is_open() -> None:
    # All RANGE (8 bars, stop 100 bps). Signal on bar 0 exits at bar 8's close; signal on bar 1 enters at bar 2's
    # open and its hold ends on bar 9, which opens at 95: the long's stop (99.0) is paid at that open, −500 bps;
    # the short fills its TP 99.85. Rows keep the signals' order; bars without a signal are not labelled.
    ohlc = [FLAT, *[QUIET] * 7, (100, 100.1, 99.9, 100.05), CRASH, CRASH, CRASH]
    bars = bars_frame(ohlc, "RANGE")
    labels = label_bars(bars, signals_frame(bars, {0: 0.5, 1: 0.5}), SYMBOL, "15m", costs=COSTS, exits=EXITS)
    assert labels["timestamp"].to_list() == [ts(0), ts(1)]
    first, second = labels.rows(named=True)
    assert_label(first, outcome("max_hold", 5.0, 8), outcome("max_hold", -5.0, 8))
    assert_label(second, outcome("stop_loss", -500.0, 9, entry_bar=2), outcome("take_profit", 15.0, 9, entry_bar=2))


def test_columns_and_types() -> None:
    bars = bars_frame(pad([FLAT]))
    labels = label_bars(bars, signals_frame(bars, {0: 0.5}), SYMBOL, "15m", costs=COSTS)
    sides = [f"{s}_{c}" for s in ("long", "short") for c in OUTCOME_COLUMNS]
    assert labels.columns == ["timestamp", *sides, "label_end", "complete"]
    assert labels.schema["long_exit_time"] == labels.schema["timestamp"] == labels.schema["label_end"]
    assert labels.schema["complete"] == pl.Boolean and labels.schema["long_bars_held"] == pl.Int64


def test_the_spread_floored_at_one_tick_and_the_share_of_the_bar() -> None:
    # A quoted 0.4 bps under a tick of 0.01 (1 bp at 100, 1.009 bps at 99.1); slippage 10 × sqrt(size 1,000 / bar
    # notional 1,000 × close): each leg at its own bar's close. The volatility feature prices nothing.
    costs = CostModel(default_fees=FEES, quotes=FixedQuotes(spread_bps=0.4, tick_size=0.01), slip_impact_bps=10.0)
    ohlc = pad([FLAT, QUIET, (99.0, 99.2, 98.8, 99.1)])  # long: gap stop at 99.0 on bar 2; short: TP on bar 2
    bars = bars_frame(ohlc, volume=1_000.0)
    row = label_bars(bars, signals_frame(bars, {0: 0.5}), SYMBOL, "15m", costs=costs, exits=EXITS).row(0, named=True)

    def leg(close: float) -> float:
        impact = costs.slip_impact_bps * math.sqrt(EXITS.notional / (1_000.0 * close))
        return FEES.taker_bps + max(0.4, 0.01 / close * 1e4) / 2 + impact

    cost = leg(QUIET[3]) + leg(99.1)  # entry bar 1 closes at 100.0, exit bar 2 at 99.1
    assert cost == pytest.approx(2 * 5 + 0.5 + 0.5 / 0.991 + 1.0 + 10 * math.sqrt(1 / 99.1))
    for side, gross in (("long", -100.0), ("short", 15.0)):
        assert row[f"{side}_cost_bps"] == pytest.approx(cost, abs=1e-9)
        assert row[f"{side}_net_bps"] == pytest.approx(gross - cost, abs=1e-6)


def test_maker_labels_a_missed_entry_as_no_trade() -> None:
    # Maker: each side's limit sits at the signal bar's close (100). Bar 1 (99.99 … 100.0) trades through the
    # long's buy limit but only touches the short's sell limit: the long is entered at 100 and takes its profit
    # on bar 2 as a maker (2 + 2 bps); the short is missed — an outcome of 0, known when bar 1 closed.
    maker = CostModel(default_fees=FEES, order_type="maker", quotes=FixedQuotes(spread_bps=1.0))
    bars = bars_frame(pad([FLAT, (100.0, 100.0, 99.99, 100.0), (100.0, 100.2, 99.95, 100.1)]))
    row = label_bars(bars, signals_frame(bars, {0: 0.5}), SYMBOL, "15m", costs=maker, exits=EXITS).row(0, named=True)
    assert row["long_exit_reason"] == "take_profit"
    assert (row["long_net_bps"], row["long_cost_bps"]) == pytest.approx((11.0, 4.0))
    assert row["short_exit_reason"] == "missed" and row["short_exit_time"] == ts(1)
    assert (row["short_net_bps"], row["short_gross_bps"], row["short_cost_bps"], row["short_bars_held"]) == (0, 0, 0, 0)
    assert row["complete"] and row["label_end"] == ts(2)


def test_funding_is_in_the_label() -> None:
    # a perpetual at 3 bps per 8 hours; signal at 07:30, entry 07:45, both sides out at the 08:00 bar's close
    # (RANGE at 120 minutes would hold longer: PANIC holds 2 bars) — each spans the 08:00 settlement
    perp = CostModel(default_fees=fee_profile("binance-perp-vip0"), quotes=COSTS.quotes, slip_impact_bps=10.0)
    start = START + timedelta(hours=7, minutes=30)
    bars = bars_frame(pad([FLAT, QUIET, QUIET]), ["PANIC"] + ["TREND"] * 11, start=start, slips=[1.0] * 12)
    funded = replace(perp, quotes=FixedQuotes(spread_bps=1.0, funding_rate=3e-4))
    plain = label_bars(bars, signals_frame(bars, {0: 0.5}), SYMBOL, "15m", costs=perp).row(0, named=True)
    row = label_bars(bars, signals_frame(bars, {0: 0.5}), SYMBOL, "15m", costs=funded).row(0, named=True)
    assert row["long_exit_reason"] == "max_hold" and row["long_exit_time"] == start + 2 * BAR
    assert row["long_cost_bps"] == pytest.approx(plain["long_cost_bps"] + 3.0)  # the long pays
    assert row["short_cost_bps"] == pytest.approx(plain["short_cost_bps"] - 3.0)  # the short receives


def test_a_symbols_own_fee_schedule_is_used() -> None:
    costs = replace(COSTS, fees={("binance", SYMBOL): FeeSchedule(1.0, 3.0)})
    bars = bars_frame(pad([FLAT, (100, 100.6, 99.4, 100.0)]))
    row = label_bars(bars, signals_frame(bars, {0: 0.5}), SYMBOL, "15m", costs=costs).row(0, named=True)
    assert row["long_cost_bps"] == pytest.approx(2 * (3.0 + 0.5 + slip_at(1)))  # both legs on bar 1
    other = label_bars(bars, signals_frame(bars, {0: 0.5}), "BTC-USDT", "15m", costs=costs).row(0, named=True)
    assert other["long_cost_bps"] == pytest.approx(2 * (5.0 + 0.5 + slip_at(1)))


# ------------------------------------------------------------------------------------------------ partitions

DAY, NEXT = date(2025, 1, 1), date(2025, 1, 2)
LATE = datetime(2025, 1, 1, 22, 45, tzinfo=UTC)  # the day's bars start here: 22:45 … 23:45
MIDNIGHT = datetime(2025, 1, 2, tzinfo=UTC)


def _day_inputs(with_next: bool, next_features: bool = True):
    """Day D: five bars. The 22:45 signal enters at 23:00, whose 99.4 … 100.6 range stops both sides out inside
    D. The other four signals (23:00 … 23:45) enter at 100 on the next open and meet nothing until D+1: at
    00:00 the high 100.2 fills every long's TP (100.15); at 00:15 the high 100.6 stops every short (100.5).
    Slippage: 1 bp on D, 3 bps on D+1 (their volumes) — an exit leg on D+1 is priced with D+1's candles."""
    day_bars = bars_frame([FLAT, (100, 100.6, 99.4, 100.0), FLAT, FLAT, FLAT], start=LATE, slips=[1.0] * 5)
    next_bars = bars_frame(
        [(100, 100.2, 99.95, 100.1), (100.1, 100.6, 100.05, 100.5), *[QUIET] * 6], start=MIDNIGHT, slips=[3.0] * 8
    )
    candle_cols = ["timestamp", "open", "high", "low", "close", "volume"]
    feature_cols = ["timestamp", "atr_pct", "spread_bps"]
    key, after = (DAY, SYMBOL), (NEXT, SYMBOL)
    candles = {key: day_bars.select(candle_cols)}
    features = {key: day_bars.select(feature_cols).with_columns(recipe_hash=pl.lit("r"))}
    if with_next:
        candles[after] = next_bars.select(candle_cols)
        if next_features:
            features[after] = next_bars.select(feature_cols).with_columns(recipe_hash=pl.lit("r"))
    regimes = {key: day_bars.select("timestamp", "regime", regime_confidence=pl.lit(0.9))}
    signals = {key: day_bars.select("timestamp", confidence=pl.lit(0.5))}
    return candles, features, regimes, signals


def _side(slip: float) -> float:
    return FEES.taker_bps + 1.0 / 2 + slip


def test_a_days_last_bars_finish_on_the_next_days_candles() -> None:
    (part,) = label_partitions(*_day_inputs(with_next=True), [(DAY, SYMBOL)], "15m", costs=COSTS, exits=EXITS)
    assert (part.day, part.symbol, part.pending, part.next_day_available) == (DAY, SYMBOL, 0, True)
    frame = part.frame
    assert frame["timestamp"].to_list() == [LATE + i * BAR for i in range(5)]
    assert frame["complete"].all()
    first = frame.row(0, named=True)  # stopped out inside the day, both legs on the 23:00 bar
    assert (first["long_exit_reason"], first["short_exit_reason"]) == ("stop_loss", "stop_loss")
    assert first["long_exit_time"] == first["label_end"] == LATE + BAR
    assert first["long_net_bps"] == pytest.approx(-50.0 - 2 * _side(1.0))
    for i, row in enumerate(frame.rows(named=True)[1:], start=1):
        entry = LATE + (i + 1) * BAR  # 23:15 … 00:00
        entry_side = _side(3.0 if entry >= MIDNIGHT else 1.0)
        assert row["long_exit_reason"] == "take_profit" and row["long_exit_time"] == MIDNIGHT
        assert row["short_exit_reason"] == "stop_loss" and row["short_exit_time"] == MIDNIGHT + BAR
        assert row["long_exit_time"].date() == NEXT
        assert row["long_bars_held"] == (MIDNIGHT - entry) // BAR + 1
        assert row["short_bars_held"] == row["long_bars_held"] + 1
        assert row["long_net_bps"] == pytest.approx(15.0 - entry_side - _side(3.0), abs=1e-6)
        assert row["short_net_bps"] == pytest.approx(-50.0 - entry_side - _side(3.0), abs=1e-6)
        assert row["label_end"] == MIDNIGHT + BAR


def test_without_the_next_day_the_last_bars_are_pending() -> None:
    (part,) = label_partitions(*_day_inputs(with_next=False), [(DAY, SYMBOL)], "15m", costs=COSTS, exits=EXITS)
    assert part.next_day_available is False
    assert part.pending == 4
    assert part.frame["complete"].to_list() == [True, False, False, False, False]
    assert part.frame["long_net_bps"].null_count() == 4 and part.frame["label_end"].null_count() == 4
    # the bar that finished inside the day is the same as when the next day is present
    (full,) = label_partitions(*_day_inputs(with_next=True), [(DAY, SYMBOL)], "15m", costs=COSTS, exits=EXITS)
    assert part.frame.head(1).equals(full.frame.head(1))


def test_the_next_days_features_are_required_when_its_candles_exist() -> None:
    inputs = _day_inputs(with_next=True, next_features=False)
    with pytest.raises(MissingPartitionError, match=r"2025-01-02\|ETH-USDT"):
        label_partitions(*inputs, [(DAY, SYMBOL)], "15m", costs=COSTS, exits=EXITS)


@pytest.mark.parametrize("missing", [0, 1, 2, 3])
def test_a_missing_input_of_the_day_itself_is_named(missing: int) -> None:
    inputs = list(_day_inputs(with_next=True))
    inputs[missing] = {}
    with pytest.raises(MissingPartitionError, match=r"2025-01-01\|ETH-USDT"):
        label_partitions(*inputs, [(DAY, SYMBOL)], "15m", costs=COSTS, exits=EXITS)


# ------------------------------------------------------------------------------------------------- real data


def _real_pipeline(candles: pl.DataFrame, symbol: str = SYMBOL) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """features, the joined bars (candles + features + regime) and the consensus votes, as the assets chain them."""
    features = FeatureRecipe.default("15m").compute(candles, symbol=symbol)
    regimes = RegimeDetector().detect(features)
    bars = join_bars([candles], [features], [regimes])
    return features, bars, vote(bars, symbol, costs=REAL)


@pytest.fixture(scope="module")
def eth_window() -> pl.DataFrame:
    # 12 warm-up days, 10 labelled days (2024-08-13 … 08-22), and 2 more days for the last exits to finish on
    return real_15m(SYMBOL).filter(
        (pl.col("timestamp") >= datetime(2024, 8, 1, tzinfo=UTC))
        & (pl.col("timestamp") < datetime(2024, 8, 25, tzinfo=UTC))
    )


def test_real_eth_labels_hold_their_invariants(eth_window: pl.DataFrame) -> None:
    _, bars, signals = _real_pipeline(eth_window)
    days = signals.filter(
        (pl.col("timestamp") >= datetime(2024, 8, 13, tzinfo=UTC))
        & (pl.col("timestamp") < datetime(2024, 8, 23, tzinfo=UTC))
    )
    labels = label_bars(bars, days, SYMBOL, "15m", costs=SPOT)
    assert labels.height == days.height == 10 * 96
    assert labels["timestamp"].equals(days["timestamp"])
    assert labels["complete"].all()  # two days after the last labelled bar: every trade found its exit
    for side in ("long", "short"):
        net, gross, cost = (labels[f"{side}_{c}"] for c in ("net_bps", "gross_bps", "cost_bps"))
        assert (cost > 0).all()
        assert ((net - (gross - cost)).abs() < 1e-9).all()
        assert (net < gross).all()
        assert (labels[f"{side}_bars_held"] >= 1).all()
        assert (labels[f"{side}_bars_held"] <= 16).all()  # the longest max hold (TREND, 240 min)
        assert (labels[f"{side}_exit_time"] > labels["timestamp"]).all()
        assert set(labels[f"{side}_exit_reason"].unique()) <= {"stop_loss", "take_profit", "trailing_stop", "max_hold"}
    assert labels["label_end"].equals(
        labels.select(pl.max_horizontal("long_exit_time", "short_exit_time").alias("label_end"))["label_end"]
    )
    # both sides' costs are the legs at the entry bar (the next bar) and at the exit bar
    per_bar = bar_costs(bars, SPOT, "binance", SYMBOL, ExitConfig().notional).select("timestamp", "side_cost_bps")
    for side in ("long", "short"):
        legs = (
            labels.select("timestamp", f"{side}_exit_time", f"{side}_cost_bps")
            .join(
                per_bar.with_columns(pl.col("timestamp") - BAR).rename({"side_cost_bps": "entry_leg"}), on="timestamp"
            )
            .join(
                per_bar.rename({"timestamp": f"{side}_exit_time", "side_cost_bps": "exit_leg"}), on=f"{side}_exit_time"
            )
        )
        assert legs.height == labels.height
        assert ((legs[f"{side}_cost_bps"] - legs["entry_leg"] - legs["exit_leg"]).abs() < 1e-9).all()
    # every exit path but end_of_data happens on real data, and the outcomes differ between the sides
    reasons = set(labels["long_exit_reason"]) | set(labels["short_exit_reason"])
    assert {"stop_loss", "take_profit", "max_hold"} <= reasons
    # same inputs, same frame
    assert label_bars(bars, days, SYMBOL, "15m", costs=SPOT).equals(labels)
    # on the default perpetual the labels differ from spot by the fees and the funding: net < gross still
    perp = label_bars(bars, days, SYMBOL, "15m", costs=REAL)
    for side in ("long", "short"):
        assert (perp[f"{side}_net_bps"] < perp[f"{side}_gross_bps"]).all()
        assert (perp[f"{side}_exit_reason"] == labels[f"{side}_exit_reason"]).all()


def test_a_label_fed_in_as_a_feature_is_caught_by_the_causality_check(eth_window: pl.DataFrame) -> None:
    candles = eth_window.filter(pl.col("timestamp") < datetime(2024, 8, 20, tzinfo=UTC))
    when = [datetime(2024, 8, 18, h, 15, tzinfo=UTC) for h in (3, 11, 19)]

    def features_only(frame: pl.DataFrame) -> pl.DataFrame:
        return FeatureRecipe.default("15m").compute(frame, symbol=SYMBOL).drop("recipe_hash")

    def with_label(frame: pl.DataFrame) -> pl.DataFrame:
        features, bars, signals = _real_pipeline(frame)
        labels = label_bars(bars, signals, SYMBOL, "15m", costs=REAL)
        return features.drop("recipe_hash").join(
            labels.select("timestamp", "long_net_bps"), on="timestamp", how="left", maintain_order="left"
        )

    leaked = check_causality(with_label, candles, when)
    assert not leaked.ok
    assert leaked.offending_columns == ["long_net_bps"]
    assert "long_net_bps" in leaked.summary()
    # on the full history the label is known; cut at t, the bar has no next open yet: null
    assert all(v.full is not None and v.truncated is None for v in leaked.violations)
    assert len(leaked.violations) == len(when)

    clean = check_causality(features_only, candles, when)
    assert clean.ok, clean.summary()


def test_model_inputs_refuse_label_columns() -> None:
    signals = pl.DataFrame({"timestamp": [START], "trend_direction": [1], "trend_confidence": [0.5]})
    fine = input_columns(["rsi_14", "atr_pct"], signals, "15m")
    assert "rsi_14" in fine
    for leak in ("long_net_bps", "short_gross_bps", "label_end", "complete"):
        with pytest.raises(ValueError, match=leak):
            input_columns(["rsi_14", leak], signals, "15m")
    with pytest.raises(ValueError, match="long_net_bps"):
        input_columns(["rsi_14"], signals, "15m", embedding=["long_net_bps"])


def test_consecutive_days_in_one_pass_are_each_what_the_day_gets_alone() -> None:
    """Real partitions built as the assets build them: eight days of a coin labelled together equal each day
    labelled alone (its own and the next day's bars), the last day's tail pending in both, byte for byte."""
    from tests.core.planted_champion import COIN, partitions, sample_candles

    inputs = partitions(sample_candles())
    keys = sorted(inputs["labels"])[-8:]
    own, features, regimes, signals = (inputs[n] for n in ("candles", "features", "regimes", "signals"))
    own = {k: v for k, v in own.items() if k <= keys[-1]}  # the day after the last has no candles: pending
    together = {
        (p.day, p.symbol): p for p in label_partitions(own, features, regimes, signals, keys, "15m", costs=COSTS)
    }
    assert sorted(together) == keys and all(k[1] == COIN for k in keys)
    for key in keys:
        (alone,) = label_partitions(own, features, regimes, signals, [key], "15m", costs=COSTS)
        assert alone.frame.equals(together[key].frame), key
        assert (alone.pending, alone.next_day_available) == (together[key].pending, together[key].next_day_available)
    assert together[keys[-1]].pending > 0 and together[keys[0]].pending == 0
