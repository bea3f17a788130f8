"""Reads of the reporting app: live indicators (``stats``), snapshots (``snapshots``), data quality (``quality``)."""

from .snapshots import latest_published, public_document, public_json_text, snapshot_rows
from .stats import DIMENSIONS, Filters, Indicators, indicators, loans_as_of

__all__ = [
    "DIMENSIONS",
    "Filters",
    "Indicators",
    "indicators",
    "latest_published",
    "loans_as_of",
    "public_document",
    "public_json_text",
    "snapshot_rows",
]
