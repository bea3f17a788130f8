"""Pure business-rule helpers for enterprise eligibility and loan terms.

Nothing in this module touches the database or Django models.  The reference tables (regions,
GB/T 4754-2017 divisions, the 2011 SME size thresholds, the 1-year LPR) are read from the CSV files
in ``registry/data`` and cached; every function that needs a table also accepts it as a keyword
argument, so the admin-editable copies in the database can be passed instead.

Rules implemented here (see the programme rules): R6 (credit code and 市(州)), R7 (SME size class),
R8 (service industry), R12 (rate cap).  Errors are raised as :class:`RuleError`, whose ``message`` is
Chinese text for bank staff saying what was wrong and what is expected.
"""

from __future__ import annotations

import csv
import functools
import math
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

DATA_DIR = Path(__file__).resolve().parent / "data"

CENT = Decimal("0.01")
RATE_QUANTUM = Decimal("0.0001")


class RuleError(ValueError):
    """A business-rule violation: ``code`` is a short English slug, ``message`` Chinese text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- text


_WHITESPACE = re.compile(r"\s+")


def normalize_text(value: str) -> str:
    """Strip all whitespace (incl. U+3000), fold full-width forms to half-width (NFKC), upper-case.

    NFKC runs again at the end so the result is stable: removing a space (``"E ̈"``, from NFKC of
    ``"E¨"``) or upper-casing can leave a sequence that only composes on a second pass.
    """
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", str(value)).upper())
    return unicodedata.normalize("NFKC", text)


def _number_to_text(value: object) -> str | None:
    """Digits of an integral number as Excel delivers it (65, 65.0, Decimal); None if not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, float | Decimal) and (not math.isfinite(value) or value != int(value)):
        return ""
    return str(int(value))


# --------------------------------------------------------------------------- reference tables


def _read_csv(name: str) -> tuple[dict[str, str], ...]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


class Region(NamedTuple):
    code: str
    name: str
    kind: str = "市"


class Division(NamedTuple):
    code: str
    section: str
    name: str
    service: bool


@functools.cache
def region_table() -> tuple[Region, ...]:
    """The province's 21 市(州) from ``regions.csv``."""
    return tuple(Region(r["code"], r["name"], r["kind"]) for r in _read_csv("regions.csv"))


@functools.cache
def division_table() -> tuple[Division, ...]:
    """The 97 GB/T 4754-2017 divisions (大类) from ``industry_divisions.csv``."""
    return tuple(
        Division(r["code"], r["section"], r["name"], r["service"] == "1")
        for r in _read_csv("industry_divisions.csv")
    )


@functools.cache
def section_table() -> tuple[dict[str, str], ...]:
    """The 20 GB/T 4754-2017 sections (门类) from ``industry_sections.csv``, as raw rows."""
    return _read_csv("industry_sections.csv")


@functools.cache
def lpr_table() -> tuple[tuple[date, Decimal], ...]:
    """1-year LPR history ``(effective_from, rate_percent)``, oldest first."""
    rows = _read_csv("lpr_1y.csv")
    return tuple(sorted((date.fromisoformat(r["effective_from"]), Decimal(r["rate_percent"])) for r in rows))


@functools.cache
def sme_threshold_table() -> tuple[dict[str, str], ...]:
    """Raw rows of ``sme_size_thresholds.csv`` (2011 SME standard)."""
    return _read_csv("sme_size_thresholds.csv")


# --------------------------------------------------------------------------- USCC (R6)

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_LOOKALIKES = {"O": "0", "I": "1", "S": "5", "Z": "2"}


def _check_uscc_chars(code: str) -> None:
    for pos, char in enumerate(code, start=1):
        if char not in USCC_CHARSET:
            hint = f"（是否应为 {_USCC_LOOKALIKES[char]}？）" if char in _USCC_LOOKALIKES else ""
            raise RuleError(
                "uscc_char",
                f"统一社会信用代码第 {pos} 位字符“{char}”无效："
                f"只能是数字和除 I、O、S、V、Z 以外的大写字母{hint}",
            )


def uscc_check_char(first17: str) -> str:
    """Check character of a credit code from its first 17 characters (GB 32100-2015, mod 31)."""
    body = normalize_text(first17)
    if len(body) != 17:
        raise RuleError("uscc_length", f"计算校验位需要统一社会信用代码的前 17 位，实际为 {len(body)} 位")
    _check_uscc_chars(body)
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def make_uscc(body17: str) -> str:
    """The 18-character credit code made of ``body17`` plus its check character."""
    body = normalize_text(body17)
    return body + uscc_check_char(body)


def _check_uscc_registrant(code: str, accept_individual_business: bool) -> None:
    """R6: registered by market regulation (``9``) as an enterprise (``1``; ``2`` only if accepted)."""
    if code[0] != "9":
        raise RuleError(
            "uscc_authority",
            f"统一社会信用代码第 1 位（登记管理部门）应为 9（市场监管部门登记的企业），"
            f"实际为 {code[0]}（R6）",
        )
    allowed = ("1", "2") if accept_individual_business else ("1",)
    if code[1] in allowed:
        return
    expected = "1（企业）或 2（个体工商户）" if accept_individual_business else "1（企业）"
    note = "；本计划不接受个体工商户" if code[1] == "2" else ""
    raise RuleError(
        "uscc_org_type",
        f"统一社会信用代码第 2 位（机构类别）应为 {expected}，实际为 {code[1]}{note}（R6）",
    )


def validate_uscc(value: str, *, accept_individual_business: bool = False) -> str:
    """Canonical 18-character credit code, or RuleError naming length, character, check or R6 type."""
    if value is None or not str(value).strip():
        raise RuleError("uscc_empty", "未填写统一社会信用代码，应为 18 位代码，如 91510100MA61234567")
    code = normalize_text(value)
    if len(code) != 18:
        raise RuleError("uscc_length", f"统一社会信用代码应为 18 位，实际为 {len(code)} 位（“{code}”）")
    _check_uscc_chars(code)
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise RuleError("uscc_check", f"统一社会信用代码校验位错误：应为 {expected}，实际为 {code[17]}")
    _check_uscc_registrant(code, accept_individual_business)
    return code


# --------------------------------------------------------------------------- regions (R6)

_PROVINCE_PREFIXES = ("四川省", "四川")


def _region_aliases(region: Region) -> set[str]:
    """Full name, and the short forms people write: 成都 for 成都市; 阿坝 and 阿坝州 for 阿坝…自治州."""
    name = normalize_text(region.name)
    aliases = {name}
    if name.endswith("自治州"):
        aliases |= {name[:2], name[:2] + "州"}
    elif name.endswith(("市", "州", "地区")):
        aliases.add(name.removesuffix("地区").removesuffix("市").removesuffix("州"))
    return aliases


@functools.lru_cache(maxsize=32)
def _region_index(rows: tuple[Region, ...]) -> dict[str, str]:
    index: dict[str, str] = {}
    for region in rows:
        index[region.code] = region.code
        index.update(dict.fromkeys(_region_aliases(region), region.code))
    return index


def _region_key(text: str, codes: Mapping[str, str]) -> str:
    if re.fullmatch(r"51\d{4}", text) and text not in codes:
        return text[:4] + "00"  # county code 51xxyy → its 市(州) 51xx00
    for prefix in _PROVINCE_PREFIXES:
        if text.startswith(prefix) and text.removeprefix(prefix) in codes:
            return text.removeprefix(prefix)
    return text


def normalize_region(value: object, *, table: Iterable[Region] | None = None) -> str:
    """6-digit code of one of the province's 21 市(州) from a code, county code, full or short name."""
    rows = tuple(Region(*r) for r in (region_table() if table is None else table))
    index = _region_index(rows)
    number = _number_to_text(value)
    text = number if number is not None else normalize_text("" if value is None else str(value))
    code = index.get(_region_key(text, index))
    if code is None:
        raise RuleError(
            "region_unknown",
            f"所在市(州)“{value}”不是本省 {len(rows)} 个市(州)之一，应填写如 510100 或 成都市",
        )
    return code


# --------------------------------------------------------------------------- industries (R8)


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


# --------------------------------------------------------------------------- SME size class (R7)

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


# --------------------------------------------------------------------------- LPR and rate cap (R12)


def _as_date(on: date) -> date:
    return on.date() if isinstance(on, datetime) else on


def lpr_in_force(on: date, *, table: Sequence[tuple[date, Decimal]] | None = None) -> Decimal:
    """1-year LPR (percent, 2 places) in force on ``on``: the latest ``effective_from`` ≤ ``on``."""
    rows = lpr_table() if table is None else sorted((_as_date(d), Decimal(r)) for d, r in table)
    on = _as_date(on)
    idx = bisect_right([d for d, _ in rows], on) - 1
    if idx < 0:
        first = f"（最早为 {rows[0][0].isoformat()}）" if rows else ""
        raise RuleError("lpr_unknown", f"没有 {on.isoformat()} 当日适用的一年期 LPR{first}")
    return Decimal(rows[idx][1]).quantize(CENT)


def rate_cap(on: date, *, cap_bp: int = 50, table: Sequence[tuple[date, Decimal]] | None = None) -> Decimal:
    """R12: the highest allowed annual contract rate (percent) for a loan signed on ``on``."""
    return (lpr_in_force(on, table=table) + Decimal(cap_bp) / 100).quantize(CENT)


# --------------------------------------------------------------------------- cell parsers

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
