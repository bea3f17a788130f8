"""Pure arithmetic and checks of compensation claims and recoveries (R18–R30), no database.

Statuses are plain strings here (the TextChoices live in ``fund.models.claims``) so this
module stays importable without Django models.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # R25: at most 10 MB per file

# --- documents (R25) -------------------------------------------------------------------

CLAIM_FORM = "claim_form"
LOAN_CONTRACT = "loan_contract"
DISBURSEMENT_VOUCHER = "disbursement_voucher"
OVERDUE_PROOF = "overdue_proof"
COLLECTION_RECORD = "collection_record"
LOSS_CALCULATION = "loss_calculation"
GUARANTEE_CONTRACT = "guarantee_contract"
GUARANTOR_PAYMENT_VOUCHER = "guarantor_payment_voucher"
COURT_NOTICE = "court_notice"

BASE_DOCUMENTS = (CLAIM_FORM, LOAN_CONTRACT, DISBURSEMENT_VOUCHER, OVERDUE_PROOF, COLLECTION_RECORD,
                  LOSS_CALCULATION)
GUARANTOR_DOCUMENTS = (GUARANTEE_CONTRACT, GUARANTOR_PAYMENT_VOUCHER)

PDF, JPEG, PNG, XLSX = "pdf", "jpeg", "png", "xlsx"
CONTENT_TYPES = {
    PDF: "application/pdf",
    JPEG: "image/jpeg",
    PNG: "image/png",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", XLSX: ".xlsx"}


def required_document_kinds(*, mode: str, require_court_notice: bool) -> tuple[str, ...]:
    """The typed attachments a claim needs before submission (R25)."""
    kinds = BASE_DOCUMENTS
    if mode == "bank_guarantor":
        kinds += GUARANTOR_DOCUMENTS
    if require_court_notice:
        kinds += (COURT_NOTICE,)
    return kinds


def missing_document_kinds(*, required: Iterable[str], present: Iterable[str]) -> list[str]:
    have = set(present)
    return [kind for kind in required if kind not in have]


def sniff_document_type(head: bytes) -> str | None:
    """The file's type by its magic bytes: pdf, jpeg, png, or ``"zip"`` (a possible xlsx)."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def is_xlsx_listing(names: Iterable[str]) -> bool:
    """A zip archive is an xlsx workbook when it holds [Content_Types].xml and xl/workbook.xml."""
    members = set(names)
    return "[Content_Types].xml" in members and "xl/workbook.xml" in members


def allowed_types_for(kind: str) -> tuple[str, ...]:
    """PDF, JPEG or PNG for every document; the bank's loss calculation may also be an xlsx."""
    return (PDF, JPEG, PNG, XLSX) if kind == LOSS_CALCULATION else (PDF, JPEG, PNG)


def document_error(*, kind: str, detected: str | None, size: int) -> str | None:
    """Why an upload is refused (Chinese), or None when it is acceptable."""
    if size <= 0:
        return "文件为空"
    if size > MAX_DOCUMENT_BYTES:
        return f"文件过大：{size / 1024 / 1024:.1f} MB，单个文件不得超过 10 MB"
    allowed = allowed_types_for(kind)
    if detected not in allowed:
        names = "、".join(t.upper() for t in allowed)
        return f"文件类型不符：此类材料只接受 {names}（按文件内容识别，不看扩展名）"
    return None


# --- filing (R23, R24, R34) ------------------------------------------------------------


def filing_deadline(*, nonperforming_since: date, deadline_days: int) -> date:
    """The last day a claim may be filed (R24)."""
    return nonperforming_since + timedelta(days=deadline_days)


def claim_filing_errors(
    *,
    overdue_days: int,
    nonperforming_since: date | None,
    claim_date: date,
    overdue_threshold: int,
    deadline_days: int,
    loan_settled: bool = False,
) -> list[tuple[str, str]]:
    """Every reason a claim may not be filed on ``claim_date``, as (rule, Chinese message).

    The loan must be overdue more than the threshold (R23) and the claim filed no later than
    ``deadline_days`` after the loan first became non-performing (R24). A partner's suspension
    is never a reason (R34), so it is not an input here.
    """
    errors: list[tuple[str, str]] = []
    if loan_settled:
        errors.append(("R20", "贷款已结清，没有可补偿的未偿本金"))
        return errors
    if overdue_days <= overdue_threshold:
        errors.append(("R23", f"贷款逾期 {overdue_days} 天，须逾期超过 {overdue_threshold} 天方可申请补偿"))
    if nonperforming_since is None:
        if overdue_days > overdue_threshold:
            errors.append(("R24", "贷款尚未记录首次不良日期，无法核对申请期限，请先报送贷款状态"))
        return errors
    deadline = filing_deadline(nonperforming_since=nonperforming_since, deadline_days=deadline_days)
    if claim_date > deadline:
        errors.append((
            "R24",
            f"已超过申请期限：贷款于 {nonperforming_since:%Y-%m-%d} 首次不良，须在 {deadline_days} 天内"
            f"（{deadline:%Y-%m-%d} 前）申请，申请日为 {claim_date:%Y-%m-%d}",
        ))
    return errors


# --- calculation (R18–R22, R26, R3) ----------------------------------------------------


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """Money as stored in JSON: a plain two-decimal string."""
    return f"{money(value):.2f}"


def show(value: Decimal) -> str:
    """Money as shown in a label: thousands separators, two decimals."""
    return f"{money(value):,.2f}"


@dataclass(frozen=True)
class ClaimCalculation:
    """The claim amount with every input and cap, as stored with the claim (R26)."""

    unpaid_principal: Decimal
    unpaid_interest: Decimal
    pool_share_percent: Decimal
    share_amount: Decimal
    result: Decimal
    steps: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)

    def as_json(self, **context: Any) -> dict[str, Any]:
        return {
            **context,
            "inputs": dict(self.inputs),
            "steps": list(self.steps),
            "share_amount": fmt(self.share_amount),
            "result": fmt(self.result),
        }


def pool_share_amount(*, unpaid_principal: Decimal, pool_share_percent: Decimal) -> Decimal:
    """Unpaid principal × the pool's share (R18/R19/R20); interest never enters."""
    return money(Decimal(unpaid_principal) * Decimal(pool_share_percent) / HUNDRED)


def bank_cap_room(
    *, bank_cap_percent: Decimal, bank_prior_loss: Decimal, bank_prior_compensation: Decimal,
    unpaid_principal: Decimal,
) -> Decimal:
    """What R22 still allows to this bank: cap % × (its loss incl. this claim) − compensation so far, ≥ 0."""
    total_loss = Decimal(bank_prior_loss) + Decimal(unpaid_principal)
    room = money(total_loss * Decimal(bank_cap_percent) / HUNDRED) - Decimal(bank_prior_compensation)
    return max(money(room), ZERO)


def claim_calculation(
    *,
    unpaid_principal: Decimal,
    pool_share_percent: Decimal,
    share_rule: str,
    unpaid_interest: Decimal = ZERO,
    bank_cap_enabled: bool = False,
    bank_cap_percent: Decimal = Decimal("80"),
    bank_prior_loss: Decimal = ZERO,
    bank_prior_compensation: Decimal = ZERO,
    pool_balance: Decimal | None = None,
) -> ClaimCalculation:
    """Claim amount = unpaid principal × pool share, then the R22 cap, then the pool balance (R3, R26).

    ``pool_balance`` None means "not applied yet" (a draft's preview may omit it).
    """
    if unpaid_principal <= 0:
        raise ValueError("未偿本金应为正数")
    share = pool_share_amount(unpaid_principal=unpaid_principal, pool_share_percent=pool_share_percent)
    steps: list[dict[str, Any]] = [{
        "code": share_rule,
        "label": f"未偿本金 {show(unpaid_principal)} × 资金池分担比例 {pool_share_percent:.2f}%",
        "applied": True,
        "amount": fmt(share),
    }]
    amount = share
    inputs = {
        "unpaid_principal": fmt(unpaid_principal),
        "unpaid_interest": fmt(unpaid_interest),
        "pool_share_percent": f"{Decimal(pool_share_percent):.2f}",
    }
    if bank_cap_enabled:
        room = bank_cap_room(
            bank_cap_percent=bank_cap_percent, bank_prior_loss=bank_prior_loss,
            bank_prior_compensation=bank_prior_compensation, unpaid_principal=unpaid_principal,
        )
        applied = room < amount
        amount = min(amount, room)
        inputs |= {"bank_cap_percent": f"{Decimal(bank_cap_percent):.2f}", "bank_prior_loss": fmt(bank_prior_loss),
                   "bank_prior_compensation": fmt(bank_prior_compensation)}
        steps.append({
            "code": "R22",
            "label": (f"单家银行累计补偿上限：{Decimal(bank_cap_percent):.2f}% × 该行累计损失 "
                      f"{show(Decimal(bank_prior_loss) + Decimal(unpaid_principal))} − 已获补偿 "
                      f"{show(bank_prior_compensation)} = {show(room)}"),
            "applied": applied, "limit": fmt(room), "amount": fmt(amount),
        })
    else:
        steps.append({"code": "R22", "label": "单家银行累计补偿上限未启用", "applied": False, "amount": fmt(amount)})
    if pool_balance is not None:
        available = max(money(pool_balance), ZERO)
        applied = available < amount
        amount = min(amount, available)
        inputs["pool_balance"] = fmt(pool_balance)
        steps.append({
            "code": "R3", "label": f"资金池可用余额 {show(available)}", "applied": applied,
            "limit": fmt(available), "amount": fmt(amount),
        })
    return ClaimCalculation(
        unpaid_principal=money(unpaid_principal), unpaid_interest=money(unpaid_interest),
        pool_share_percent=Decimal(pool_share_percent), share_amount=share, result=money(amount),
        steps=steps, inputs=inputs,
    )


# --- recoveries (R30) ------------------------------------------------------------------


def net_recovery(*, gross: Decimal, costs: Decimal) -> Decimal:
    """Gross recovery − documented enforcement costs, never below zero (R30)."""
    if gross < 0 or costs < 0:
        raise ValueError("追偿金额和费用不得为负数")
    return max(money(Decimal(gross) - Decimal(costs)), ZERO)


def recovery_refund(
    *, net: Decimal, pool_paid: Decimal, unpaid_principal: Decimal, refunded_before: Decimal = ZERO
) -> Decimal:
    """The pool's refund from one recovery (R30).

    net × (pool paid ÷ unpaid principal claimed), capped so that cumulative refunds never
    exceed what the pool paid; never negative.
    """
    if unpaid_principal <= 0 or pool_paid <= 0 or net <= 0:
        return ZERO
    share = money(Decimal(net) * Decimal(pool_paid) / Decimal(unpaid_principal))
    room = max(money(Decimal(pool_paid) - Decimal(refunded_before)), ZERO)
    return min(share, room)


# --- working days (R29, R30): Monday–Friday; public holidays are not modelled ----------


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (Mon–Fri; start itself not counted)."""
    current, remaining = start, days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end ≤ start)."""
    if end <= start:
        return 0
    total_days = (end - start).days
    weeks, extra = divmod(total_days, 7)
    count = weeks * 5
    for offset in range(1, extra + 1):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count
