"""Reads of the fund app, one module per area; re-exported here for callers."""

from .programme import parameters_in_force, partnership_for

__all__ = ["parameters_in_force", "partnership_for"]
