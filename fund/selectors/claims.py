"""Reads about compensation claims and recoveries (R22–R30)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from fund.models import (
    Claim,
    ClaimStatus,
    GuarantorPayment,
    Loan,
    LoanStatus,
    ParameterSet,
    Programme,
    Recovery,
    RefundStatus,
)
from fund.models.claims import COMPENSATED_STATUSES, REVIEW_STATUSES
from fund.rules import claims as claim_rules
from fund.selectors.programme import parameters_in_force
from registry.models import User

ZERO = Decimal("0.00")


# --- who sees what ---------------------------------------------------------------------


def is_bureau_claims_user(user: User) -> bool:
    """Bureau staff who may read every claim (any role with view_claim: 经办, 复核, 管理员, 审计)."""
    return bool(user.is_authenticated and user.is_staff and user.is_bureau and user.has_perm("fund.view_claim"))


def claim_list(*, user: User) -> QuerySet[Claim]:
    """The claims ``user`` may see: all for bureau staff, its own bank's for a bank user,
    the loans it guarantees for a guarantor user, none otherwise."""
    claims = Claim.objects.select_related("loan__bank", "loan__enterprise", "loan__guarantor", "programme")
    if is_bureau_claims_user(user):
        return claims
    if getattr(user, "bank_id", None):
        return claims.filter(loan__bank_id=user.bank_id)
    if getattr(user, "guarantor_id", None):
        return claims.filter(loan__guarantor_id=user.guarantor_id)
    return claims.none()


def claim_get(*, user: User, pk: int) -> Claim:
    """One claim ``user`` may see; ``Claim.DoesNotExist`` otherwise (another bank's claim is 404)."""
    return claim_list(user=user).get(pk=pk)


def can_download_claim_documents(*, user: User, claim: Claim) -> bool:
    """R25 documents: only the bank that filed them and bureau roles."""
    if is_bureau_claims_user(user):
        return True
    return bool(getattr(user, "bank_id", None)) and user.bank_id == claim.loan.bank_id


# --- filing ----------------------------------------------------------------------------


def claimable_loans(*, bank_id: int, on: date | None = None) -> QuerySet[Loan]:
    """The bank's loans overdue beyond the R23 line (default parameters) and without a live claim."""
    live = Claim.objects.filter(loan=OuterRef("pk")).exclude(status=ClaimStatus.REJECTED)
    return (
        Loan.objects.filter(bank_id=bank_id, overdue_days__gt=0)
        .exclude(status=LoanStatus.SETTLED)
        .annotate(has_live_claim=Exists(live))
        .filter(has_live_claim=False)
        .select_related("enterprise", "programme", "guarantor")
        .order_by("-overdue_days", "contract_no")
    )


def live_claim_for(*, loan: Loan) -> Claim | None:
    """R28: the loan's open or paid claim, if any."""
    return Claim.objects.filter(loan=loan).exclude(status=ClaimStatus.REJECTED).first()


def required_documents(*, claim: Claim, params: ParameterSet) -> tuple[str, ...]:
    return claim_rules.required_document_kinds(mode=claim.loan.mode, require_court_notice=params.require_court_notice)


def present_document_kinds(*, claim: Claim) -> set[str]:
    """Kinds attached to the claim; a guarantor's recorded payment voucher counts as its voucher (R25)."""
    kinds = set(claim.documents.values_list("kind", flat=True))
    if GuarantorPayment.objects.filter(loan_id=claim.loan_id).exists():
        kinds.add(claim_rules.GUARANTOR_PAYMENT_VOUCHER)
    return kinds


def missing_documents(*, claim: Claim, on: date | None = None) -> list[str]:
    """R25 kinds still missing for submission, under the parameters in force on ``on`` (today)."""
    params = parameters_in_force(programme=claim.programme, on=on or timezone.localdate())
    return claim_rules.missing_document_kinds(
        required=required_documents(claim=claim, params=params), present=present_document_kinds(claim=claim)
    )


def guarantor_paid_total(*, loan: Loan) -> Decimal:
    return GuarantorPayment.objects.filter(loan=loan).aggregate(t=Coalesce(Sum("amount"), ZERO))["t"]


# --- R22 inputs ------------------------------------------------------------------------


def bank_claim_totals(*, programme: Programme, bank_id: int, exclude_claim_id: int | None = None
                      ) -> tuple[Decimal, Decimal]:
    """(loss, compensation) of the bank's other approved or paid claims in the programme (R22).

    Loss is their unpaid principal; compensation is what the pool paid (paid claims) or owes
    (approved claims).
    """
    claims = Claim.objects.filter(programme=programme, loan__bank_id=bank_id, status__in=COMPENSATED_STATUSES)
    if exclude_claim_id is not None:
        claims = claims.exclude(pk=exclude_claim_id)
    loss = compensation = ZERO
    for claim in claims.only("status", "unpaid_principal", "claim_amount", "paid_amount"):
        loss += claim.unpaid_principal
        compensation += claim.paid_amount if claim.status == ClaimStatus.PAID else (claim.claim_amount or ZERO)
    return loss, compensation


# --- R28: compensated loans are barred from subsidies ----------------------------------


def loan_is_compensated(loan: Loan | int) -> bool:
    """True once a claim on the loan is approved or paid: it may never receive a subsidy (R28)."""
    loan_id = loan if isinstance(loan, int) else loan.pk
    return Claim.objects.filter(loan_id=loan_id, status__in=COMPENSATED_STATUSES).exists()


def compensated_loan_ids(*, programme: Programme | None = None, loan_ids: Iterable[int] | None = None) -> set[int]:
    """Ids of loans with an approved or paid claim (R28), optionally within a programme or a set of loans."""
    claims = Claim.objects.filter(status__in=COMPENSATED_STATUSES)
    if programme is not None:
        claims = claims.filter(programme=programme)
    if loan_ids is not None:
        claims = claims.filter(loan_id__in=list(loan_ids))
    return set(claims.values_list("loan_id", flat=True))


# --- service levels (R29, R30) ---------------------------------------------------------


def claims_review_overdue(*, as_of: date | None = None) -> QuerySet[Claim]:
    """Claims still in review after their R29 service-level date."""
    as_of = as_of or timezone.localdate()
    return Claim.objects.filter(status__in=REVIEW_STATUSES, review_due_on__lt=as_of)


def recoveries_refund_overdue(*, as_of: date | None = None) -> QuerySet[Recovery]:
    """Refunds due to the pool and not received by their R30 date."""
    as_of = as_of or timezone.localdate()
    return Recovery.objects.filter(refund_status=RefundStatus.DUE, refund_due_on__lt=as_of)


def refunded_total(*, claim: Claim) -> Decimal:
    """Refunds already owed or received on the claim (R30 cap)."""
    return claim.recoveries.aggregate(t=Coalesce(Sum("refund_due"), ZERO))["t"]


# --- statistics (R40) ------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimStats:
    filed: int
    paid: int
    paid_amount: Decimal
    unpaid_by_pool: Decimal
    in_review: int
    review_overdue: int
    recoveries_net: Decimal
    refunds_received: Decimal
    refunds_due: Decimal
    refunds_overdue: int


def claim_stats(*, programme: Programme | None = None, as_of: date | None = None) -> ClaimStats:
    """Claims filed (submitted at least once) and paid, amounts, review SLA and recoveries."""
    as_of = as_of or timezone.localdate()
    claims = Claim.objects.exclude(status=ClaimStatus.DRAFT, submitted_at__isnull=True)
    recoveries = Recovery.objects.all()
    if programme is not None:
        claims = claims.filter(programme=programme)
        recoveries = recoveries.filter(claim__programme=programme)
    c = claims.aggregate(
        filed=Count("id"),
        paid=Count("id", filter=Q(status=ClaimStatus.PAID)),
        paid_amount=Coalesce(Sum("paid_amount", filter=Q(status=ClaimStatus.PAID)), ZERO),
        unpaid_by_pool=Coalesce(Sum("unpaid_by_pool"), ZERO),
        in_review=Count("id", filter=Q(status__in=REVIEW_STATUSES)),
        review_overdue=Count("id", filter=Q(status__in=REVIEW_STATUSES, review_due_on__lt=as_of)),
    )
    r = recoveries.aggregate(
        net=Coalesce(Sum("net_amount"), ZERO),
        received=Coalesce(Sum("refund_due", filter=Q(refund_status=RefundStatus.RECEIVED)), ZERO),
        due=Coalesce(Sum("refund_due", filter=Q(refund_status=RefundStatus.DUE)), ZERO),
        overdue=Count("id", filter=Q(refund_status=RefundStatus.DUE, refund_due_on__lt=as_of)),
    )
    return ClaimStats(
        filed=c["filed"], paid=c["paid"], paid_amount=c["paid_amount"], unpaid_by_pool=c["unpaid_by_pool"],
        in_review=c["in_review"], review_overdue=c["review_overdue"], recoveries_net=r["net"],
        refunds_received=r["received"], refunds_due=r["due"], refunds_overdue=r["overdue"],
    )


def guarantor_payouts_by_guarantor(*, programme: Programme, as_of: date) -> dict[int, Decimal]:
    """Cumulative payments by each guarantor on the programme's loans up to ``as_of`` (R32 input)."""
    rows = (
        GuarantorPayment.objects.filter(loan__programme=programme, paid_on__lte=as_of)
        .values("guarantor_id").annotate(total=Sum("amount")).order_by()
    )
    return {row["guarantor_id"]: row["total"] for row in rows}


def approved_unpaid_claims() -> QuerySet[Claim]:
    """Claims approved and not yet paid (for the ledger reconciliation)."""
    return Claim.objects.filter(status=ClaimStatus.APPROVED).select_related("programme", "loan__bank")
