"""The ``market_quotes`` asset for a recorded source (the recorded table; funding only for a perpetual fee profile)
and for a live ccxt source on the loopback Binance (the sampler's job stores books every run, the asset takes the
day's median, measures funding, and says FALLBACK on a day without samples)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from statistics import median

import dagster as dg
import pytest

from huracan_core.sources import CandleSource
from huracan_core.sources.ccxt_source import CcxtSource
from huracan_core.trading.measured_quotes import quote_from_frame
from huracan_core.trading.recorded_quotes import DEFAULT_FUNDING_RATE
from huracan_dagster.defs.assets.market_quotes import market_quote_assets
from huracan_dagster.defs.partitions import SYMBOL_DIMENSION
from huracan_dagster.defs.quote_sampler import SamplerConfig, quote_sampler_job
from huracan_dagster.defs.resources import ArchiveResource, CandleSourceResource, CostsResource
from tests.core.test_quote_samples import book_around
from tests.fake_binance import FakeBinance, binance_exchange

[market_quotes] = market_quote_assets("15m")
KEY = "2024-12-02|BTC-USDT"
DAY = date(2024, 12, 2)


class LoopbackSource(CandleSourceResource):
    """The ccxt source of the loopback Binance, its clock at ``now`` (ISO), so samples land on a known day."""

    url: str = ""
    now: str = ""

    def open(self) -> CandleSource:
        moment = int(datetime.fromisoformat(self.now).timestamp() * 1000)
        return CcxtSource(binance_exchange(self.url), now_ms=lambda: moment)


def run(instance: dg.DagsterInstance, resources: dict, key: str = KEY) -> dg.ExecuteInProcessResult:
    """One partition in memory (direct invocation cannot take a partitioned check's evaluations in Dagster 1.13)."""
    result = dg.materialize_to_memory([market_quotes], instance=instance, resources=resources, partition_key=key)
    assert result.success
    return result


@pytest.fixture
def instance() -> dg.DagsterInstance:
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(SYMBOL_DIMENSION, ["BTC-USDT"])
    return instance


@pytest.mark.parametrize(("profile", "settlements"), [("binance-perp-vip0", 3), ("binance-spot-vip0", 0)])
def test_a_recorded_source_quotes_the_recorded_table_and_funding_only_for_perpetuals(
    instance, tmp_path, profile, settlements
):
    resources = {
        "source": CandleSourceResource(),
        "archive": ArchiveResource(root=str(tmp_path)),
        "costs": CostsResource(fee_profile=profile),
    }
    result = run(instance, resources)
    quote = quote_from_frame(result.output_for_node(market_quotes.op.name)[KEY], KEY)
    assert quote.source.startswith("config:") and quote.tick_size > 0 and quote.impact_bps is None
    assert len(quote.funding) == settlements
    assert all(rate == DEFAULT_FUNDING_RATE and t.date() == DAY for t, rate in quote.funding)
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert meta["source"].value == quote.source and meta["impact_bps"].value == "n/a"
    assert meta["funding_settlements"].value == settlements
    [verdict] = result.get_asset_check_evaluations()
    assert verdict.check_name == "quotes_sane" and verdict.passed and verdict.partition == KEY


def test_a_live_source_takes_the_median_of_the_sampled_books_and_falls_back_on_a_day_without(
    instance, tmp_path, btc_15m
):
    archive = ArchiveResource(root=str(tmp_path))
    midnight = datetime(2024, 12, 2, tzinfo=UTC)
    with FakeBinance({"BTCUSDT": btc_15m}) as fake:
        spreads = []
        for n, widen in enumerate((2, 1, 5, 3)):
            fake.books["BTCUSDT"] = book_around(95_000.0, 0.01 * widen, amount=0.01)
            now = (midnight + timedelta(hours=6 * n)).isoformat()
            sampled = quote_sampler_job.execute_in_process(
                resources={"source": LoopbackSource(url=fake.url, now=now), "archive": archive},
                run_config={"ops": {"sample_order_books": {"config": SamplerConfig(order_size=1_000.0).model_dump()}}},
                instance=instance,
            )
            assert sampled.success
            step = 0.01 * widen  # the book is one of its steps wide
            spreads.append(step / (95_000.0 + step / 2) * 1e4)
        fake.funding["BTCUSDT"] = [
            (int((midnight + timedelta(hours=h)).timestamp() * 1000), -0.0001) for h in (0, 8, 16)
        ]
        resources = {
            "source": LoopbackSource(url=fake.url, now=midnight.isoformat()),
            "archive": archive,
            "costs": CostsResource(),
        }
        result = run(instance, resources)
        frame = result.output_for_node(market_quotes.op.name)[KEY]
        quote = quote_from_frame(frame, KEY)
        assert frame["samples"].item() == 4 and quote.tick_size == 0.01
        assert quote.spread_bps == pytest.approx(median(spreads), rel=1e-9)
        assert quote.impact_bps is not None and quote.impact_bps >= 0
        assert [r for _, r in quote.funding] == [-0.0001] * 3  # shorts paid longs on each settlement
        assert frame["ask"].item() > frame["bid"].item()
        meta = result.get_asset_materialization_events()[0].materialization.metadata
        assert "median of 4 order-book samples" in meta["source"].value and "fallback" not in meta

        empty = "2024-12-03|BTC-USDT"
        fallback = run(instance, resources, key=empty)
        quote = quote_from_frame(fallback.output_for_node(market_quotes.op.name)[empty], empty)
        assert quote.source.startswith("FALLBACK no order-book samples of 2024-12-03")
        meta = fallback.get_asset_materialization_events()[0].materialization.metadata
        assert meta["fallback"].value == "no order-book samples of 2024-12-03 at ccxt:binance"
