"""Findings of an intake run, in one shape for workbooks and API records:

``{"sheet", "row", "column", "value", "rule", "message", "level"}`` — ``row`` is the Excel row
number (or the 1-based record index for API records, or ``None`` for the whole file), ``column``
the Chinese header (or the API field name), ``level`` ``error`` / ``warning`` / ``info``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"
VALUE_MAX = 100  # characters of the offending value kept in an issue


def show_value(value: Any) -> str:
    """The cell value as text for the issue list (dates ISO, money with 2 places)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    text = str(value)
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


class IssueLog:
    """Collects issues; counts by level."""

    def __init__(self, sheet: str) -> None:
        self.sheet = sheet
        self.items: list[dict[str, Any]] = []
        self.counts = {ERROR: 0, WARNING: 0, INFO: 0}

    def add(
        self, level: str, message: str, *, row: int | None = None, column: str = "", value: Any = None,
        rule: str = "",
    ) -> None:
        self.counts[level] += 1
        self.items.append({
            "sheet": self.sheet, "row": row, "column": column, "value": show_value(value),
            "rule": rule, "message": message, "level": level,
        })

    def error(self, message: str, **kw: Any) -> None:
        self.add(ERROR, message, **kw)

    def warning(self, message: str, **kw: Any) -> None:
        self.add(WARNING, message, **kw)

    def info(self, message: str, **kw: Any) -> None:
        self.add(INFO, message, **kw)

    @property
    def has_errors(self) -> bool:
        return self.counts[ERROR] > 0

    def sorted_items(self) -> list[dict[str, Any]]:
        """File-level issues first, then by row, in the order found within a row."""
        return sorted(self.items, key=lambda i: -1 if i["row"] is None else i["row"])


class IntakeRefused(Exception):
    """The file as a whole cannot be read: refused before any row is looked at."""

    def __init__(self, message: str, *, code: str = "refused", rule: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.rule = rule
