"""Where a storage named in ``dagster.yaml`` keeps its files when its config names no ``base_dir``: the folder under
``DAGSTER_HOME`` where Dagster's default instance keeps the same files, so the UI, the CLI and Dagster's own tools
find them there."""

from __future__ import annotations

import os

import dagster as dg


def base_dir_config() -> dict:
    """A storage's config schema: ``base_dir``, optional."""
    return {"base_dir": dg.Field(dg.StringSource, is_required=False)}


def base_dir(config_value: dict, *default: str) -> str:
    """``base_dir`` from the config, or ``$DAGSTER_HOME/<default...>``."""
    return config_value.get("base_dir") or os.path.join(os.environ["DAGSTER_HOME"], *default)
