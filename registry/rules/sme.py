"""The 2011 SME size standard (R7): size group by industry and size class by figures."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from ._base import RuleError, normalize_text
from .cells import _decimal_of
from .industries import IndustryCode, _reduce_digits
from .tables import sme_threshold_table

SIZE_LABELS = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
SIZE_LEVELS = ("large", "medium", "small")
INDICATOR_LABELS = {
    "employees": "从业人员（人）",
    "revenue": "营业收入（万元）",
    "assets": "资产总额（万元）",
}


class _CodeTerm(NamedTuple):
    section: str
    lo: str
    hi: str


@dataclass(frozen=True)
class SizeGroup:
    """One row of the SME threshold table, parsed."""

    name: str
    includes: tuple[_CodeTerm, ...]
    excludes: tuple[_CodeTerm, ...]
    fallback: bool
    indicators: tuple[str, ...]
    minimums: tuple[tuple[Decimal, ...], ...]  # per level in SIZE_LEVELS, one per indicator


def _parse_term(text: str) -> _CodeTerm:
    match = re.fullmatch(r"([A-Z])(\d*)(?:-[A-Z]?(\d+))?", normalize_text(text))
    if not match:
        raise RuleError("sme_table", f"划型标准中的行业代码“{text}”无法识别")
    section, lo, hi = match.groups()
    if hi is None:
        lo = hi = _reduce_digits(lo) if lo else ""
    return _CodeTerm(section, lo, hi)


def _parse_codes(spec: str) -> tuple[tuple[_CodeTerm, ...], tuple[_CodeTerm, ...], bool]:
    includes: list[_CodeTerm] = []
    excludes: list[_CodeTerm] = []
    for part in (p.strip() for p in str(spec).split(";") if p.strip()):
        if part.lower() == "everything else":
            return (), (), True
        head, _, tail = part.partition(" except ")
        includes.append(_parse_term(head))
        excludes.extend(_parse_term(t) for t in tail.split(",") if t.strip())
    return tuple(includes), tuple(excludes), False


def _threshold(row: Mapping[str, object], column: str, group: str) -> Decimal:
    raw = row.get(column)
    try:
        return Decimal(str(raw).strip())
    except InvalidOperation:
        raise RuleError("sme_table", f"划型标准“{group}”的 {column} 缺失或不是数字：{raw!r}") from None


def _parse_group(row: Mapping[str, object]) -> SizeGroup:
    name = str(row["group"])
    indicators = tuple(
        str(row[c]).strip() for c in ("indicator_1", "indicator_2") if str(row.get(c) or "").strip()
    )
    unknown = [i for i in indicators if i not in INDICATOR_LABELS]
    if unknown or not indicators:
        raise RuleError(
            "sme_table", f"划型标准“{name}”的指标无法识别：{unknown}，应为 employees、revenue 或 assets"
        )
    minimums = tuple(
        tuple(_threshold(row, f"{level}_min_{i}", name) for i in range(1, len(indicators) + 1))
        for level in SIZE_LEVELS
    )
    return SizeGroup(name, *_parse_codes(str(row["gbt4754_codes"])), indicators, minimums)


@functools.cache
def _default_size_groups() -> tuple[SizeGroup, ...]:
    return tuple(map(_parse_group, sme_threshold_table()))


def _term_overlap(digits: str, section: str, term: _CodeTerm) -> tuple[str, int]:
    """("inside", specificity), ("partial", 0) when the code is coarser than the term, or ("", 0)."""
    if term.section != section:
        return "", 0
    width = len(term.lo)
    if len(digits) >= width:
        return ("inside", width) if term.lo <= digits[:width] <= term.hi else ("", 0)
    n = len(digits)
    return ("partial", 0) if term.lo[:n] <= digits <= term.hi[:n] else ("", 0)


def _group_overlap(ind: IndustryCode, group: SizeGroup) -> tuple[str, int]:
    digits = _reduce_digits(ind.digits)
    hits = [_term_overlap(digits, ind.section, t) for t in group.includes]
    misses = [_term_overlap(digits, ind.section, t)[0] for t in group.excludes]
    if "inside" in misses or not any(kind for kind, _ in hits):
        return "", 0
    if "partial" in misses or all(kind != "inside" for kind, _ in hits):
        return "partial", 0
    return "inside", max(width for kind, width in hits if kind == "inside")


def sme_size_group(
    ind: IndustryCode, *, thresholds: Sequence[Mapping[str, object]] | None = None
) -> SizeGroup:
    """The threshold group for an industry: the most specific group containing it, else "everything else".

    A code too coarse to decide (``G59``: 装卸搬运 G591 is 交通运输业, the rest 仓储业; ``K70``: 7010
    and 7020 have their own groups) cannot be classified and raises ``sme_industry_ambiguous``.
    """
    groups = _default_size_groups() if thresholds is None else tuple(map(_parse_group, thresholds))
    overlaps = [(_group_overlap(ind, g), g) for g in groups if not g.fallback]
    partial = [g.name for (kind, _), g in overlaps if kind == "partial"]
    if partial:
        raise RuleError(
            "sme_industry_ambiguous",
            f"无法划型：行业代码 {ind.code} 不够细，可能属于{'、'.join(partial)}等不同划型行业，"
            "请填写到中类或小类（R7）",
        )
    inside = [(width, -i, g) for i, ((kind, width), g) in enumerate(overlaps) if kind == "inside"]
    if inside:
        return max(inside, key=lambda t: t[:2])[2]
    fallback = next((g for g in groups if g.fallback), None)
    if fallback is None:
        raise RuleError("sme_table", f"划型标准中没有适用于行业 {ind.code} 的行业组")
    return fallback


def _size_figure(key: str, value: object) -> Decimal | None:
    if value is None:
        return None
    number = _decimal_of(value)
    if number is None:
        raise RuleError("sme_figure", f"{INDICATOR_LABELS[key]}应为数字，实际为“{value}”")
    if number < 0:
        raise RuleError("sme_negative", f"{INDICATOR_LABELS[key]}不能为负数，实际为 {value}")
    return number


def _size_figures(group: SizeGroup, raw: Mapping[str, object]) -> tuple[Decimal, ...]:
    figures = {key: _size_figure(key, value) for key, value in raw.items()}
    missing = [INDICATOR_LABELS[k] for k in group.indicators if figures[k] is None]
    if missing:
        needed = "和".join(INDICATOR_LABELS[k] for k in group.indicators)
        raise RuleError(
            "sme_missing",
            f"无法划型：缺少{'、'.join(missing)}（{group.name}按{needed}划型，R7）",
        )
    return tuple(figures[k] or Decimal(0) for k in group.indicators)


def sme_size_class(
    *,
    industry: IndustryCode,
    employees: int | None,
    revenue_10k: Decimal | None,
    assets_10k: Decimal | None,
    thresholds: Sequence[Mapping[str, object]] | None = None,
) -> str:
    """Size class "large" / "medium" / "small" / "micro" by the 2011 SME standard (R7).

    Reading of ``sme_size_thresholds.csv`` (工信部联企业〔2011〕300号): each row is an industry group,
    matched by section (``B``), division (``F51``), division range (``A01-A05``, ``G54-G58``), group
    (``G591``) or class (``K7010``), with ``except`` carving out a sub-code; the most specific match
    wins and "everything else" is the fallback.  ``indicator_1``/``indicator_2`` name the figures
    (employees in 人, revenue and assets in 万元).  A level is reached when EVERY indicator of the
    group is ≥ that level's minimum ("须同时满足所列指标的下限，否则下划一档"); levels are tried
    from large to small, and an enterprise reaching none is micro.  So large = all ≥ large_min
    (the standard's "X<1000 或 Y<40000 为中小微型" read the other way round).  A figure the group
    needs that is None raises ``sme_missing`` — never "micro"; a negative figure raises
    ``sme_negative``.  Figures the group does not use are ignored.
    """
    group = sme_size_group(industry, thresholds=thresholds)
    values = _size_figures(group, {"employees": employees, "revenue": revenue_10k, "assets": assets_10k})
    for level, minimums in zip(SIZE_LEVELS, group.minimums, strict=True):
        if all(v >= m for v, m in zip(values, minimums, strict=True)):
            return level
    return "micro"
