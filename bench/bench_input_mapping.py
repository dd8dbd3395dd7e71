"""A step's inputs mapped to their upstream partitions: Dagster's mapping against ``day_window_upstream``.

Every step of a ranged run maps each input's range to the upstream partitions it reads (to load them, and to record
their data versions). For the date × symbol windows of the chain (``defs/partitions.py``'s ``day_window``), Dagster
maps the range day by day; ``dagster_internals.map_inputs_once`` answers them by date arithmetic instead. Here both
map, in the same run and alternating, every day-window input of the code location built on the bundled sample, over
the ranges a run of the whole sample gives a step (one symbol, every day of the sample; and two neighbours, as
``huracan run`` joins them) and a month's (December, one symbol), on an instance in a fresh directory with the
sample's symbols registered. The answers are compared; a difference
stops the bench. Prints one JSON line per range: milliseconds an input (medians over ``--rounds``) and the ratio.

    .venv/bin/python bench/bench_input_mapping.py
    .venv/bin/python bench/bench_input_mapping.py --rounds 9
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster as dg

from huracan_dagster.defs.partitions import SYMBOL_DIMENSION, day_window_upstream

SYMBOL = "BTC-USDT"
#: name: (first day, last day, first symbol, last symbol); the registered order is the list below
RANGES = {
    "sample": ("2024-07-12", "2024-12-31", SYMBOL, SYMBOL),
    "sample, two neighbours": ("2024-07-12", "2024-12-31", SYMBOL, "ETH-USDT"),
    "month": ("2024-12-01", "2024-12-31", SYMBOL, SYMBOL),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(HURACAN_SOURCE="bundled", HURACAN_TIMEFRAMES="")
    from huracan_dagster.defs.definitions import build_definitions
    from huracan_dagster.settings import Settings

    graph = build_definitions(Settings.from_env()).resolve_asset_graph()
    with tempfile.TemporaryDirectory() as home, dg.instance_for_test(temp_dir=home) as instance:
        instance.add_dynamic_partitions(SYMBOL_DIMENSION, ["BNB-USDT", "BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"])
        inputs = [
            (node.partition_mappings[parent], node.partitions_def, graph.get(parent).partitions_def)
            for node in graph.asset_nodes
            for parent in sorted(node.parent_keys, key=str)
            if day_window_upstream(
                node.partition_mappings.get(parent),
                node.partitions_def,
                graph.get(parent).partitions_def,
                dg.PartitionKeyRange(f"2024-12-31|{SYMBOL}", f"2024-12-31|{SYMBOL}"),
                instance,
            )
            is not None
        ]
        for name, (first, last, symbol, last_symbol) in RANGES.items():
            keys = dg.PartitionKeyRange(f"{first}|{symbol}", f"{last}|{last_symbol}")

            def dagster(mapping, downstream, upstream, keys=keys):
                with dg.partition_loading_context(dynamic_partitions_store=instance):
                    asked = downstream.empty_subset().with_partition_key_range(downstream, keys)
                    return mapping.get_upstream_mapped_partitions_result_for_partitions(
                        asked, downstream, upstream
                    ).partitions_subset

            def quick(mapping, downstream, upstream, keys=keys):
                return day_window_upstream(mapping, downstream, upstream, keys, instance)

            ways: dict[str, Callable] = {"dagster": dagster, "day_window_upstream": quick}
            seconds: dict[str, list[float]] = {way: [] for way in ways}
            for _ in range(args.rounds):
                answers = {}
                for way, mapped in ways.items():
                    began = time.perf_counter()
                    answers[way] = [sorted(mapped(*i).get_partition_keys()) for i in inputs]
                    seconds[way].append(time.perf_counter() - began)
                if answers["dagster"] != answers["day_window_upstream"]:
                    raise SystemExit(f"the two ways mapped the {name} range to different partitions")
            ms = {way: statistics.median(s) / len(inputs) * 1e3 for way, s in seconds.items()}
            print(
                json.dumps(
                    {
                        "bench": "input_mapping",
                        "range": f"{first}..{last}",
                        "symbols": f"{symbol}..{last_symbol}",
                        "inputs": len(inputs),
                        "upstream_partitions": sum(len(a) for a in answers["dagster"]),
                        "dagster_ms_per_input": round(ms["dagster"], 2),
                        "day_window_upstream_ms_per_input": round(ms["day_window_upstream"], 2),
                        "ratio": round(ms["day_window_upstream"] / ms["dagster"], 3),
                        "rounds": args.rounds,
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
