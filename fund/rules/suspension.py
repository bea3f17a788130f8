"""Suspension triggers (R31–R33, R32) and the cooperation decision they lead to (R5)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .ledger import CENT, money
from .leverage import HUNDRED, ratio

AUTOMATIC_RULES = ("R31", "R32", "R33")


def rate_percent(part: Decimal, whole: Decimal) -> Decimal:
    """part ÷ whole in percent with two decimals (half-up); 0 when there is nothing outstanding.

    Decisions compare this rounded figure with the threshold, so the rate a user sees is the
    rate the rule used (5.00 % is not above a 5 % line; 5.01 % is).
    """
    return ratio(Decimal(part) * HUNDRED, whole)


def _pct(value: Decimal) -> str:
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)}%"


def programme_stop_reasons(
    *, params: Any, programme_overdue_rate: Decimal, pool_balance: Decimal, contributed_capital: Decimal
) -> list[tuple[str, str]]:
    """Reasons that stop every new registration in the programme: (rule, Chinese reason)."""
    reasons: list[tuple[str, str]] = []
    floor = money(Decimal(contributed_capital) * Decimal(params.pool_floor_percent) / HUNDRED)
    if pool_balance < floor:
        reasons.append(("R33", f"资金池余额 {money(pool_balance):,} 元低于出资额的 "
                               f"{_pct(params.pool_floor_percent)}（{floor:,} 元），暂停新增备案（R33）"))
    if params.programme_overdue_stop_enabled and programme_overdue_rate >= Decimal(params.programme_overdue_stop_percent):
        reasons.append(("R32", f"全项目逾期率 {_pct(programme_overdue_rate)} 达到停办线 "
                               f"{_pct(params.programme_overdue_stop_percent)}，暂停新增备案（R32）"))
    return reasons


def bank_suspension_reasons(*, params: Any, overdue_rate: Decimal) -> list[tuple[str, str]]:
    """R31: a bank whose overdue rate exceeds the line is suspended from new registrations."""
    line = Decimal(params.bank_overdue_suspend_percent)
    if overdue_rate > line:
        return [("R31", f"逾期率 {_pct(overdue_rate)} 超过暂停线 {_pct(line)}（R31）")]
    return []


def guarantor_suspension_reasons(*, params: Any, compensation_rate: Decimal) -> list[tuple[str, str]]:
    """R32 (optional): a guarantor whose compensation rate exceeds the line is suspended."""
    line = Decimal(params.guarantor_compensation_suspend_percent)
    if params.guarantor_suspend_enabled and compensation_rate > line:
        return [("R32", f"担保机构代偿率 {_pct(compensation_rate)} 超过暂停线 {_pct(line)}（R32）")]
    return []


@dataclass(frozen=True)
class CooperationDecision:
    """What the suspension rules want for one partner: ``suspend``, ``reactivate`` or ``keep``."""

    action: str
    rule: str = ""
    reason: str = ""


def cooperation_decision(*, state: str, suspended_by_rule: str, reasons: list[tuple[str, str]]) -> CooperationDecision:
    """Decide a partner's state from the reasons that apply now (R5, R31–R33).

    ``suspended_by_rule`` is the rule of the change that suspended it ("" when staff did
    it by hand). A manual suspension is never lifted automatically; an ended partnership
    is never touched.
    """
    if state == "ended":
        return CooperationDecision("keep")
    if reasons:
        if state == "active":
            return CooperationDecision("suspend", reasons[0][0], "；".join(r for _, r in reasons))
        return CooperationDecision("keep")
    if state == "suspended" and suspended_by_rule in AUTOMATIC_RULES:
        return CooperationDecision(
            "reactivate", suspended_by_rule, f"{suspended_by_rule} 暂停条件已消除，自动恢复正常合作"
        )
    return CooperationDecision("keep")
