"""Pure arithmetic of the subsidies (R35, R36, R39) and the application window (R37).

No database, no Django models: every input is a value; parameter sets are read by
attribute (duck typing), so tests can pass simple objects.  Money is Decimal with
2 places, rounded half-up at each stored step (the base, the uncapped subsidy).

Worked example (R35, the check for a loan repaid in one sum at maturity):
10,000,000 元 outstanding for 365 days at 3.70 %, actual/360 → interest at the
reference rate 375,138.89 元; × 30 % → 112,541.67 元.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

INTEREST = "interest"
GUARANTEE_FEE = "guarantee_fee"
PER_LOAN = "per_loan"
PER_ENTERPRISE_YEAR = "per_enterprise_year"
LPR_AT_SETTLEMENT = "lpr_settlement"
LPR_AT_SIGNING = "lpr_signing"
CONTRACT = "contract"
MODE_BANK_GUARANTOR = "bank_guarantor"
FEE_YEAR_DAYS = 365  # annualising a guarantee fee (R36 flag)


def money(value: Decimal | int | str) -> Decimal:
    """Two places, half-up."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """12345.6 → '12,345.60' (for the human-readable steps)."""
    return f"{money(value):,.2f}"


def fmt_rate(value: Decimal) -> str:
    """3.7 → '3.70%', 30 → '30%'."""
    q = Decimal(value).quantize(Decimal("0.0001")).normalize()
    if q == q.to_integral_value():
        return f"{int(q)}%"
    return f"{q.quantize(CENT) if -q.as_tuple().exponent <= 2 else q}%"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Step:
    label: str
    expression: str
    value: Decimal


@dataclass(frozen=True)
class Calculation:
    """What was computed and why: stored with the subsidy and shown to enterprise and staff."""

    kind: str
    rule: str
    formula: str
    base: Decimal
    uncapped: Decimal
    amount: Decimal
    cap_applied: str = ""
    steps: tuple[Step, ...] = ()
    flags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rule": self.rule,
            "formula": self.formula,
            "base": str(self.base),
            "uncapped": str(self.uncapped),
            "amount": str(self.amount),
            "cap_applied": self.cap_applied,
            "steps": [{"label": s.label, "expression": s.expression, "value": str(s.value)} for s in self.steps],
            "flags": list(self.flags),
            **self.extra,
        }


# --------------------------------------------------------------------------- R35 interest


def interest_at_rate(*, principal: Decimal, days: int, rate_percent: Decimal, day_count_basis: int = 360) -> Decimal:
    """Interest on ``principal`` for ``days`` at ``rate_percent`` (actual/basis): the R35 one-sum check."""
    if days < 0:
        raise ValueError("days must not be negative")
    return money(Decimal(principal) * days * Decimal(rate_percent) / HUNDRED / day_count_basis)


def interest_subsidy_base(*, interest_paid: Decimal, contract_rate: Decimal, reference_rate: Decimal) -> Decimal:
    """R35: what the same day-by-day principal would have cost at the reference rate.

    interest paid (excl. penalty) × reference rate ÷ contract rate — exact for any schedule.
    """
    if contract_rate <= 0:
        raise ValueError("contract rate must be positive")
    return money(Decimal(interest_paid) * Decimal(reference_rate) / Decimal(contract_rate))


def _cap(
    uncapped: Decimal, *, cap: Decimal, cap_basis: str, already_received: Decimal,
    cost_paid: Decimal, other_subsidies: Decimal, cost_label: str,
) -> tuple[Decimal, str, list[Step]]:
    """Apply the programme cap (per loan or per enterprise-year) and R39 (cost never below zero)."""
    steps: list[Step] = []
    amount, applied = uncapped, ""
    if cap_basis == PER_ENTERPRISE_YEAR:
        room = max(ZERO, money(cap) - money(already_received))
        steps.append(Step("本年度剩余额度", f"{fmt(cap)} − 该企业本年已获 {fmt(already_received)}", room))
        if amount > room:
            amount, applied = room, PER_ENTERPRISE_YEAR
    elif amount > cap:
        amount, applied = money(cap), PER_LOAN
    r39_room = max(ZERO, money(cost_paid) - money(other_subsidies))
    if other_subsidies > 0 or amount > r39_room:
        steps.append(Step(f"R39 上限（{cost_label} − 其他补贴）", f"{fmt(cost_paid)} − {fmt(other_subsidies)}", r39_room))
    if amount > r39_room:
        amount, applied = r39_room, "no_double_subsidy"
    return amount, applied, steps


CAP_LABELS = {
    "": "未触及上限",
    PER_LOAN: "单笔贷款上限",
    PER_ENTERPRISE_YEAR: "单户企业年度上限",
    "no_double_subsidy": "叠加补贴不得使实付成本低于零（R39）",
}


def interest_subsidy(
    *, interest_paid: Decimal, contract_rate: Decimal, reference_rate: Decimal, share_percent: Decimal,
    cap: Decimal, cap_basis: str = PER_LOAN, already_received: Decimal = ZERO, other_subsidies: Decimal = ZERO,
) -> Calculation:
    """R35 (with R39): share × interest at the reference rate, capped."""
    base = interest_subsidy_base(interest_paid=interest_paid, contract_rate=contract_rate, reference_rate=reference_rate)
    uncapped = money(base * Decimal(share_percent) / HUNDRED)
    amount, applied, cap_steps = _cap(
        uncapped, cap=cap, cap_basis=cap_basis, already_received=already_received,
        cost_paid=interest_paid, other_subsidies=other_subsidies, cost_label="实付利息",
    )
    basis = "每户企业每自然年" if cap_basis == PER_ENTERPRISE_YEAR else "每笔贷款"
    steps = (
        Step("按基准利率计算的利息（补贴基数）",
             f"实付利息 {fmt(interest_paid)} × 基准利率 {fmt_rate(reference_rate)} ÷ 合同利率 {fmt_rate(contract_rate)}",
             base),
        Step("按比例计算的贴息", f"{fmt(base)} × {fmt_rate(share_percent)}", uncapped),
        Step("贴息上限", f"{fmt(cap)}（{basis}）", money(cap)),
        *cap_steps,
        Step("应补贴金额", CAP_LABELS[applied], amount),
    )
    return Calculation(
        kind=INTEREST, rule="R35",
        formula=(f"贴息 = 实付利息（不含罚息）× 基准利率 ÷ 合同利率 × {fmt_rate(share_percent)}，"
                 f"上限 {fmt(cap)} 元（{basis}）"),
        base=base, uncapped=uncapped, amount=amount, cap_applied=applied, steps=steps,
    )


# --------------------------------------------------------------------------- R36 guarantee fee


def annualised_fee_percent(*, fee_paid: Decimal, principal: Decimal, term_days: int) -> Decimal:
    """The guarantee fee as a percentage of principal per year of the loan's term (R36 flag)."""
    if principal <= 0 or term_days <= 0:
        raise ValueError("principal and term must be positive")
    return (Decimal(fee_paid) / Decimal(principal) * HUNDRED * FEE_YEAR_DAYS / term_days).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )


def guarantee_fee_subsidy(
    *, mode: str, fee_paid: Decimal, principal: Decimal, term_days: int, share_percent: Decimal, cap: Decimal,
    flag_percent: Decimal, cap_basis: str = PER_LOAN, already_received: Decimal = ZERO,
    other_subsidies: Decimal = ZERO,
) -> Calculation:
    """R36 (with R39): share × guarantee fee paid, 政银担 only, capped; a fee above the flag line is flagged."""
    basis = "每户企业每自然年" if cap_basis == PER_ENTERPRISE_YEAR else "每笔贷款"
    formula = f"担保费补贴 = 实付担保费 × {fmt_rate(share_percent)}，上限 {fmt(cap)} 元（{basis}），仅限政银担模式"
    if mode != MODE_BANK_GUARANTOR:
        return Calculation(
            kind=GUARANTEE_FEE, rule="R36", formula=formula, base=ZERO, uncapped=ZERO, amount=ZERO,
            steps=(Step("应补贴金额", "政银模式贷款没有担保费，不适用担保费补贴", ZERO),),
        )
    uncapped = money(Decimal(fee_paid) * Decimal(share_percent) / HUNDRED)
    amount, applied, cap_steps = _cap(
        uncapped, cap=cap, cap_basis=cap_basis, already_received=already_received,
        cost_paid=fee_paid, other_subsidies=other_subsidies, cost_label="实付担保费",
    )
    annual = annualised_fee_percent(fee_paid=fee_paid, principal=principal, term_days=term_days)
    flags: tuple[str, ...] = ()
    if annual > flag_percent:
        flags = (f"担保费年化费率 {fmt_rate(annual.quantize(CENT))} 高于 {fmt_rate(flag_percent)}，需重点复核（R36）",)
    steps = (
        Step("按比例计算的补贴", f"实付担保费 {fmt(fee_paid)} × {fmt_rate(share_percent)}", uncapped),
        Step("年化担保费率",
             f"{fmt(fee_paid)} ÷ 本金 {fmt(principal)} × {FEE_YEAR_DAYS} ÷ 期限 {term_days} 天",
             annual.quantize(CENT)),
        Step("补贴上限", f"{fmt(cap)}（{basis}）", money(cap)),
        *cap_steps,
        Step("应补贴金额", CAP_LABELS[applied], amount),
    )
    return Calculation(
        kind=GUARANTEE_FEE, rule="R36", formula=formula, base=money(fee_paid), uncapped=uncapped, amount=amount,
        cap_applied=applied, steps=steps, flags=flags, extra={"annualised_fee_percent": str(annual)},
    )


# --------------------------------------------------------------------------- reference rate, eligibility, window


def lpr_on(on: date, table: Sequence[tuple[date, Decimal]]) -> tuple[Decimal, date]:
    """The 1-year LPR in force on ``on`` and the date it took effect (``table`` sorted or not)."""
    rows = sorted(table)
    idx = bisect_right([d for d, _ in rows], on) - 1
    if idx < 0:
        raise ValueError(f"没有 {on.isoformat()} 当日适用的一年期 LPR")
    return Decimal(rows[idx][1]).quantize(CENT), rows[idx][0]


def reference_rate(
    *, basis: str, settled_on: date, signed_on: date, contract_rate: Decimal,
    lpr_table: Sequence[tuple[date, Decimal]],
) -> tuple[Decimal, str]:
    """R35: the reference rate and a plain description of where it came from."""
    if basis == CONTRACT:
        return Decimal(contract_rate), "合同利率"
    on, what = (signed_on, "签约日") if basis == LPR_AT_SIGNING else (settled_on, "结清日")
    rate, since = lpr_on(on, lpr_table)
    return rate, f"{what} {on.isoformat()} 适用的1年期LPR（{since.isoformat()} 起执行）"


def ineligibility_reason(*, settled: bool, ever_overdue: bool, compensated: bool) -> str:
    """Why a loan gets no subsidy (R35, R36, R28), in plain Chinese; '' when it is eligible."""
    if not settled:
        return "该笔贷款尚未结清，结清后才能享受补贴"
    if ever_overdue:
        return "该笔贷款曾经逾期，按规定不能享受贴息和担保费补贴"
    if compensated:
        return "该笔贷款已由风险补偿资金池代偿，按规定不能享受贴息和担保费补贴"
    return ""


WINDOW_OPEN = "open"
WINDOW_NOT_YET = "not_yet"
WINDOW_CLOSED = "closed"
WINDOW_UNSET = "unset"


def application_window(*, opens: date | None, closes: date | None, on: date) -> str:
    """R37: is the application window open on ``on``?"""
    if opens is None or closes is None:
        return WINDOW_UNSET
    if on < opens:
        return WINDOW_NOT_YET
    if on > closes:
        return WINDOW_CLOSED
    return WINDOW_OPEN


# --------------------------------------------------------------------------- a whole loan


@dataclass(frozen=True)
class LoanFacts:
    """What the register knows about a loan at settlement."""

    mode: str
    principal: Decimal
    annual_rate: Decimal
    signed_on: date
    disbursed_on: date
    matures_on: date
    settled_on: date | None
    interest_paid: Decimal
    fee_paid: Decimal
    settled: bool
    ever_overdue: bool
    compensated: bool


def loan_subsidies(
    *, loan: LoanFacts, params: Any, lpr_table: Sequence[tuple[date, Decimal]],
    already_received: dict[str, Decimal] | None = None, other_subsidies: dict[str, Decimal] | None = None,
) -> dict[str, Calculation]:
    """Every subsidy a settled loan earns, by kind ({} for an ineligible loan: it gets nothing).

    ``params`` has the ParameterSet's subsidy attributes; ``already_received`` is what the
    enterprise already got this calendar year by kind (per-enterprise-year caps only).
    """
    if ineligibility_reason(settled=loan.settled and loan.settled_on is not None,
                            ever_overdue=loan.ever_overdue, compensated=loan.compensated):
        return {}
    got = already_received or {}
    other = other_subsidies or {}
    rate, source = reference_rate(
        basis=params.interest_reference_rate, settled_on=loan.settled_on, signed_on=loan.signed_on,
        contract_rate=loan.annual_rate, lpr_table=lpr_table,
    )
    days = (loan.settled_on - loan.disbursed_on).days
    interest = interest_subsidy(
        interest_paid=loan.interest_paid, contract_rate=loan.annual_rate, reference_rate=rate,
        share_percent=params.interest_subsidy_percent, cap=params.interest_subsidy_cap,
        cap_basis=params.interest_subsidy_cap_basis, already_received=got.get(INTEREST, ZERO),
        other_subsidies=other.get(INTEREST, ZERO),
    )
    check = interest_at_rate(principal=loan.principal, days=days, rate_percent=rate,
                             day_count_basis=params.day_count_basis)
    flags = interest.flags
    if interest.base > check + interest_at_rate(principal=loan.principal, days=1, rate_percent=rate,
                                                day_count_basis=params.day_count_basis):
        flags = (*flags, f"按实付利息推算的基数 {fmt(interest.base)} 高于全额本金占用 {days} 天的利息 {fmt(check)}，"
                         "请核对银行报送的利息")
    result = {INTEREST: replace(interest, flags=flags, extra={
        "reference_rate": {"rate": str(rate), "source": source, "basis": params.interest_reference_rate},
        "check": {"label": f"一次还本付息核对值：本金 × {days} 天 × 基准利率 ÷ {params.day_count_basis}",
                  "days": days, "value": str(check)},
    })}
    if loan.mode == MODE_BANK_GUARANTOR:
        result[GUARANTEE_FEE] = guarantee_fee_subsidy(
            mode=loan.mode, fee_paid=loan.fee_paid, principal=loan.principal,
            term_days=max(1, (loan.matures_on - loan.disbursed_on).days),
            share_percent=params.fee_subsidy_percent, cap=params.fee_subsidy_cap,
            cap_basis=params.fee_subsidy_cap_basis, flag_percent=params.fee_flag_percent,
            already_received=got.get(GUARANTEE_FEE, ZERO), other_subsidies=other.get(GUARANTEE_FEE, ZERO),
        )
    return result
