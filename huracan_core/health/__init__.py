"""System health: each component's state as a record (``status``) and the cheap calls that find it (``probes``)."""

from huracan_core.health.status import ComponentStatus, Finding, State, any_down, probe

__all__ = ["ComponentStatus", "Finding", "State", "any_down", "probe"]
