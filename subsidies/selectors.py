"""Reads of the subsidies app: the enterprise's loans and subsidies, timelines, the
anonymous status lookup, loan applications, and the "enterprises that applied" figure.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from fund import selectors as fund_selectors
from fund.models import CooperationState, Loan, Partnership, Programme
from registry.models import Bank, DomainEvent, Enterprise, LprRate, User
from registry.rules import lpr_table as csv_lpr_table

from . import rules
from .models import (
    LoanApplication,
    LoanApplicationStatus,
    OtherSubsidy,
    Subsidy,
    SubsidyDocument,
    SubsidyKind,
    SubsidyStatus,
)

ZERO = Decimal("0.00")
LOOKUP_NOT_FOUND = "未找到匹配的贷款或尚无补贴记录"


# --------------------------------------------------------------------------- facts used by the computation


def loan_is_compensated(loan: Loan) -> bool:
    """R28: has the pool compensated this loan?  (``fund.selectors.loan_is_compensated`` from claims.)"""
    check = getattr(fund_selectors, "loan_is_compensated", None)
    return bool(check(loan)) if check is not None else False


def lpr_history() -> list[tuple[date, Decimal]]:
    """The 1-year LPR table staff maintain in the admin (falls back to the shipped CSV)."""
    rows = list(LprRate.objects.values_list("effective_from", "rate_percent"))
    return rows or list(csv_lpr_table())


def subsidies_received_in_year(*, enterprise_id: int, kind: str, year: int, exclude_loan_id: int | None = None) -> Decimal:
    """What an enterprise already got of ``kind`` for loans settled in ``year`` (every subsidy not rejected)."""
    qs = Subsidy.objects.filter(enterprise_id=enterprise_id, kind=kind, settled_on__year=year).exclude(
        status=SubsidyStatus.REJECTED
    )
    if exclude_loan_id is not None:
        qs = qs.exclude(loan_id=exclude_loan_id)
    return qs.aggregate(total=Sum("amount"))["total"] or ZERO


def other_subsidies_total(*, loan_id: int, kind: str) -> Decimal:
    """R39: what the loan receives of ``kind`` from other sources."""
    return OtherSubsidy.objects.filter(loan_id=loan_id, kind=kind).aggregate(total=Sum("amount"))["total"] or ZERO


# The same facts for many loans at once (a month's settlements): one query each, keyed for look-up.


def compensated_among(loan_ids: Collection[int]) -> set[int]:
    """R28: which of ``loan_ids`` the pool has compensated."""
    return fund_selectors.compensated_loan_ids(loan_ids=loan_ids) if loan_ids else set()


def subsidy_kinds_of(loan_ids: Collection[int]) -> set[tuple[int, str]]:
    """(loan id, kind) of every subsidy these loans already have, whatever its status (R39: once per kind)."""
    return set(Subsidy.objects.filter(loan_id__in=list(loan_ids)).values_list("loan_id", "kind"))


def other_subsidies_of(loan_ids: Collection[int]) -> dict[tuple[int, str], Decimal]:
    """R39: what each loan receives from other sources, by (loan id, kind)."""
    rows = (OtherSubsidy.objects.filter(loan_id__in=list(loan_ids)).values("loan_id", "kind")
            .annotate(total=Sum("amount")).values_list("loan_id", "kind", "total"))
    return {(loan_id, kind): total for loan_id, kind, total in rows}


def subsidies_received_by_year(*, enterprise_ids: Collection[int], years: Collection[int]) -> dict[tuple[int, str, int], Decimal]:
    """What each enterprise got of each kind for loans settled in each of ``years`` (not rejected),
    by (enterprise id, kind, year): ``subsidies_received_in_year`` for many enterprises at once."""
    if not enterprise_ids or not years:
        return {}
    rows = (
        Subsidy.objects.filter(enterprise_id__in=list(enterprise_ids), settled_on__year__in=list(years))
        .exclude(status=SubsidyStatus.REJECTED)
        .values("enterprise_id", "kind", year=ExtractYear("settled_on"))
        .annotate(total=Sum("amount"))
        .values_list("enterprise_id", "kind", "year", "total")
    )
    return {(enterprise_id, kind, year): total for enterprise_id, kind, year, total in rows}


# --------------------------------------------------------------------------- the enterprise portal


def loans_for_enterprise(*, enterprise: Enterprise) -> QuerySet[Loan]:
    return (
        Loan.objects.filter(enterprise=enterprise)
        .select_related("bank", "programme", "guarantor")
        .prefetch_related("subsidies__parameter_set", "subsidies__batch")
        .order_by("-disbursed_on", "-id")
    )


def subsidies_for_enterprise(*, enterprise: Enterprise) -> QuerySet[Subsidy]:
    return Subsidy.objects.filter(enterprise=enterprise).select_related(
        "loan__bank", "parameter_set", "batch", "programme"
    )


def documents_visible_to(*, user: User) -> QuerySet[SubsidyDocument]:
    """The enterprise's own documents; every document for bureau staff allowed to view subsidies."""
    qs = SubsidyDocument.objects.select_related("subsidy")
    if user.is_authenticated and user.enterprise_id:
        return qs.filter(subsidy__enterprise_id=user.enterprise_id)
    if user.is_authenticated and user.is_bureau and user.has_perm("subsidies.view_subsidy"):
        return qs
    return qs.none()


def window_state(*, subsidy: Subsidy, on: date | None = None) -> str:
    """R37: the application window of the parameter set in force at settlement."""
    ps = subsidy.parameter_set
    return rules.application_window(
        opens=ps.application_opens, closes=ps.application_closes, on=on or timezone.localdate()
    )


def subsidy_next_step(*, subsidy: Subsidy, on: date | None = None) -> str:
    """What the enterprise should do next, in plain Chinese."""
    ps, status = subsidy.parameter_set, subsidy.status
    if status == SubsidyStatus.COMPUTED:
        state = window_state(subsidy=subsidy, on=on)
        if state == rules.WINDOW_OPEN:
            extra = "，并上传担保合同和担保费发票" if subsidy.kind == SubsidyKind.GUARANTEE_FEE else ""
            return f"请在 {ps.application_closes:%Y年%m月%d日} 前在线确认并提交申请{extra}。"
        if state == rules.WINDOW_NOT_YET:
            return f"申请将于 {ps.application_opens:%Y年%m月%d日} 开放，届时请在线提交申请。"
        if state == rules.WINDOW_CLOSED:
            return f"本项目补贴申请已于 {ps.application_closes:%Y年%m月%d日} 截止，无法再提交申请。"
        return "补贴申请期尚未公布，请留意财政部门通知。"
    return {
        SubsidyStatus.APPLIED: "申请已提交，等待财政部门审核，您无需操作。",
        SubsidyStatus.UNDER_REVIEW: "财政部门正在审核您的申请，如需补充材料会另行通知。",
        SubsidyStatus.APPROVED: "审核已通过，等待纳入支付批次，您无需操作。",
        SubsidyStatus.IN_BATCH: "已纳入支付批次，等待国库支付到您的收款账户。",
        SubsidyStatus.PAID: "补贴已支付，请留意收款账户到账情况。",
        SubsidyStatus.REJECTED: "申请未通过。如有疑问，请联系财政部门。",
    }[status]


def subsidy_stage_reason(*, subsidy: Subsidy) -> str:
    """Why the subsidy is where it is, in plain Chinese."""
    if subsidy.status == SubsidyStatus.REJECTED:
        return f"未通过原因：{subsidy.status_reason}"
    if subsidy.status == SubsidyStatus.PAID:
        return f"已于 {subsidy.paid_on:%Y年%m月%d日} 支付，支付凭证号 {subsidy.payment_reference}。"
    if subsidy.status == SubsidyStatus.IN_BATCH and subsidy.batch_id:
        return f"已纳入支付批次 {subsidy.batch.reference}。"
    return f"贷款于 {subsidy.settled_on:%Y年%m月%d日} 结清且从未逾期，系统已自动测算补贴。"


EVENT_LABELS = {
    "subsidy.computed": "系统自动测算补贴",
    "subsidy.applied": "企业提交申请",
    "subsidy.under_review": "财政部门开始审核",
    "subsidy.approved": "审核通过（已核准）",
    "subsidy.in_batch": "纳入支付批次",
    "subsidy.paid": "补贴已支付",
    "subsidy.rejected": "申请未通过",
    "subsidy.document_uploaded": "上传申请材料",
    "subsidy.recapped": "按叠加补贴规定调整金额（R39）",
    "subsidy.removed_from_batch": "移出支付批次",
}


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    label: str
    who: str
    note: str


def _who(actor: User | None) -> str:
    if actor is None:
        return "系统"
    if actor.enterprise_id:
        return "企业"
    if actor.bank_id:
        return "银行"
    return "财政部门"


def subsidy_timeline(*, subsidy: Subsidy) -> list[TimelineEntry]:
    """The subsidy's audit events in order, for the enterprise (roles, never staff names)."""
    events = DomainEvent.objects.filter(object_type=Subsidy._meta.label_lower, object_id=str(subsidy.pk)).select_related(
        "actor"
    ).order_by("occurred_at", "id")
    entries = []
    for ev in events:
        note = ev.params.get("reason", "") if ev.event_type == "subsidy.rejected" else ev.params.get("note", "")
        entries.append(TimelineEntry(ev.occurred_at, EVENT_LABELS.get(ev.event_type, ev.event_type), _who(ev.actor), note))
    return entries


# --------------------------------------------------------------------------- anonymous lookup


def subsidy_stage_lookup(*, credit_code: str, contract_no: str) -> list[tuple[str, str]]:
    """Only the stage of each subsidy of the loan(s) matching both keys: [(kind label, stage label)].

    One query whatever the input, and [] for an unknown code, an unknown contract, a
    mismatched pair or a loan without subsidies alike (no enumeration).
    """
    rows = (
        Subsidy.objects.filter(loan__enterprise__credit_code=credit_code, loan__contract_no=contract_no)
        .order_by("kind", "id")
        .values_list("kind", "status")
    )
    return [(SubsidyKind(kind).label, SubsidyStatus(status).label) for kind, status in rows]


# --------------------------------------------------------------------------- loan applications (意向申请)


def partner_banks(*, programme: Programme | None = None) -> QuerySet[Partnership]:
    """Partnerships an enterprise may address an application to (active cooperation)."""
    qs = Partnership.objects.filter(state=CooperationState.ACTIVE).select_related("bank", "programme").order_by(
        "programme__code", "bank__code"
    )
    return qs.filter(programme=programme) if programme is not None else qs


def loan_applications_for_bank(*, bank: Bank) -> QuerySet[LoanApplication]:
    """The applications enterprises addressed to ``bank``, newest first (the bank portal shows these)."""
    return LoanApplication.objects.filter(bank=bank).select_related("enterprise", "programme", "decided_by")


def loan_applications_for_enterprise(*, enterprise: Enterprise) -> QuerySet[LoanApplication]:
    return LoanApplication.objects.filter(enterprise=enterprise).select_related("bank", "programme")


def open_application_exists(*, enterprise: Enterprise, bank: Bank, programme: Programme) -> bool:
    return LoanApplication.objects.filter(
        enterprise=enterprise, bank=bank, programme=programme, status=LoanApplicationStatus.SUBMITTED
    ).exists()


def applicant_enterprise_ids(*, programme: Programme, as_of: date) -> set[int]:
    """R40 "enterprises that applied" as of ``as_of``.

    Definition: the distinct enterprises that submitted a loan application (意向申请) to a
    partner bank of the programme on or before ``as_of`` (local date), or that have a loan
    registered under the programme signed on or before ``as_of`` (a bank-originated loan
    implies an application).  Whatever the bank decided does not matter.
    """
    applied = LoanApplication.objects.filter(programme=programme, created_at__date__lte=as_of).values_list(
        "enterprise_id", flat=True
    )
    borrowed = Loan.objects.filter(programme=programme, signed_on__lte=as_of).values_list("enterprise_id", flat=True)
    return set(applied) | set(borrowed)


# --------------------------------------------------------------------------- figures


def subsidy_totals(*, programme: Programme, as_of: date) -> dict[str, Decimal]:
    """R40 "subsidies approved and paid" as of ``as_of``: amounts by stage."""
    end = timezone.make_aware(datetime.combine(as_of, datetime.max.time()))
    qs = Subsidy.objects.filter(programme=programme)
    approved = qs.filter(approved_at__lte=end).exclude(status=SubsidyStatus.REJECTED)
    paid = qs.filter(Q(status=SubsidyStatus.PAID) & Q(paid_on__lte=as_of))
    return {
        "approved": approved.aggregate(t=Sum("amount"))["t"] or ZERO,
        "paid": paid.aggregate(t=Sum("amount"))["t"] or ZERO,
    }
