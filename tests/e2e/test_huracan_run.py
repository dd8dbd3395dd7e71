"""``huracan run`` and ``huracan status`` end to end, through the Dagster instance of HURACAN_HOME."""

from __future__ import annotations

import dagster as dg

from huracan_dagster.cli import main
from huracan_dagster.commands import format_ranges, symbol_blocks


def test_run_materializes_every_partition_of_the_window_in_ranged_runs(huracan_home, capsys):
    assert main(["run", "--start", "2024-12-01", "--end", "2024-12-05", "--symbols", "BTC/USDT,ETH/USDT,SOL/USDT"]) == 0
    out = capsys.readouterr().out
    assert "candles: 15 partitions materialized" in out and "http://127.0.0.1:3000" in out
    instance = dg.DagsterInstance.get()
    expected = {f"2024-12-0{d}|{s}" for d in range(1, 6) for s in ("BTC-USDT", "ETH-USDT", "SOL-USDT")}
    assert instance.get_materialized_partitions(dg.AssetKey("candles")) == expected
    runs = instance.get_runs()
    assert len(runs) == 1 and runs[0].is_success  # one run for the whole range, not one per partition
    for key in expected:
        day, symbol = key.split("|")
        assert (huracan_home / "archive" / "candles" / symbol / "15m" / f"{day}.parquet").is_file()

    # a non-contiguous subset of the registered symbols: one ranged run per block of neighbours
    assert main(["run", "--date", "2024-12-06", "--symbols", "BTC/USDT,SOL/USDT"]) == 0
    assert len(instance.get_runs()) == 3

    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert "candles: 17 partitions materialized" in status
    assert "BTC/USDT     2024-12-01..2024-12-06" in status and "ETH/USDT     2024-12-01..2024-12-05" in status
    # 2024-12-05: BTC fell from ~103k to ~92k within minutes, a real extreme print, reported as a warning
    assert "failed checks (latest verdict per partition): 1" in status
    assert "candles:no_extreme_prints [WARN] 1 partitions: 2024-12-05|BTC-USDT" in status


def test_status_lists_failed_warning_checks_per_partition(huracan_home, capsys, shared_candles):
    assert main(["run", "--date", "2020-03-12", "--symbols", "LINK/USDT", "--timeframe", "1h", "--source", f"replay:{shared_candles}"]) == 0
    out = capsys.readouterr().out
    assert "check candles:no_extreme_prints did not pass (1 partitions)" in out
    main(["status"])
    assert "candles:no_extreme_prints [WARN] 1 partitions: 2020-03-12|LINK-USDT" in capsys.readouterr().out


def test_a_failing_run_exits_non_zero_and_says_why(huracan_home, capsys):
    assert main(["run", "--date", "2025-06-01", "--symbols", "BTC/USDT"]) == 1  # the bundled sample ends in 2024
    out = capsys.readouterr().out
    assert "FAILED" in out and "2025-06-01|BTC-USDT" in out and "no candles from bundled" in out


def test_blocks_and_ranges():
    assert symbol_blocks(["C", "A", "B", "E"], ["A", "B", "C", "D", "E"]) == [["A", "B", "C"], ["E"]]
    from datetime import date

    days = [date(2024, 1, d) for d in (1, 2, 3, 5, 7, 8)]
    assert format_ranges(days) == "2024-01-01..2024-01-03, 2024-01-05, 2024-01-07..2024-01-08"
