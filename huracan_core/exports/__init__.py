"""Exports for analysts: every partition's rows with their lineage, and the DuckDB file of views over them."""
