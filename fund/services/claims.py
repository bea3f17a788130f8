"""Compensation claims: filing, documents, the review workflow and payment through the ledger (R20–R29).

The life of a claim is one table, ``ALLOWED_TRANSITIONS``, changed only by
``claim_transition`` (the ``claim_submit`` … ``claim_pay`` wrappers name the moves). Each
move checks the table, the actor's role and maker-checker (R27), locks the claim row,
writes its status change and an audit event in the same transaction, and runs in
``transaction.atomic(durable=True)``. Payment posts through ``fund.services.ledger.pool_pay``
with a key derived from the claim, so a claim is paid exactly once.

Documents and the guarantor's payment are in ``fund.services.claim_documents``; recoveries
and refunds (R30) in ``fund.services.recoveries``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fund.hooks import UnpaidItem, register_guarantor_payout_source, register_unpaid_source
from fund.models import (
    Claim,
    ClaimStatus,
    ClaimStatusChange,
    DocumentKind,
    Loan,
    LoanMode,
    LoanStatus,
    ParameterSet,
)
from fund.rules import claims as claim_rules
from fund.rules import pool_share_percent
from fund.selectors.claims import (
    approved_unpaid_claims,
    bank_claim_totals,
    guarantor_paid_total,
    guarantor_payouts_by_guarantor,
    live_claim_for,
    present_document_kinds,
    required_documents,
)
from fund.selectors.ledger import pool_balance
from fund.selectors.programme import parameters_in_force
from fund.services.ledger import pool_pay
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import User

S = ClaimStatus
ZERO = Decimal("0.00")

# R27: the claim's life. Returning for correction is a move back to DRAFT with a comment.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.DRAFT, S.REJECTED}),
    S.UNDER_REVIEW: frozenset({S.APPROVED, S.DRAFT, S.REJECTED}),
    S.APPROVED: frozenset({S.PAID}),
    S.PAID: frozenset(),
    S.REJECTED: frozenset(),
}
# Who may make the move into each status: the loan's bank ("bank"), or bureau staff holding one of the permissions.
TRANSITION_PERMISSIONS: dict[str, tuple[str, ...]] = {
    S.SUBMITTED: ("bank",),
    S.UNDER_REVIEW: ("fund.handle_claim_review",),
    S.APPROVED: ("fund.approve_claim",),
    S.PAID: ("fund.pay_claim",),
    S.DRAFT: ("fund.handle_claim_review", "fund.approve_claim"),
    S.REJECTED: ("fund.handle_claim_review", "fund.approve_claim"),
}
ACTION_LABELS = {
    S.SUBMITTED: "提交", S.UNDER_REVIEW: "开始审核", S.APPROVED: "批准", S.PAID: "支付",
    S.DRAFT: "退回补正", S.REJECTED: "驳回",
}
EVENT_TYPES = {
    S.SUBMITTED: "claim.submitted", S.UNDER_REVIEW: "claim.review_started", S.APPROVED: "claim.approved",
    S.PAID: "claim.paid", S.DRAFT: "claim.returned", S.REJECTED: "claim.rejected",
}


def pay_idempotency_key(claim: Claim) -> str:
    """The ledger key of a claim's payment: one per claim, so the pool pays it once."""
    return f"claim-pay-{claim.pk}"


# --- permissions -------------------------------------------------------------------------


def _forbidden(message: str, **detail: Any) -> BusinessError:
    return BusinessError(message, code="forbidden", rule="R27", **detail)


def _require_bank_user(actor: User, loan: Loan, action: str) -> None:
    if not getattr(actor, "bank_id", None) or actor.bank_id != loan.bank_id:
        raise _forbidden(f"只有贷款所属银行（{loan.bank.name}）的用户可以{action}")


def _require_staff(actor: User, perms: tuple[str, ...], action: str) -> None:
    if not (actor.is_staff and actor.is_bureau and any(actor.has_perm(p) for p in perms)):
        raise _forbidden(f"您没有{action}风险补偿申请的权限")


def _require_separation(claim: Claim, to: str, actor: User) -> None:
    """R27: the reviewer, the approver and the payer are different people, never the submitter."""
    earlier = {"提交人": claim.submitted_by_id}
    if to == S.APPROVED:
        earlier["审核人"] = claim.reviewed_by_id
    if to == S.PAID:
        earlier |= {"审核人": claim.reviewed_by_id, "批准人": claim.approved_by_id}
    for role, user_id in earlier.items():
        if user_id is not None and user_id == actor.pk:
            raise BusinessError(
                f"您是本申请的{role}，不能再{ACTION_LABELS[to]}（审核、批准、支付须由不同人员办理）",
                code="separation_of_duties", rule="R27",
            )


def _check_actor(claim: Claim, to: str, actor: User) -> None:
    perms = TRANSITION_PERMISSIONS[to]
    if perms == ("bank",):
        _require_bank_user(actor, claim.loan, ACTION_LABELS[to] + "补偿申请")
        return
    _require_staff(actor, perms, ACTION_LABELS[to])
    _require_separation(claim, to, actor)


# --- calculation (R20, R22, R26, R3) -------------------------------------------------------


def _params_for(claim: Claim, on: date) -> ParameterSet:
    return parameters_in_force(programme=claim.programme, on=on)


def claim_calculate(*, claim: Claim, params: ParameterSet, on: date, stage: str) -> dict[str, Any]:
    """The claim amount under ``params`` with the caps as of ``on``; returns the JSON stored with the claim."""
    mode = claim.loan.mode
    loss, compensation = bank_claim_totals(
        programme=claim.programme, bank_id=claim.loan.bank_id, exclude_claim_id=claim.pk
    )
    calc = claim_rules.claim_calculation(
        unpaid_principal=claim.unpaid_principal, unpaid_interest=claim.unpaid_interest,
        pool_share_percent=pool_share_percent(mode, params),
        share_rule="R19" if mode == LoanMode.BANK_GUARANTOR else "R18",
        bank_cap_enabled=params.bank_cap_enabled, bank_cap_percent=params.bank_cap_percent,
        bank_prior_loss=loss, bank_prior_compensation=compensation,
        pool_balance=pool_balance(programme=claim.programme, as_of=on),
    )
    return calc.as_json(
        stage=stage, claim_date=claim.claim_date.isoformat(), calculated_on=on.isoformat(),
        parameter_set_id=params.pk, parameter_set_effective_from=params.effective_from.isoformat(),
        mode=mode, mode_label=str(LoanMode(mode).label),
    )


def _apply_calculation(claim: Claim, params: ParameterSet, on: date, stage: str) -> None:
    calculation = claim_calculate(claim=claim, params=params, on=on, stage=stage)
    claim.calculation = calculation
    claim.parameter_set = params
    claim.pool_share_percent = Decimal(calculation["inputs"]["pool_share_percent"])
    # the amount due under the rules (after R22); R3 is applied by the ledger when paying
    r22 = next(s for s in calculation["steps"] if s["code"] == "R22")
    claim.claim_amount = Decimal(r22["amount"])


# --- filing --------------------------------------------------------------------------------


def _check_filing(*, loan: Loan, on: date, params: ParameterSet) -> None:
    errors = claim_rules.claim_filing_errors(
        overdue_days=loan.overdue_days, nonperforming_since=loan.nonperforming_since, claim_date=on,
        overdue_threshold=params.claim_overdue_days, deadline_days=params.claim_deadline_days,
        loan_settled=loan.status == LoanStatus.SETTLED,
    )
    if errors:
        rule, message = errors[0]
        raise BusinessError(message, code="not_claimable", rule=rule, reasons=[m for _, m in errors])


def _check_no_live_claim(loan: Loan, *, excluding: Claim | None = None) -> None:
    live = live_claim_for(loan=loan)
    if live is None or (excluding is not None and live.pk == excluding.pk):
        return
    if live.status == S.PAID:
        raise BusinessError(
            f"该贷款的损失已由申请 {live.number} 获得补偿，同一损失不能再次申请", code="already_compensated", rule="R28"
        )
    raise BusinessError(
        f"该贷款已有未办结的补偿申请 {live.number}（{live.get_status_display()}），每笔贷款只能有一个未办结申请",
        code="open_claim_exists", rule="R28",
    )


def _check_amounts(loan: Loan, unpaid_principal: Decimal, unpaid_interest: Decimal) -> None:
    """R20: 0 < unpaid principal ≤ the registered balance (≤ the loan amount once written off, balance 0)."""
    if unpaid_principal <= 0:
        raise BusinessError("未偿本金应大于零", code="bad_amount", rule="R20")
    written_off = loan.status == LoanStatus.WRITTEN_OFF
    limit, what = (loan.principal, "贷款金额") if written_off else (loan.outstanding_principal, "贷款登记的余额")
    if unpaid_principal > limit:
        raise BusinessError(
            f"申请的未偿本金 {unpaid_principal:,.2f} 元超过{what} {limit:,.2f} 元", code="bad_amount", rule="R20",
        )
    if unpaid_interest < 0:
        raise BusinessError("欠息不能为负数", code="bad_amount")


@transaction.atomic
def claim_create(
    *, loan: Loan, actor: User, unpaid_principal: Decimal | None = None, unpaid_interest: Decimal = ZERO,
    note: str = "", on: date | None = None,
) -> Claim:
    """A bank opens a draft claim on its non-performing loan (R23, R24, R28; never blocked by R34)."""
    on = on or timezone.localdate()
    _require_bank_user(actor, loan, "申请补偿")
    loan = Loan.objects.select_for_update(of=("self",)).select_related("programme", "bank").get(pk=loan.pk)
    params = parameters_in_force(programme=loan.programme, on=on)
    _check_no_live_claim(loan)
    _check_filing(loan=loan, on=on, params=params)
    if unpaid_principal is None and loan.outstanding_principal <= 0:
        raise BusinessError("贷款登记余额为零（如已核销），请填写申请日的未偿本金", code="bad_amount", rule="R20")
    principal = claim_rules.money(loan.outstanding_principal if unpaid_principal is None else unpaid_principal)
    interest = claim_rules.money(unpaid_interest or ZERO)
    _check_amounts(loan, principal, interest)
    claim = Claim(programme=loan.programme, loan=loan, unpaid_principal=principal, unpaid_interest=interest,
                  note=note, claim_date=on, created_by=actor)
    _apply_calculation(claim, params, on, stage="preview")
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        _check_no_live_claim(loan)
        raise
    record_event(actor=actor, event_type="claim.created", obj=claim, loan=loan.pk,
                 unpaid_principal=principal, unpaid_interest=interest)
    return claim


@transaction.atomic
def claim_update(
    *, claim: Claim, actor: User, unpaid_principal: Decimal, unpaid_interest: Decimal = ZERO, note: str = ""
) -> Claim:
    """The bank corrects its draft (also after a return for correction)."""
    claim = Claim.objects.select_for_update(of=("self",)).select_related("loan__bank", "programme").get(pk=claim.pk)
    _require_bank_user(actor, claim.loan, "修改补偿申请")
    if claim.status != S.DRAFT:
        raise BusinessError("只有草稿状态的申请可以修改", code="not_draft")
    principal, interest = claim_rules.money(unpaid_principal), claim_rules.money(unpaid_interest or ZERO)
    _check_amounts(claim.loan, principal, interest)
    claim.unpaid_principal, claim.unpaid_interest, claim.note = principal, interest, note
    today = timezone.localdate()
    _apply_calculation(claim, _params_for(claim, today), today, stage="preview")
    claim.save(update_fields=["unpaid_principal", "unpaid_interest", "note", "calculation", "parameter_set",
                              "pool_share_percent", "claim_amount"])
    record_event(actor=actor, event_type="claim.updated", obj=claim, unpaid_principal=principal,
                 unpaid_interest=interest)
    return claim


# --- the workflow (R27–R29) ----------------------------------------------------------------


def _enter_submitted(claim: Claim, actor: User, on: date, comment: str) -> None:
    params = _params_for(claim, on)
    _check_filing(loan=claim.loan, on=on, params=params)
    _check_no_live_claim(claim.loan, excluding=claim)
    _check_amounts(claim.loan, claim.unpaid_principal, claim.unpaid_interest)
    missing = claim_rules.missing_document_kinds(
        required=required_documents(claim=claim, params=params), present=present_document_kinds(claim=claim)
    )
    if missing:
        labels = "、".join(str(DocumentKind(k).label) for k in missing)
        raise BusinessError(f"申请材料不全，缺少：{labels}", code="documents_missing", rule="R25", missing=missing)
    if claim.loan.mode == LoanMode.BANK_GUARANTOR:
        _check_guarantor_paid(claim, params)
    claim.claim_date = on
    _apply_calculation(claim, params, on, stage="submitted")
    claim.submitted_by, claim.submitted_at = actor, timezone.now()
    claim.review_due_on = claim_rules.add_working_days(on, params.review_sla_working_days)
    claim.return_comment = ""
    claim.review_overdue_flagged_at = None


def _check_guarantor_paid(claim: Claim, params: ParameterSet) -> None:
    share = Decimal(params.guarantor_mode_guarantor_share)
    due = claim_rules.money(claim.unpaid_principal * share / 100)
    paid = guarantor_paid_total(loan=claim.loan)
    if paid < due:
        raise BusinessError(
            f"政银担贷款须在担保机构按 {share:.0f}% 向银行代偿后方可申请：应代偿 {due:,.2f} 元，已登记 {paid:,.2f} 元",
            code="guarantor_not_paid", rule="R19", due=due, paid=paid,
        )


def _enter_under_review(claim: Claim, actor: User, on: date, comment: str) -> None:
    claim.reviewed_by, claim.review_started_at = actor, timezone.now()


def _enter_approved(claim: Claim, actor: User, on: date, comment: str) -> None:
    # the parameters stay those of the claim date; R22 and the pool balance are as of approval
    _apply_calculation(claim, claim.parameter_set or _params_for(claim, claim.claim_date), on, stage="approved")
    claim.calculation["approved_on"] = on.isoformat()
    claim.approved_by, claim.approved_at = actor, timezone.now()


def _enter_paid(claim: Claim, actor: User, on: date, comment: str) -> None:
    amount = claim.claim_amount or ZERO
    payment = None
    if amount > 0:
        if pool_balance(programme=claim.programme, as_of=on) <= 0:
            raise BusinessError("资金池当前没有可用余额，暂不能支付；请待资金补足后再支付", code="pool_empty", rule="R3")
        payment = pool_pay(
            programme=claim.programme, amount=amount, reference=claim.number, idempotency_key=pay_idempotency_key(claim),
            actor=actor, on=on, memo=f"风险补偿 {claim.loan.bank.short_name} {claim.loan.contract_no}",
        )
    claim.pool_payment = payment
    claim.paid_amount = payment.paid_amount if payment else ZERO
    claim.unpaid_by_pool = payment.unpaid_amount if payment else ZERO
    claim.paid_by, claim.paid_at, claim.paid_on = actor, timezone.now(), on
    claim.calculation = {**claim.calculation, "payment": {
        "paid_on": on.isoformat(), "requested": f"{amount:.2f}", "paid": f"{claim.paid_amount:.2f}",
        "unpaid_by_pool": f"{claim.unpaid_by_pool:.2f}", "journal_id": payment.journal_id if payment else None,
    }}


def _enter_draft(claim: Claim, actor: User, on: date, comment: str) -> None:
    if not comment.strip():
        raise BusinessError("退回补正须写明意见", code="comment_required", rule="R27")
    claim.return_comment = comment.strip()
    claim.reviewed_by, claim.review_started_at, claim.review_due_on = None, None, None


def _enter_rejected(claim: Claim, actor: User, on: date, comment: str) -> None:
    if not comment.strip():
        raise BusinessError("驳回须写明理由", code="reason_required", rule="R27")
    claim.rejection_reason = comment.strip()
    claim.rejected_by, claim.rejected_at = actor, timezone.now()


_EFFECTS = {
    S.SUBMITTED: _enter_submitted, S.UNDER_REVIEW: _enter_under_review, S.APPROVED: _enter_approved,
    S.PAID: _enter_paid, S.DRAFT: _enter_draft, S.REJECTED: _enter_rejected,
}


def _replayed(claim: Claim, *, to: str, idempotency_key: str | None) -> bool:
    if not idempotency_key:
        return False
    earlier = ClaimStatusChange.objects.filter(claim=claim, idempotency_key=idempotency_key).first()
    if earlier is None:
        return False
    if earlier.to_status != to:
        raise BusinessError(f"幂等键“{idempotency_key}”已用于另一操作，不能重复使用", code="idempotency_conflict")
    return True


def claim_transition(
    *, claim: Claim, to: str, actor: User, comment: str = "", idempotency_key: str | None = None,
    on: date | None = None,
) -> Claim:
    """Move a claim to ``to`` (R27): the one place a claim's status changes.

    ``on`` is the business date (claim date on submission, ledger date on payment), today by
    default. With an ``idempotency_key`` a repeated identical call returns the claim unchanged.
    """
    on = on or timezone.localdate()
    with transaction.atomic(durable=True):
        locked = (
            Claim.objects.select_for_update(of=("self",))
            .select_related("loan__bank", "loan__guarantor", "programme", "parameter_set")
            .get(pk=claim.pk)
        )
        if _replayed(locked, to=to, idempotency_key=idempotency_key):
            return locked
        if to not in ALLOWED_TRANSITIONS.get(locked.status, frozenset()):
            raise BusinessError(
                f"申请 {locked.number} 当前状态为“{locked.get_status_display()}”，不能{ACTION_LABELS.get(to, to)}",
                code="bad_transition", rule="R27", status=locked.status, to=to,
            )
        _check_actor(locked, to, actor)
        previous = locked.status
        _EFFECTS[to](locked, actor, on, comment)
        locked.status = to
        locked.save()
        ClaimStatusChange.objects.create(claim=locked, from_status=previous, to_status=to, actor=actor,
                                         comment=comment.strip(), idempotency_key=idempotency_key or "")
        record_event(actor=actor, event_type=EVENT_TYPES[to], obj=locked, from_status=previous, to_status=to,
                     comment=comment.strip(), on=on, claim_amount=locked.claim_amount, paid_amount=locked.paid_amount,
                     unpaid_by_pool=locked.unpaid_by_pool)
    return locked


def claim_submit(*, claim: Claim, actor: User, idempotency_key: str | None = None, on: date | None = None) -> Claim:
    return claim_transition(claim=claim, to=S.SUBMITTED, actor=actor, idempotency_key=idempotency_key, on=on)


def claim_start_review(*, claim: Claim, actor: User, comment: str = "") -> Claim:
    return claim_transition(claim=claim, to=S.UNDER_REVIEW, actor=actor, comment=comment)


def claim_approve(*, claim: Claim, actor: User, comment: str = "", idempotency_key: str | None = None,
                  on: date | None = None) -> Claim:
    return claim_transition(claim=claim, to=S.APPROVED, actor=actor, comment=comment,
                            idempotency_key=idempotency_key, on=on)


def claim_return(*, claim: Claim, actor: User, comment: str) -> Claim:
    return claim_transition(claim=claim, to=S.DRAFT, actor=actor, comment=comment)


def claim_reject(*, claim: Claim, actor: User, reason: str) -> Claim:
    return claim_transition(claim=claim, to=S.REJECTED, actor=actor, comment=reason)


def claim_pay(*, claim: Claim, actor: User, idempotency_key: str | None = None, on: date | None = None) -> Claim:
    return claim_transition(claim=claim, to=S.PAID, actor=actor, idempotency_key=idempotency_key, on=on)


# --- write-off, service-level flags ----------------------------------------------------------


@transaction.atomic
def claim_close_pursuit(*, claim: Claim, closed_on: date, reason: str, actor: User) -> Claim:
    """核销: the bank stops pursuing the debtor; later recoveries are still owed to the pool (R30)."""
    claim = Claim.objects.select_for_update(of=("self",)).select_related("loan__bank").get(pk=claim.pk)
    _require_bank_user(actor, claim.loan, "核销")
    if claim.status != S.PAID:
        raise BusinessError("只有已支付的申请才能核销", code="not_paid", rule="R30")
    if claim.pursuit_closed_on is not None:
        raise BusinessError(f"该申请已于 {claim.pursuit_closed_on} 核销", code="already_closed", rule="R30")
    if not reason.strip():
        raise BusinessError("核销须写明说明", code="reason_required")
    if closed_on > timezone.localdate():
        raise BusinessError("核销日期不能晚于今天", code="bad_date")
    claim.pursuit_closed_on, claim.pursuit_closed_reason = closed_on, reason.strip()[:300]
    claim.save(update_fields=["pursuit_closed_on", "pursuit_closed_reason"])
    record_event(actor=actor, event_type="claim.pursuit_closed", obj=claim, closed_on=closed_on, reason=reason)
    return claim


@transaction.atomic
def claims_flag_review_overdue(*, as_of: date | None = None) -> int:
    """R29: mark claims whose review passed its service level (once each) and record an event."""
    from fund.selectors.claims import claims_review_overdue

    flagged = 0
    for claim in claims_review_overdue(as_of=as_of).filter(review_overdue_flagged_at__isnull=True).select_for_update():
        claim.review_overdue_flagged_at = timezone.now()
        claim.save(update_fields=["review_overdue_flagged_at"])
        record_event(actor=None, event_type="claim.review_overdue", obj=claim, review_due_on=claim.review_due_on,
                     rule="R29")
        flagged += 1
    return flagged


# --- hooks for the ledger's reconciliation and the R32 guarantor rate -------------------------


def _approved_unpaid_claims(*, as_of: date) -> list[UnpaidItem]:
    items = []
    for claim in approved_unpaid_claims():
        approved_on = timezone.localdate(claim.approved_at) if claim.approved_at else claim.claim_date
        if approved_on <= as_of:
            items.append(UnpaidItem(
                source="claims", reference=claim.number, amount=claim.claim_amount or ZERO, approved_on=approved_on,
                programme_code=claim.programme.code,
                description=f"风险补偿申请 {claim.number}（{claim.loan.bank.short_name} {claim.loan.contract_no}）已批准未支付",
            ))
    return items


register_unpaid_source(_approved_unpaid_claims)
register_guarantor_payout_source(guarantor_payouts_by_guarantor)
