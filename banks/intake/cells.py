"""Cell values as bank staff produce them (bank-workbooks.md §3) → typed values.

One parser per field type; each takes the raw value (what python-calamine, the CSV reader or
the JSON body delivered: str, float, int, bool, date, datetime) and returns the typed value or
raises :class:`registry.rules.RuleError` with a Chinese message.  Empty values never reach a
parser.  The heavy lifting is ``registry.rules`` (dates, money, rates, text folding).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from registry.rules import (
    DATE_FORMATS_HINT,
    RuleError,
    normalize_text,
    parse_date,
    parse_money,
    parse_rate_percent,
)

from . import fields as F

Parser = Callable[[Any], Any]
NOT_NUMBER = (bool, datetime.date, datetime.time, datetime.timedelta)
CENT = Decimal("0.01")
RATE_QUANTUM = Decimal("0.0001")


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integral_text(value: float | int | Decimal) -> str | None:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return None


def parse_code(value: Any) -> str:
    """Codes: spaces (incl. full-width) removed, full-width folded, upper-cased; 12345.0 → "12345"."""
    if value.__class__ is str:
        if value.isascii() and value.isalnum():
            return value.upper()  # what normalize_text gives, without NFKC and regex
        return normalize_text(value)
    if isinstance(value, NOT_NUMBER):
        raise RuleError("code_format", f"“{value}”不是有效的代码，请按文本填写")
    text = _integral_text(value)
    if text is None:
        raise RuleError("code_format", f"“{value}”不是有效的代码，请按文本填写（不要带小数）")
    return text


def parse_text(value: Any) -> str:
    if isinstance(value, str):
        return " ".join(unicodedata.normalize("NFC", value).split())
    if isinstance(value, bool):
        raise RuleError("text_format", f"“{value}”不是文本")
    text = _integral_text(value) if isinstance(value, int | float) else None
    return text if text is not None else str(value)


def parse_amount(value: Any) -> Decimal:
    """Money (元 or 万元): thousands separators, full-width digits, ¥/元; never negative."""
    if value.__class__ is float and 0 <= value < 1e15:  # the usual cell: what parse_money gives, faster
        return Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    if isinstance(value, NOT_NUMBER):
        raise RuleError("money_format", f"金额“{value}”无法识别，应为数字，如 1,234,567.89")
    amount = parse_money(value)
    if amount < 0:
        raise RuleError("money_negative", f"金额不能为负数，实际为 {amount}")
    return amount


def parse_int(value: Any) -> int:
    if value.__class__ is float and value.is_integer() and 0 <= value < 1e15:
        return int(value)
    if isinstance(value, NOT_NUMBER):
        raise RuleError("int_format", f"“{value}”不是整数")
    try:
        number = parse_money(value)
    except RuleError:
        raise RuleError("int_format", f"“{value}”不是整数，应填写如 25") from None
    if number != number.to_integral_value():
        raise RuleError("int_format", f"“{value}”不是整数，应填写如 25")
    if number < 0:
        raise RuleError("int_negative", f"不能为负数，实际为 {value}")
    return int(number)


_SHARED_DATES: dict[datetime.date, datetime.date] = {}


def parse_day(value: Any) -> datetime.date:
    if value.__class__ is datetime.date:  # one object per distinct date: 100,000 rows share a few hundred
        shared = _SHARED_DATES.setdefault(value, value)
        if len(_SHARED_DATES) > 50_000:
            _SHARED_DATES.clear()
        return shared
    if isinstance(value, bool | datetime.time | datetime.timedelta):
        raise RuleError("date_format", f"日期“{value}”无法识别，{DATE_FORMATS_HINT}")
    return parse_date(value)


_MONTH_TEXT = (
    re.compile(r"(\d{4})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月?"),
    re.compile(r"(\d{4})(\d{2})"),
)


def _month(year: int, month: int, value: Any) -> datetime.date:
    if not 1 <= month <= 12:
        raise RuleError("month_invalid", f"报告月份“{value}”中的月份 {month} 不存在")
    return datetime.date(year, month, 1)


def parse_month(value: Any) -> datetime.date:
    """A reporting month (its first day) from ``2021-06``, ``2021/6``, ``2021年6月``, ``202106`` or a date."""
    if isinstance(value, datetime.datetime):
        return value.date().replace(day=1)
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    if isinstance(value, str):
        text = "".join(unicodedata.normalize("NFKC", value).split())
        for pattern in _MONTH_TEXT:
            match = pattern.fullmatch(text)
            if match:
                return _month(int(match[1]), int(match[2]), value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = _integral_text(value)
        if text and len(text) == 6:
            return _month(int(text[:4]), int(text[4:]), value)
    try:
        return parse_date(value).replace(day=1)
    except RuleError:
        raise RuleError("month_format", f"报告月份“{value}”无法识别，应为 2021-06、2021/6 或 2021年6月") from None


def parse_rate(value: Any, *, percent_cell: bool = False) -> Decimal:
    if value.__class__ is float and not percent_cell and 1 <= value < 100:  # as parse_rate_percent, faster
        return Decimal(repr(value)).quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)
    if isinstance(value, NOT_NUMBER):
        raise RuleError("rate_format", f"年利率“{value}”无法识别，应填写百分数，例如 4.35 或 4.35%")
    return parse_rate_percent(value, from_percent_cell=percent_cell)


FEE_RATE_MIN_BARE = Decimal("0.1")


def parse_fee_rate(value: Any, *, percent_cell: bool = False) -> Decimal:
    """Guarantee fee rate in percent.  Fee rates below 1 % are normal (0.8 means 0.8 %), so a bare
    number from 0.1 up is read as percent; below 0.1 it looks like a fraction and is refused."""
    try:
        return parse_rate(value, percent_cell=percent_cell)
    except RuleError as exc:
        if exc.code != "rate_fraction":
            raise
        number = Decimal(normalize_text(str(value)))
        if number >= FEE_RATE_MIN_BARE:
            return number.quantize(Decimal("0.0001"))
        raise RuleError(
            "rate_fraction", f"担保费率应填写百分数，例如 1.5 或 0.8%，而不是 {value}"
        ) from None


_BOOL_WORDS = {
    "是": True, "否": False, "Y": True, "N": False, "YES": True, "NO": False, "TRUE": True, "FALSE": False,
    "1": True, "0": False, "√": True, "×": False, "有": True, "无": False,
}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        answer = _BOOL_WORDS.get(normalize_text(value))
        if answer is not None:
            return answer
    raise RuleError("bool_format", f"“{value}”应填写“是”或“否”")


def choice_parser(field: F.Field) -> Parser:
    """Accepts the Chinese label or the internal value (API); ``政银担模式`` is read as ``政银担``."""
    lookup: dict[str, Any] = {}
    for internal, label in field.choices:
        lookup[normalize_text(str(internal))] = internal
        lookup[normalize_text(label)] = internal
        lookup[normalize_text(label) + "模式"] = internal
    labels = " / ".join(field.labels)

    def parse(value: Any) -> Any:
        key = normalize_text(value) if isinstance(value, str) else None
        if key is not None and key in lookup:
            return lookup[key]
        raise RuleError("choice", f"“{value}”不是可选值，{field.header}应为：{labels}")

    return parse


def cached(parser: Parser) -> Parser:
    """Memoise a parser for low-cardinality columns (choices, yes/no, regions); its RuleErrors too.
    Keyed by type and value (``1``, ``1.0`` and ``True`` are equal as dict keys)."""
    memo: dict[tuple[type, Any], Any] = {}
    refused: dict[tuple[type, Any], RuleError] = {}

    def parse(value: Any) -> Any:
        key = (value.__class__, value)
        try:
            return memo[key]  # the usual cell: one look-up
        except KeyError:
            error = refused.get(key)
        except TypeError:  # unhashable: not memoised
            return parser(value)
        if error is not None:
            raise error
        try:
            hit = parser(value)
        except RuleError as exc:
            if len(memo) + len(refused) < 10_000:
                refused[key] = exc
            raise
        if len(memo) + len(refused) < 10_000:
            memo[key] = hit
        return hit

    parse.memo = memo  # (type, value) → parsed value: callers in a hot loop may look up first
    return parse


def parser_for(field: F.Field) -> Parser:
    """The parser of a field's type (rates take ``percent_cell`` separately, see :func:`parse_rate`)."""
    if field.type == F.CHOICE:
        return cached(choice_parser(field))
    if field.type == F.BOOL:
        return cached(parse_bool)
    if field.name == "guarantee_fee_rate":
        return parse_fee_rate
    if field.lookup or field.name == "purpose":  # regions, industries, guarantors, purposes: few values
        return cached(parse_code if field.type == F.CODE else parse_text)
    return {  # amounts and rates repeat a lot (1,000,000.00; 3.45): shared Decimals save time and memory
        F.TEXT: parse_text, F.CODE: parse_code, F.DATE: parse_day, F.MONTH: cached(parse_month),
        F.MONEY: cached(parse_amount), F.INT: parse_int, F.RATE: cached(parse_rate),
    }[field.type]
