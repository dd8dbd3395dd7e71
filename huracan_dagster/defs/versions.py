"""Each asset's Dagster ``code_version``: the core's hash over what determines its output (docs/architecture.md#declared-inputs)."""

from huracan_core.desk.version import code_version as trading_code_version
from huracan_core.features.recipe import FeatureRecipe
from huracan_core.regimes import RegimeDetector
from huracan_core.versions import candles_code_version, source_hash

__all__ = ["candles_code_version", "features_code_version", "regimes_code_version", "trading_code_version"]


def features_code_version(recipe: FeatureRecipe) -> str:
    """The recipe (names, parameters, expression text) and how a day's window and universe are assembled."""
    return source_hash("huracan_core.features.windows", extra=recipe.version_hash)


def regimes_code_version(detector: RegimeDetector) -> str:
    return detector.version_hash
