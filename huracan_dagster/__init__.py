"""Huracan's Dagster code location: assets, resources, IO managers, checks and the ``huracan`` command.

Thin glue only: every asset loads its inputs, calls one ``huracan_core`` function and writes the result.
"""
