"""``huracan run``'s closing summary of the coin models, read from the models' materializations as a run leaves
them: a verdict every coin shares is said once, a coin's own verdict stays on its line."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from huracan_core.storage.local import LocalArtifactStore
from huracan_dagster.cli.run import _print_models
from huracan_dagster.defs.partitions import asset_key, partition_key

DAY = date(2024, 12, 31)
QUIET = "Failed 2 of 5 standard gates: trade_count 0 trades (needs >= 100 trades); sharpe n/a."


def _model(symbol: str, verdict: str) -> dg.AssetMaterialization:
    return dg.AssetMaterialization(
        asset_key("15m", "coin_model"),
        partition=partition_key(DAY, symbol),
        metadata={
            "verdict": verdict,
            "gate_summary": f"failed standard: {verdict}",
            "break_even_fee_bps": "n/a",
            "trades_out_of_sample": 0,
            "best_predicted_edge_bps": "-1.5",
            "safety_margin_bps": "3",
        },
    )


@pytest.mark.parametrize("verdicts", [(QUIET, QUIET, QUIET), (QUIET, "Passed all 5 standard gates.", QUIET)])
def test_a_verdict_every_coin_shares_is_said_once(verdicts, tmp_path, capsys) -> None:
    symbols = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    with dg.instance_for_test() as instance:
        for symbol, verdict in zip(symbols, verdicts, strict=True):
            instance.report_runless_asset_event(_model(symbol, verdict))
        _print_models(instance, LocalArtifactStore(tmp_path), "15m", symbols, DAY)
    out = capsys.readouterr().out
    shared = len(set(verdicts)) == 1
    assert out.count(QUIET) == (1 if shared else 2) and ("every coin: " + QUIET in out) == shared
    for symbol, verdict in zip(symbols, verdicts, strict=True):
        assert (f"  {symbol}:\n" if shared else f"  {symbol}: {verdict}\n") in out
        assert f"costs/{symbol}/15m/{DAY}.json" in out  # no shadow trades in this home: said, not a crash
