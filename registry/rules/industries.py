"""GB/T 4754-2017 industry codes and the service-industry test (R8)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ._base import RuleError, _number_to_text, normalize_text
from .tables import Division, division_table


@dataclass(frozen=True)
class IndustryCode:
    """A GB/T 4754-2017 code at division (2), group (3) or class (4) level, e.g. ``F5123``."""

    section: str
    division: str
    code: str

    @property
    def digits(self) -> str:
        return self.code[1:]

    @property
    def group(self) -> str:
        """3-digit group (中类), or "" when only the division is known."""
        return self.digits[:3] if len(self.digits) >= 3 else ""

    @property
    def class_code(self) -> str:
        """4-digit class (小类), or "" when not given."""
        return self.digits if len(self.digits) == 4 else ""

    def __str__(self) -> str:
        return self.code


_INDUSTRY_FORMAT = re.compile(r"([A-Z]?)(\d+)")
_INDUSTRY_HINT = "应为门类字母加 2–4 位数字，如 F5123、I65，或只填数字，如 5123、65"


def _industry_text(value: object) -> str:
    number = _number_to_text(value)
    if number:
        return number.zfill(2)  # Excel drops the leading zero of divisions 01–09
    return normalize_text("" if value is None or number == "" else str(value))


def _as_division(row: Sequence[object]) -> Division:
    code, section, name, service = row
    return Division(str(code), str(section), str(name), service in (1, "1"))


@functools.lru_cache(maxsize=32)
def _division_index(rows: tuple[Division, ...]) -> dict[str, Division]:
    return {d.code: d for d in rows}


def _division_map(divisions: Iterable[Division] | None) -> dict[str, Division]:
    rows = division_table() if divisions is None else tuple(map(_as_division, divisions))
    return _division_index(rows)


def normalize_industry(value: object, *, divisions: Iterable[Division] | None = None) -> IndustryCode:
    """Parse ``F5123``, ``5123``, ``I65``, ``65``, ``f 5123``, 5123 or 65.0 into an IndustryCode."""
    text = _industry_text(value)
    match = _INDUSTRY_FORMAT.fullmatch(text)
    if not match:
        raise RuleError("industry_format", f"行业代码“{value}”无法识别，{_INDUSTRY_HINT}")
    letter, digits = match.groups()
    if len(digits) not in (2, 3, 4):
        raise RuleError(
            "industry_length",
            f"行业代码“{value}”应为 2、3 或 4 位数字（大类、中类或小类），实际为 {len(digits)} 位",
        )
    division = _division_map(divisions).get(digits[:2])
    if division is None:
        raise RuleError(
            "industry_unknown",
            f"行业代码“{value}”中的大类 {digits[:2]} 不存在（GB/T 4754-2017 大类为 01–97）",
        )
    if letter and letter != division.section:
        raise RuleError(
            "industry_section_mismatch",
            f"行业代码“{value}”的门类字母 {letter} 与大类 {division.code}（{division.name}）"
            f"所属门类 {division.section} 不符",
        )
    return IndustryCode(section=division.section, division=division.code, code=division.section + digits)


def _reduce_digits(digits: str) -> str:
    """Drop trailing zeros below the division: in GB/T 4754 a sole class is coded xx0, so 7010 ≡ 701."""
    while len(digits) > 2 and digits.endswith("0"):
        digits = digits[:-1]
    return digits


class _Exclusion(NamedTuple):
    section: str
    digits: str
    label: str


def _parse_exclusion(item: str) -> _Exclusion:
    text = normalize_text(item)
    match = re.fullmatch(r"([A-Z]?)(\d*)", text)
    if not match or not text:
        raise RuleError(
            "industry_exclusion", f"排除行业“{item}”无法识别，应为门类字母、大类或小类代码，如 J、70、7010"
        )
    letter, digits = match.groups()
    return _Exclusion(letter, _reduce_digits(digits), text)


def _exclusion_overlap(ind: IndustryCode, ex: _Exclusion) -> str:
    """ "inside" if ind lies within the exclusion, "partial" if ind is coarser and contains it, else ""."""
    if ex.section and ex.section != ind.section:
        return ""
    if not ex.digits:
        return "inside"
    digits = _reduce_digits(ind.digits)
    if digits.startswith(ex.digits):
        return "inside"
    return "partial" if ex.digits.startswith(digits) else ""


DEFAULT_SERVICE_EXCLUSIONS = ("J", "7010", "S", "T")


def _service_problem(
    ind: IndustryCode, excluded: Iterable[str], divisions: Iterable[Division] | None
) -> RuleError | None:
    division = _division_map(divisions).get(ind.division)
    if division is None or not division.service:
        name = f"（{division.name}）" if division else ""
        return RuleError(
            "industry_not_service",
            f"行业 {ind.code}{name}不属于服务业："
            "按 R8，主营行业须为 GB/T 4754-2017 门类 F–T 或大类 05、11、43",
        )
    for ex in map(_parse_exclusion, excluded):
        overlap = _exclusion_overlap(ind, ex)
        if overlap == "inside":
            return RuleError(
                "industry_excluded", f"行业 {ind.code} 属于本计划按 R8 排除的行业 {ex.label}，不予支持"
            )
        if overlap == "partial":
            return RuleError(
                "industry_too_coarse",
                f"行业代码 {ind.code} 不够细：其中的 {ex.label} 按 R8 不予支持，请填写到能区分的中类或小类",
            )
    return None


def is_service_industry(
    ind: IndustryCode,
    *,
    excluded: Iterable[str] = DEFAULT_SERVICE_EXCLUSIONS,
    divisions: Iterable[Division] | None = None,
) -> bool:
    """R8: sections F–T plus divisions 05, 11, 43, minus the excluded sections/divisions/classes.

    An exclusion is a section letter (``J``), a division (``70``) or a class (``7010``, optionally
    with its letter); it matches every code inside it.  A code coarser than an exclusion it contains
    (``K70`` against ``7010``) is not accepted either: it cannot be shown to be outside the exclusion.
    """
    return _service_problem(ind, excluded, divisions) is None


def check_service_industry(
    ind: IndustryCode,
    *,
    excluded: Iterable[str] = DEFAULT_SERVICE_EXCLUSIONS,
    divisions: Iterable[Division] | None = None,
) -> None:
    """Raise RuleError (R8) unless :func:`is_service_industry` holds."""
    problem = _service_problem(ind, excluded, divisions)
    if problem is not None:
        raise problem
