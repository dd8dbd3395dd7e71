"""Feature recipe (pure polars) and the causality check that keeps it honest."""

from huracan_core.features.recipe import FeatureRecipe

__all__ = ["FeatureRecipe"]
