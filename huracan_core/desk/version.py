"""The trading assets' code version: what a day's ledger, costs and analysis depend on besides their inputs."""

from __future__ import annotations

from collections.abc import Sequence

from huracan_core.desk import shadow_day
from huracan_core.trading.consensus import ConsensusConfig
from huracan_core.trading.costs import CostModel
from huracan_core.trading.engines import DEFAULT_ENGINES, Engine
from huracan_core.versions import modules_used, source_hash


def code_version(
    engines: Sequence[Engine] = DEFAULT_ENGINES,
    *,
    costs: CostModel,
    config: ConsensusConfig = ConsensusConfig(),
    extra: object = None,
) -> str:
    """Short hash over the source of the daily trading path and all it runs (engines, meta combiner, consensus,
    exits, shadow trader, costs, metrics, analysis) and the values of the engines' configs and signal builders,
    the cost model (``CostModel.describe``: fees, order type, the quote book's content hash) and the consensus
    config with its exit and meta configs. ``extra`` carries the asset's other
    settings (timeframe, exchange, capital, warm-up days) when they are not the defaults."""
    return source_hash(*modules_used(shadow_day), extra=[list(engines), costs.describe(), config, extra])
