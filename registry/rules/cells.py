"""Cell parsers: rates, money and dates as banks write them."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ._base import _WHITESPACE, CENT, RATE_QUANTUM, RuleError, normalize_text

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def _decimal_of(value: object) -> Decimal | None:
    """Decimal of an int/float/Decimal (floats via str), None for other types or NaN/inf."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return result if result.is_finite() else None


def _rate_from_text(value: str) -> tuple[Decimal | None, bool]:
    text = normalize_text(value)
    is_percent = text.endswith("%")
    text = text.removesuffix("%")
    return (Decimal(text) if _PLAIN_NUMBER.fullmatch(text) else None), is_percent


def parse_rate_percent(value: object, *, from_percent_cell: bool = False) -> Decimal:
    """Annual rate in percent from ``4.35``, ``"4.35"``, ``"4.35%"``, ``"４.３５％"`` (4 places).

    A bare number below 1 is refused (it looks like a fraction); with ``from_percent_cell`` the cell
    was percent-formatted in Excel, so its bare value is a fraction and is multiplied by 100.
    """
    if isinstance(value, str):
        number, is_percent = _rate_from_text(value)
    else:
        number, is_percent = _decimal_of(value), False
    if number is None:
        raise RuleError("rate_format", f"年利率“{value}”无法识别，应填写百分数，例如 4.35 或 4.35%")
    if not is_percent and from_percent_cell:
        number, is_percent = number * 100, True
    if number <= 0:
        raise RuleError("rate_range", f"年利率应大于 0，实际为 {value}")
    if not is_percent and number < 1:
        raise RuleError("rate_fraction", f"年利率应填写百分数，例如 4.35，而不是 {value}")
    if number >= 100:
        raise RuleError("rate_range", f"年利率 {number}% 不合理，应填写百分数，例如 4.35")
    return number.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


_MONEY = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def parse_money(value: object) -> Decimal:
    """Amount in 元 from int/float/Decimal/str (thousands separators, full-width, ¥/元), to 0.01."""
    if isinstance(value, str):
        text = normalize_text(value).removeprefix("¥").removesuffix("元")
        number = Decimal(text.replace(",", "")) if _MONEY.fullmatch(text) else None
    else:
        number = _decimal_of(value)
    if number is None:
        raise RuleError(
            "money_format", f"金额“{value}”无法识别，应为以元为单位的数字，如 1,234,567.89 或 1234567.89"
        )
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


DATE_FORMATS_HINT = "应为 2021-06-30、2021/6/30、2021年6月30日、20210630 或 Excel 日期"
EXCEL_EPOCH = date(1899, 12, 30)  # 1900 date system, serials ≥ 61 (after the fictitious 1900-02-29)
EXCEL_SERIAL_RANGE = (18264, 73050)  # 1950-01-01 … 2099-12-31: other numbers are not taken as dates

_DATE_PATTERNS = (
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"),
    re.compile(r"(\d{4})(年)(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})()(\d{2})(\d{2})"),
)
_TIME_SUFFIX = re.compile(r"(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


def _make_date(year: int, month: int, day: int, value: object) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise RuleError("date_invalid", f"日期“{value}”不存在：没有 {year} 年 {month} 月 {day} 日") from None


def _date_from_text(value: str) -> date | None:
    text = _TIME_SUFFIX.sub("", unicodedata.normalize("NFKC", value).strip())
    text = _WHITESPACE.sub("", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, _, month, day = match.groups()
            return _make_date(int(year), int(month), int(day), value)
    return None


def _date_from_number(value: int | float | Decimal) -> date | None:
    number = _decimal_of(value)
    if number is None:
        return None
    whole = int(number)
    if number == whole and 19000101 <= whole <= 99991231:
        return _make_date(whole // 10000, whole // 100 % 100, whole % 100, value)
    if EXCEL_SERIAL_RANGE[0] <= whole <= EXCEL_SERIAL_RANGE[1]:
        return EXCEL_EPOCH + timedelta(days=whole)
    return None


def parse_date(value: object) -> date:
    """A date from a date/datetime, common Chinese text forms, yyyymmdd or an Excel serial number."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    result = None
    if isinstance(value, str):
        result = _date_from_text(value)
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        result = _date_from_number(value)
    if result is None:
        raise RuleError("date_format", f"日期“{value}”无法识别，{DATE_FORMATS_HINT}")
    return result
