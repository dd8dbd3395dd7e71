"""How a failed check reads in `huracan run`'s and `huracan status`'s summaries: severity first, then where, and the
reason when every partition shares one (the same failing-gates sentence on every coin is said once)."""

from __future__ import annotations

from huracan_dagster.instance.check_verdicts import failed_text


def test_a_shared_reason_is_said_once_and_different_reasons_are_left_to_the_ui() -> None:
    partitions = [f"2024-12-{d:02d}|BTC-USDT" for d in range(1, 8)]
    same = failed_text("WARN", partitions, ["Failed 4 of 5 standard gates: …"] * 7)
    assert same == (
        "[WARN] failed on 7 partitions: 2024-12-01|BTC-USDT, 2024-12-02|BTC-USDT, 2024-12-03|BTC-USDT, "
        "2024-12-04|BTC-USDT, 2024-12-05|BTC-USDT … (+2 more) — Failed 4 of 5 standard gates: …"
    )
    different = failed_text("WARN", partitions[:2], ["1 extreme prints: 00:15", "1 extreme prints: 12:00"])
    assert different == "[WARN] failed on 2 partitions: 2024-12-01|BTC-USDT, 2024-12-02|BTC-USDT"


def test_one_partition_reads_singular_and_a_whole_asset_check_names_no_partition() -> None:
    assert (
        failed_text("ERROR", ["2024-12-05|BTC-USDT"], ["gap"])
        == "[ERROR] failed on 1 partition: 2024-12-05|BTC-USDT — gap"
    )
    assert failed_text("ERROR", [], ["3 folders damaged"]) == "[ERROR] failed — 3 folders damaged"
    assert failed_text("ERROR", [], [""]) == "[ERROR] failed"
