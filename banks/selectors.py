"""Reads of the banks app: batches, their issues, loans as a bank or guarantor sees them, and
the month's missing status reports (R43).

Scope: a bank user sees its bank's batches and loans; a guarantor user the loans it
guarantees (and no batches); bureau staff everything; anyone else nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from fund.models import Loan, LoanStatus
from registry.models import User

from .intake.context import month_end
from .models import IntakeBatch, StatusReport

CLOSED = (LoanStatus.SETTLED, LoanStatus.WRITTEN_OFF)


def batch_list(*, user: User) -> QuerySet[IntakeBatch]:
    """Batches the user may see, newest first (without the issue list, which can be long)."""
    qs = IntakeBatch.objects.select_related("bank", "programme", "uploaded_by").defer("issues")
    if user.is_bureau:
        return qs
    if user.bank_id:
        return qs.filter(bank_id=user.bank_id)
    return qs.none()


def batch_get(*, user: User, batch_id: Any) -> IntakeBatch | None:
    """One batch, or None when it does not exist or is not the user's to see."""
    qs = IntakeBatch.objects.select_related("bank", "programme", "uploaded_by", "duplicate_of")
    if not user.is_bureau:
        if not user.bank_id:
            return None
        qs = qs.filter(bank_id=user.bank_id)
    try:
        pk = uuid.UUID(str(batch_id))
    except ValueError:
        return None
    return qs.filter(pk=pk).first()


def batch_issues_by_row(batch: IntakeBatch) -> dict[int | None, list[dict[str, Any]]]:
    """Issues grouped by row number (Excel row for workbooks; ``None`` = the whole file), for the
    annotated workbook: each row's status column is the worst level of its list."""
    grouped: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for issue in batch.issues:
        grouped[issue.get("row")].append(issue)
    return dict(grouped)


def batch_issue_counts(batch: IntakeBatch) -> dict[str, dict[str, int]]:
    """Issues grouped by kind for the on-screen summary: column → level → count."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for issue in batch.issues:
        counts[issue.get("column") or "文件"][issue["level"]] += 1
    return {k: dict(v) for k, v in counts.items()}


def loan_scope(*, user: User) -> Q | None:
    """The Q a user's loans satisfy; None means no loans at all."""
    if user.is_bureau:
        return Q()
    if user.bank_id:
        return Q(bank_id=user.bank_id)
    if user.guarantor_id:
        return Q(guarantor_id=user.guarantor_id)
    return None


def loan_list(
    *, user: User, status: str = "", contract_no: str = "", credit_code: str = "", programme_id: int | None = None,
) -> QuerySet[Loan]:
    scope = loan_scope(user=user)
    qs = Loan.objects.select_related("bank", "enterprise", "guarantor", "programme")
    if scope is None:
        return qs.none()
    qs = qs.filter(scope)
    if status:
        qs = qs.filter(status=status)
    if contract_no:
        qs = qs.filter(contract_no=contract_no.strip().upper())
    if credit_code:
        qs = qs.filter(enterprise__credit_code=credit_code.strip().upper())
    if programme_id:
        qs = qs.filter(programme_id=programme_id)
    return qs.order_by("-disbursed_on", "id")


def loan_get(*, user: User, loan_id: Any) -> Loan | None:
    scope = loan_scope(user=user)
    if scope is None:
        return None
    return Loan.objects.filter(scope).select_related("bank", "enterprise", "guarantor", "programme").filter(
        pk=loan_id
    ).first()


def missing_status_reports(*, user: User | None = None, month: date, bank_id: int | None = None,
                           programme_id: int | None = None) -> QuerySet[Loan]:
    """R43 exception list: loans registered by the month's end, not closed before the month, with no
    current status report for the month.  ``user`` limits it to what that user may see."""
    month = month.replace(day=1)
    qs = Loan.objects.filter(disbursed_on__lte=month_end(month))
    if user is not None:
        scope = loan_scope(user=user)
        if scope is None:
            return Loan.objects.none()
        qs = qs.filter(scope)
    if bank_id:
        qs = qs.filter(bank_id=bank_id)
    if programme_id:
        qs = qs.filter(programme_id=programme_id)
    reported = StatusReport.objects.filter(loan=OuterRef("pk"), month=month, is_current=True)
    closed_before = StatusReport.objects.filter(loan=OuterRef("pk"), month__lt=month, is_current=True,
                                                status__in=CLOSED)
    return (
        qs.filter(~Exists(reported), ~Exists(closed_before))
        .exclude(status__in=CLOSED, settled_on__lt=month)
        .select_related("bank", "enterprise")
        .order_by("bank__code", "contract_no")
    )


def status_reports_for(*, loan: Loan) -> QuerySet[StatusReport]:
    """A loan's reports, corrections included (``is_current`` False for the superseded ones)."""
    return StatusReport.objects.filter(loan=loan).order_by("-month", "-id")
