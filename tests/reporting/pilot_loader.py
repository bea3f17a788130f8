"""Loads the pilot's generated records (banks.demo.pilot.build()) with bulk ORM writes.

A test fixture only: the demo itself imports the pilot through the banks' intake (another
engineer's demo step).  Every row is written as the intake would leave it: enterprises, loans
with their latest monthly state, the monthly status reports (one batch per bank and month) and
the loan applications of the applicants without a loan.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from banks.demo import foundation, pilot
from banks.models import BatchKind, BatchStatus, IntakeBatch, StatusReport
from fund.models import Classification, Loan, LoanStatus, Programme
from registry.models import Bank, Enterprise, Guarantor, SizeClass
from subsidies.models import LoanApplication

CLASSIFICATIONS = {"正常": Classification.NORMAL, "关注": Classification.SPECIAL_MENTION,
                   "次级": Classification.SUBSTANDARD, "可疑": Classification.DOUBTFUL, "损失": Classification.LOSS}
STATUSES = {"正常": LoanStatus.CURRENT, "逾期": LoanStatus.OVERDUE, "结清": LoanStatus.SETTLED,
            "核销": LoanStatus.WRITTEN_OFF}

_DATA: pilot.PilotData | None = None


def pilot_data() -> pilot.PilotData:
    global _DATA
    if _DATA is None:
        _DATA = pilot.build()
    return _DATA


def _month(text: str) -> date:
    return date(int(text[:4]), int(text[5:7]), 1)


def restore_reference_data() -> None:
    """A transactional test before this one may have flushed what migrations put in the database
    (content types, permissions, role groups, regions, industries, LPR): put it back, idempotently."""
    import importlib

    from django.apps import apps
    from django.core.management.sql import emit_post_migrate_signal

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    importlib.import_module("registry.migrations.0002_reference_data").load(apps, None)


def load_pilot(*, with_reports: bool = True) -> Programme:
    out = io.StringIO()
    foundation.load_programme(out)
    foundation.load_partners(out)
    programme = foundation.programme()
    data = pilot_data()
    Enterprise.objects.bulk_create(
        Enterprise(credit_code=e.uscc, name=e.name, region_id=e.region_code, industry_code=e.industry_code,
                   industry_id=e.division, employees=e.employees, revenue_10k=e.revenue_10k,
                   assets_10k=e.assets_10k, is_private=e.is_private,
                   size_class=SizeClass.MICRO if e.employees < 10 else SizeClass.SMALL)
        for e in data.enterprises
    )
    enterprises = dict(Enterprise.objects.values_list("credit_code", "id"))
    banks = dict(Bank.objects.values_list("code", "id"))
    guarantors = dict(Guarantor.objects.values_list("code", "id"))
    reports_by_loan: dict[tuple[str, str], list[pilot.MonthlyReport]] = {}
    for r in data.monthly_reports:
        reports_by_loan.setdefault((r.bank_code, r.contract_no), []).append(r)
    loans = []
    for x in data.loans:
        reports = reports_by_loan.get((x.bank_code, x.contract_no), []) if with_reports else []
        last = reports[-1] if reports else None
        loans.append(Loan(
            programme=programme, bank_id=banks[x.bank_code], contract_no=x.contract_no,
            enterprise_id=enterprises[x.uscc], enterprise_name=data.enterprise(x.uscc).name, mode=x.mode,
            guarantor_id=guarantors.get(x.guarantor_code) if x.guarantor_code else None,
            guarantee_contract_no=x.guarantee_contract_no or "", guarantee_fee_rate=x.guarantee_fee_rate,
            signed_on=x.signed_on, disbursed_on=x.disbursed_on, matures_on=x.matures_on, principal=x.principal,
            annual_rate=x.rate, purpose=x.purpose, credit_attested=True,
            outstanding_principal=last.balance if last else x.principal,
            overdue_days=last.overdue_days if last else 0,
            classification=CLASSIFICATIONS[last.classification] if last else Classification.NORMAL,
            status=STATUSES[last.status] if last else LoanStatus.CURRENT,
            settled_on=last.settled_on if last else None,
            interest_paid_total=last.cumulative_interest if last else 0,
            guarantee_fee_paid_total=last.cumulative_guarantee_fee if last else 0,
            last_report_month=_month(last.month) if last else None,
            ever_overdue=any(r.overdue_days > 0 or r.status in ("逾期", "核销") for r in reports),
        ))
    Loan.objects.bulk_create(loans)
    if with_reports:
        _load_reports(programme, data, banks)
    LoanApplication.objects.bulk_create(
        LoanApplication(enterprise_id=enterprises[a.uscc], bank_id=banks[a.bank_code], programme=programme,
                        amount=a.amount, purpose=a.purpose,
                        created_at=datetime(a.applied_on.year, a.applied_on.month, a.applied_on.day, 2, tzinfo=UTC))
        for a in data.applications
    )
    return programme


def _load_reports(programme: Programme, data: pilot.PilotData, banks: dict[str, int]) -> None:
    loan_ids = {(b, c): i for i, b, c in Loan.objects.values_list("id", "bank__code", "contract_no")}
    batches = {}
    for bank_code in data.bank_codes():
        for month in data.months():
            batches[(bank_code, month)] = IntakeBatch(
                bank_id=banks[bank_code], programme=programme, kind=BatchKind.STATUS, status=BatchStatus.APPLIED,
                filename=f"{bank_code}-{month}.xlsx",
            )
    IntakeBatch.objects.bulk_create(batches.values())
    StatusReport.objects.bulk_create(
        StatusReport(
            loan_id=loan_ids[(r.bank_code, r.contract_no)], month=_month(r.month), outstanding_principal=r.balance,
            principal_repaid=r.principal_repaid, interest_paid=r.interest_paid, overdue_days=r.overdue_days,
            classification=CLASSIFICATIONS[r.classification], status=STATUSES[r.status], settled_on=r.settled_on,
            interest_paid_total=r.cumulative_interest, guarantee_fee_paid_total=r.cumulative_guarantee_fee,
            batch=batches[(r.bank_code, r.month)],
        )
        for r in data.monthly_reports
    )
