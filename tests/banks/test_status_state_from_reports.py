"""PostgreSQL: a loan whose one row of the batch is its new state is updated by one SQL statement
from the stored reports (``status._write_states_from_reports``); it must leave every loan exactly
as the Python computation (``status._new_state``) does — ever overdue, the R23 non-performing
start, settlements, late months and corrections alongside."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from banks.intake import status
from banks.models import BatchStatus
from fund.models import Loan
from tests.banks.factories import status_row
from tests.banks.workbooks import status_workbook
from tests.factories import LoanFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

MAY, JUNE, JULY, AUGUST = date(2021, 5, 1), date(2021, 6, 1), date(2021, 7, 1), date(2021, 8, 1)
STATE = ("outstanding_principal", "overdue_days", "classification", "status", "settled_on", "interest_paid_total",
         "guarantee_fee_paid_total", "last_report_month", "ever_overdue", "nonperforming_since")

# (the loan before the batch, its rows in the batch)
CASES = [
    ({}, [dict(month=JULY)]),  # first report
    ({"last_report_month": JUNE, "outstanding_principal": Decimal("950000")},
     [dict(month=JULY, outstanding_principal=900_000)]),
    ({}, [dict(month=JULY, overdue_days=30, status="逾期", classification="关注")]),  # overdue, under R23's 90 days
    ({}, [dict(month=JULY, overdue_days=100, status="逾期", classification="次级")]),  # beyond: 2021-07-22
    ({"ever_overdue": True, "nonperforming_since": date(2021, 7, 1), "last_report_month": JUNE},
     [dict(month=JULY, overdue_days=120, status="逾期", classification="可疑")]),  # keeps the earlier start
    ({"ever_overdue": True, "nonperforming_since": date(2021, 7, 30), "last_report_month": JUNE},
     [dict(month=JULY, overdue_days=120, status="逾期", classification="可疑")]),  # the row's start is earlier
    ({"ever_overdue": True, "last_report_month": JUNE}, [dict(month=JULY)]),  # stays ever overdue
    ({}, [dict(month=JULY, outstanding_principal=0, status="结清", settled_on="2021-07-20",
               interest_paid_total=9_000, guarantee_fee_paid_total=0)]),
    ({"last_report_month": AUGUST, "outstanding_principal": Decimal("700000")},
     [dict(month=JULY, outstanding_principal=800_000)]),  # a late month: Python path
    ({}, [dict(month=JUNE, overdue_days=95, status="逾期", classification="次级"),
          dict(month=JULY, outstanding_principal=900_000)]),  # two months of one loan: Python path
    ({"last_report_month": JULY}, [dict(month=JULY)]),  # the loan's own latest month, not stored: its state again
]


def _run(upload, world, *, sql: bool, monkeypatch, tag: str):
    if not sql:
        monkeypatch.setattr(status, "_state_from_report", lambda *args: set())
        monkeypatch.setattr(status, "_write_states_from_reports", None)  # never called
    rows, loans = [], []
    for n, (before, batch_rows) in enumerate(CASES):
        loan = LoanFactory(programme=world.programme, bank=world.bank, contract_no=f"{tag}{n}",
                           principal=Decimal("1000000"), signed_on=date(2021, 5, 1), disbursed_on=date(2021, 5, 3),
                           matures_on=date(2022, 5, 2), **before)
        loans.append(loan)
        for row in batch_rows:
            fields = {k: v for k, v in row.items() if k != "month"}
            rows.append(status_row(loan.contract_no, row["month"], **fields))
    batch = upload(status_workbook(rows), kind="status", filename="月度状态.xlsx")
    assert batch.status == BatchStatus.APPLIED, batch.issues
    states = [tuple(getattr(loan, name) for name in STATE) for loan in Loan.objects.filter(
        pk__in=[loan.pk for loan in loans]).order_by("pk")]
    return states, {k: v for k, v in batch.summary.items() if k != "seconds"}


def test_loans_updated_from_their_reports_end_as_the_python_computation_leaves_them(upload, world, monkeypatch):
    updated = []
    original = status._write_states_from_reports

    def spy(batch, others, months, ctx, *, expected):
        updated.append((expected, len(others)))
        return original(batch, others, months, ctx, expected=expected)

    monkeypatch.setattr(status, "_write_states_from_reports", spy)
    from_sql = _run(upload, world, sql=True, monkeypatch=monkeypatch, tag="SQL")
    assert updated == [(len(CASES) - 2, 2)]  # all but the late month and the loan with two rows
    from_python = _run(upload, world, sql=False, monkeypatch=monkeypatch, tag="PY")
    assert from_sql == from_python
    states, summary = from_sql
    assert states[3][-2:] == (True, date(2021, 7, 22))  # 2021-07-31 − (100 − 90 − 1)
    assert states[4][-1] == date(2021, 7, 1)
    assert states[5][-1] == date(2021, 7, 2)  # 2021-07-31 − (120 − 90 − 1)
    assert summary["settled"] == 1
    assert summary["loans_updated"] == len(CASES)


def test_a_loan_without_its_stored_report_fails_the_batch_rather_than_keep_a_stale_state(upload, world,
                                                                                          monkeypatch):
    loan = LoanFactory(programme=world.programme, bank=world.bank, contract_no="GONE1")
    original = status._write_states_from_reports

    def one_more_expected(batch, others, months, ctx, *, expected):
        return original(batch, others, months, ctx, expected=expected + 1)

    monkeypatch.setattr(status, "_write_states_from_reports", one_more_expected)
    batch = upload(status_workbook([status_row(loan.contract_no, JUNE)]), kind="status", filename="月度状态.xlsx")
    assert batch.status == BatchStatus.FAILED
    assert Loan.objects.get(pk=loan.pk).last_report_month is None  # all or nothing
