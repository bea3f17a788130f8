"""统一社会信用代码 (R6): charset, check character, registrant type."""

from __future__ import annotations

from ._base import RuleError, normalize_text

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
