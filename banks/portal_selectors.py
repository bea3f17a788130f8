"""Reads of the bank portal (banks/views.py): whose data a user sees, filtered loan lists, the
month's reporting status and the grouped issues of a batch.

A bank user sees its own bank's data, a guarantor user the loans it guarantees (read-only), bureau
staff one bank at a time (chosen with ``?bank=``).  Every object is fetched through the scope's
querysets — by id AND bank — so another bank's object is simply not found (404).
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from banks.models import BatchStatus, IntakeBatch, StatusReport
from fund.models import Loan, LoanStatus
from registry.models import Bank, Guarantor

UPLOAD_PERMISSION = "banks.add_intakebatch"
ACTIVATION_PERMISSION = "subsidies.add_activationcode"
MONTH_FORMAT = re.compile(r"^(\d{4})-(\d{1,2})$")


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class PortalScope:
    """What one request may see and do in the bank portal."""

    bank: Bank | None = None
    guarantor: Guarantor | None = None
    is_bureau: bool = False
    is_bank_user: bool = False  # the user belongs to ``bank`` (not bureau staff looking at it)
    may_upload: bool = False
    may_issue_codes: bool = False
    banks_to_choose: tuple[Bank, ...] = field(default=(), repr=False)

    @property
    def label(self) -> str:
        if self.bank:
            return self.bank.name
        return self.guarantor.name if self.guarantor else ""

    @property
    def needs_bank_choice(self) -> bool:
        return self.is_bureau and self.bank is None

    @property
    def is_guarantor(self) -> bool:
        return self.guarantor is not None

    @property
    def can_upload(self) -> bool:
        return self.bank is not None and self.may_upload

    @property
    def can_decide_applications(self) -> bool:
        """意向申请 are answered by the bank itself (subsidies.services.loan_application_decide)."""
        return self.is_bank_user

    @property
    def can_issue_codes(self) -> bool:
        return self.bank is not None and self.may_issue_codes

    @property
    def can_override(self) -> bool:
        """R15's late-registration override is for bureau staff only."""
        return self.is_bureau and self.can_upload

    def loans(self) -> QuerySet[Loan]:
        qs = Loan.objects.select_related("bank", "enterprise", "enterprise__region", "guarantor")
        if self.bank is not None:
            return qs.filter(bank=self.bank)
        if self.guarantor is not None:
            return qs.filter(guarantor=self.guarantor)
        return qs.none()

    def batches(self) -> QuerySet[IntakeBatch]:
        if self.bank is None:
            return IntakeBatch.objects.none()
        return IntakeBatch.objects.filter(bank=self.bank).select_related("uploaded_by")


def _bank_by_ref(ref: str) -> Bank | None:
    ref = (ref or "").strip()
    if not ref:
        return None
    query = Q(code__iexact=ref)
    if ref.isdigit():
        query |= Q(pk=int(ref))
    return Bank.objects.filter(query).first()


def portal_scope(*, user, bank_ref: str = "") -> PortalScope:
    """The scope of ``user``; ``bank_ref`` (code or id) chooses the bank for bureau staff only."""
    if not user.is_authenticated:
        raise PermissionDenied("请先登录")
    if user.bank_id:
        return PortalScope(bank=user.bank, is_bank_user=True, may_upload=True, may_issue_codes=True)
    if user.guarantor_id:
        return PortalScope(guarantor=user.guarantor)
    if getattr(user, "is_bureau", False):
        return PortalScope(
            bank=_bank_by_ref(bank_ref), is_bureau=True, may_upload=user.has_perm(UPLOAD_PERMISSION),
            may_issue_codes=user.has_perm(ACTIVATION_PERMISSION),
            banks_to_choose=tuple(Bank.objects.order_by("code")),
        )
    raise PermissionDenied("银行报送平台仅供合作银行、担保机构和财政工作人员使用")


# --------------------------------------------------------------------------- months


def parse_month(text: str | None) -> date | None:
    """``YYYY-MM`` → the month's first day; None when empty or malformed."""
    match = MONTH_FORMAT.match((text or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        return None
    return date(year, month, 1)


def month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def previous_month(today: date | None = None) -> date:
    """The month whose status report is due now (reports for month M are sent in M+1)."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    return (first.replace(year=first.year - 1, month=12) if first.month == 1
            else first.replace(month=first.month - 1))


def reported_months(*, loans: QuerySet[Loan], limit: int = 24) -> list[date]:
    """Months with at least one current status report for these loans, newest first."""
    months = (
        StatusReport.objects.filter(loan__in=loans, is_current=True)
        .order_by("-month").values_list("month", flat=True).distinct()
    )
    return list(months[:limit])


# --------------------------------------------------------------------------- loans


def loan_list(
    *, loans: QuerySet[Loan], status: str = "", mode: str = "", month: date | None = None, region: str = "",
    q: str = "",
) -> QuerySet[Loan]:
    """Filter: loan status, mode, disbursement month, borrower's 市(州); search contract no., credit
    code or name (the enterprise's or the one registered with the loan)."""
    if status:
        loans = loans.filter(status=status)
    if mode:
        loans = loans.filter(mode=mode)
    if month:
        loans = loans.filter(disbursed_on__gte=month, disbursed_on__lte=month_end(month))
    if region:
        loans = loans.filter(enterprise__region_id=region)
    q = (q or "").strip()
    if q:
        loans = loans.filter(
            Q(contract_no__icontains=q) | Q(enterprise__credit_code__icontains=q.upper())
            | Q(enterprise__name__icontains=q) | Q(enterprise_name__icontains=q)
        )
    return loans.order_by("-disbursed_on", "contract_no")


def loan_reports(*, loan: Loan) -> QuerySet[StatusReport]:
    """Every monthly report of a loan, corrections included (the superseded ones marked)."""
    return StatusReport.objects.filter(loan=loan).select_related("batch").order_by("-month", "-id")


@dataclass(frozen=True)
class LoanTotals:
    count: int
    principal: object
    outstanding: object
    overdue: int


def loan_totals(*, loans: QuerySet[Loan]) -> LoanTotals:
    agg = loans.aggregate(
        n=Count("id"), principal=Sum("principal"), outstanding=Sum("outstanding_principal"),
        overdue=Count("id", filter=Q(status=LoanStatus.OVERDUE)),
    )
    return LoanTotals(agg["n"], agg["principal"] or 0, agg["outstanding"] or 0, agg["overdue"])


# --------------------------------------------------------------------------- the month's report


def month_exceptions(*, loans: QuerySet[Loan], month: date) -> QuerySet[Loan]:
    """Registered loans missing from ``month``'s status report (bank-workbooks.md §2, R43), limited
    to ``loans``; the definition is the intake's (banks.selectors.missing_status_reports)."""
    from banks.selectors import missing_status_reports

    return (
        missing_status_reports(month=month)
        .filter(pk__in=loans.values("pk"))
        .select_related("enterprise", "enterprise__region", "guarantor")
        .order_by("contract_no")
    )


def reported_in_month(*, loans: QuerySet[Loan], month: date) -> QuerySet[Loan]:
    reported = StatusReport.objects.filter(loan=OuterRef("pk"), month=month, is_current=True)
    return loans.filter(Exists(reported))


@dataclass(frozen=True)
class MonthStatus:
    month: date
    expected: int
    reported: int
    missing: int

    @property
    def complete(self) -> bool:
        return self.expected > 0 and self.missing == 0


def month_status(*, loans: QuerySet[Loan], month: date) -> MonthStatus:
    """Loans due in ``month``'s report = those reported for it + those missing from it."""
    reported = reported_in_month(loans=loans, month=month).count()
    missing = month_exceptions(loans=loans, month=month).count()
    return MonthStatus(month=month, expected=reported + missing, reported=reported, missing=missing)


# --------------------------------------------------------------------------- batches


def recent_batches(*, batches: QuerySet[IntakeBatch], limit: int = 5) -> list[IntakeBatch]:
    return list(batches.defer("issues", "summary").order_by("-uploaded_at")[:limit])


def batch_counts(*, batches: QuerySet[IntakeBatch]) -> dict[str, int]:
    rows = batches.values("status").annotate(n=Count("pk"))
    counts = {status: 0 for status in BatchStatus.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def progress_payload(batch: IntakeBatch) -> dict[str, object]:
    """What ``/bank/batches/<id>/progress.json`` answers (static/bank/progress.js reads it)."""
    return {
        "id": str(batch.pk),
        "status": batch.status,
        "status_label": batch.get_status_display(),
        "finished": batch.is_finished,
        "percent": batch.progress_percent,
        "rows_total": batch.rows_total,
        "rows_done": batch.rows_done,
        "error_count": batch.error_count,
        "warning_count": batch.warning_count,
        "info_count": batch.info_count,
    }


# --------------------------------------------------------------------------- grouped issues

LEVEL_RANK = {"error": 0, "warning": 1, "info": 2}
LEVEL_LABELS = {"error": "错误", "warning": "提示", "info": "说明"}
ROWS_SHOWN = 8


@dataclass
class IssueGroup:
    level: str
    rule: str
    column: str
    message: str  # the first finding's message, as an example
    count: int = 0
    rows: list[int] = field(default_factory=list)
    whole_file: bool = False

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level, self.level)

    @property
    def rows_shown(self) -> list[int]:
        return self.rows[:ROWS_SHOWN]

    @property
    def more_rows(self) -> int:
        return max(0, len(self.rows) - ROWS_SHOWN)


def _message_key(issue: Mapping) -> str:
    """The message with the offending value taken out, so that the same problem groups together."""
    message = str(issue.get("message") or "")
    value = str(issue.get("value") or "")
    if value:
        message = message.replace(value, "…")
    return re.sub(r"\d+", "#", message)


def group_issues(issues: Iterable[Mapping]) -> list[IssueGroup]:
    """Findings grouped by level, rule, column and kind of message: count, first rows, an example.
    Errors first, then the largest groups."""
    groups: dict[tuple, IssueGroup] = {}
    rows: dict[tuple, set[int]] = defaultdict(set)
    for issue in issues:
        level = issue.get("level") or "error"
        key = (level, issue.get("rule") or "", issue.get("column") or "", _message_key(issue))
        group = groups.get(key)
        if group is None:
            group = groups[key] = IssueGroup(level=level, rule=key[1], column=key[2],
                                             message=str(issue.get("message") or ""))
        group.count += 1
        row = issue.get("row")
        if isinstance(row, int):
            rows[key].add(row)
        else:
            group.whole_file = True
    for key, group in groups.items():
        group.rows = sorted(rows[key])
    return sorted(groups.values(), key=lambda g: (LEVEL_RANK.get(g.level, 9), -g.count, g.column, g.rule))
