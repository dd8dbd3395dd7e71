"""The Dagster instance of ``HURACAN_HOME``: its storages, who owns a run, and what a dead run leaves put right."""
