"""Pure arithmetic and checks of the programme (no database)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

HUNDRED = Decimal("100")
MIN_BANK_SHARE = Decimal("20")  # R19

_PERCENT_FIELDS = (
    "bank_mode_pool_share", "bank_mode_bank_share", "guarantor_mode_pool_share",
    "guarantor_mode_guarantor_share", "guarantor_mode_bank_share", "bank_cap_percent",
    "bank_overdue_suspend_percent", "programme_overdue_stop_percent",
    "guarantor_compensation_suspend_percent", "pool_floor_percent", "interest_subsidy_percent",
    "fee_subsidy_percent", "fee_flag_percent",
)
_POSITIVE_FIELDS = (
    "treasury_contribution", "leverage_target", "enterprise_annual_cap", "interest_subsidy_cap",
    "fee_subsidy_cap", "max_term_months", "day_count_basis", "intake_row_cap", "claim_overdue_days",
)


def parameter_errors(
    values: Mapping[str, Any], *, programme_start: date | None = None, programme_end: date | None = None
) -> dict[str, list[str]]:
    """Every inconsistency in a parameter set, keyed by field (R18, R19 and ordering of dates)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    def num(field: str) -> Decimal | None:
        value = values.get(field)
        return None if value is None else Decimal(value)

    bank = [num("bank_mode_pool_share"), num("bank_mode_bank_share")]
    if None not in bank and sum(bank) != HUNDRED:  # type: ignore[arg-type]
        add("bank_mode_bank_share", f"政银模式各方分担比例之和应为 100%，现为 {sum(bank)}%（R18）")  # type: ignore[arg-type]
    guar = [num("guarantor_mode_pool_share"), num("guarantor_mode_guarantor_share"), num("guarantor_mode_bank_share")]
    if None not in guar and sum(guar) != HUNDRED:  # type: ignore[arg-type]
        add("guarantor_mode_bank_share", f"政银担模式各方分担比例之和应为 100%，现为 {sum(guar)}%（R19）")  # type: ignore[arg-type]
    for field in ("bank_mode_bank_share", "guarantor_mode_bank_share"):
        share = num(field)
        if share is not None and share < MIN_BANK_SHARE:
            add(field, f"银行分担比例不得低于 20%，现为 {share}%（R19）")
    for field in _PERCENT_FIELDS:
        value = num(field)
        if value is not None and not (0 <= value <= HUNDRED):
            add(field, f"比例应在 0% 到 100% 之间，现为 {value}%")
    for field in _POSITIVE_FIELDS:
        value = num(field)
        if value is not None and value <= 0:
            add(field, f"应为正数，现为 {value}")
    opens, closes = values.get("application_opens"), values.get("application_closes")
    if opens and closes and closes < opens:
        add("application_closes", f"补贴申请截止日期 {closes} 早于开始日期 {opens}")
    effective = values.get("effective_from")
    if effective and programme_end and effective > programme_end:
        add("effective_from", f"生效日期 {effective} 晚于项目结束日期 {programme_end}")
    return errors


def pool_share_percent(mode: str, params: Any) -> Decimal:
    """The pool's share of a loss for a loan's mode (R18, R19)."""
    if mode == "bank_guarantor":
        return Decimal(params.guarantor_mode_pool_share)
    return Decimal(params.bank_mode_pool_share)
