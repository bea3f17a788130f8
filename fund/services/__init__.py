"""Writes of the fund app, one module per area; re-exported here for callers."""

from .partners import partnership_set_state

__all__ = ["partnership_set_state"]
