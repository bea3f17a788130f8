"""Spreadsheet (CSV/XLSX) formula injection guard (OWASP "CSV Injection").

Every value an export writes into a cell goes through ``safe_cell``: a string that a
spreadsheet program would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) gets a leading apostrophe, so it shows as text.  Numbers, dates,
Decimals and None pass unchanged (write money as Decimal/number, not as a string, so
negative amounts stay numbers).
"""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [safe_cell(v) for v in values]
