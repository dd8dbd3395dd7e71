"""Check verdicts belong to the partitions they judged: a later, narrower run never hides an earlier flag."""

from __future__ import annotations

import dagster as dg
import pytest

from huracan_dagster.cli.main import main
from huracan_dagster.dagster_internals import AssetCheckExecutionRecordStatus, PartitionKeyFilter

EXTREME = dg.AssetCheckKey(dg.AssetKey(["15m", "candles"]), "no_extreme_prints")


def verdicts(instance: dg.DagsterInstance) -> dict[str, AssetCheckExecutionRecordStatus]:
    return {
        i.partition_key: i.latest_execution_status
        for i in instance.event_log_storage.get_asset_check_partition_info([EXTREME])
    }


@pytest.mark.slow
def test_a_narrow_run_keeps_the_flag_of_an_earlier_partition(huracan_home, capsys):
    # BTC's 2024-12-05 crash print exceeds 10x the trailing ATR (a real flag in the bundled sample)
    assert main(["run", "--date", "2024-12-05", "--symbols", "BTC/USDT", "--select", "candles"]) == 0
    instance = dg.DagsterInstance.get()
    assert verdicts(instance)["2024-12-05|BTC-USDT"] == AssetCheckExecutionRecordStatus.FAILED
    assert (
        main(["run", "--start", "2024-12-01", "--end", "2024-12-02", "--symbols", "BTC/USDT", "--select", "candles"])
        == 0
    )
    after = verdicts(instance)
    assert after["2024-12-05|BTC-USDT"] == AssetCheckExecutionRecordStatus.FAILED
    assert after["2024-12-01|BTC-USDT"] == after["2024-12-02|BTC-USDT"] == AssetCheckExecutionRecordStatus.SUCCEEDED
    # the flagged bar is on the partition's own evaluation, where a person looks
    [record] = instance.event_log_storage.get_asset_check_execution_history(
        EXTREME, limit=1, partition_filter=PartitionKeyFilter(key="2024-12-05|BTC-USDT")
    )
    assert "2024-12-05T" in record.event.dagster_event.event_specific_data.metadata["found"].value
    capsys.readouterr()
    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert "no_extreme_prints" in status and "2024-12-05|BTC-USDT" in status
