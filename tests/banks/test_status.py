"""Monthly status reports (bank-workbooks.md §2, R43): latest state, settlements with the subsidy
inputs, the month's exception list, corrections, refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from banks import selectors, services
from banks.models import BatchStatus, StatusReport
from fund.models import Loan, LoanMode, LoanStatus
from tests.banks.factories import status_row
from tests.factories import LoanFactory

pytestmark = pytest.mark.django_db

JUNE, JULY, AUGUST, SEPTEMBER = date(2021, 6, 1), date(2021, 7, 1), date(2021, 8, 1), date(2021, 9, 1)


@pytest.fixture
def loans(world):
    return [
        LoanFactory(programme=world.programme, bank=world.bank, contract_no=f"ST{i}", principal=Decimal("1000000"),
                    signed_on=date(2021, 6, 1), disbursed_on=date(2021, 6, 3), matures_on=date(2022, 6, 2))
        for i in range(3)
    ]


def _errors(batch, level="error"):
    return sorted((i["row"], i["column"], i["level"]) for i in batch.issues if i["level"] == level)


def test_monthly_report_updates_each_loans_latest_state(report, loans):
    batch = report([status_row(loan.contract_no, JUNE, outstanding_principal=900_000, principal_repaid=100_000)
                    for loan in loans])
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert batch.summary["reports_created"] == 3
    loan = Loan.objects.get(pk=loans[0].pk)
    assert loan.outstanding_principal == Decimal("900000.00")
    assert loan.last_report_month == JUNE
    assert loan.status == LoanStatus.CURRENT
    assert loan.interest_paid_total == Decimal("2875.00")
    stored = StatusReport.objects.get(loan=loan, month=JUNE)
    assert stored.batch_id == batch.pk
    assert stored.is_current
    assert not stored.is_correction


def test_settlement_is_recorded_with_everything_the_subsidy_needs(report, loans, monkeypatch):
    settled_seen = []
    monkeypatch.setattr(services, "_after_settlements", lambda loans: settled_seen.extend(loans))
    report([status_row(loans[0].contract_no, JUNE)])
    batch = report([status_row(loans[0].contract_no, JULY, outstanding_principal=0, principal_repaid=1_000_000,
                               status="结清", settled_on="2021-07-20", interest_paid_total=12_345.67,
                               guarantee_fee_paid_total=0)])
    assert batch.status == BatchStatus.APPLIED, batch.issues
    loan = Loan.objects.get(pk=loans[0].pk)
    assert loan.status == LoanStatus.SETTLED
    assert loan.settled_on == date(2021, 7, 20)
    assert loan.outstanding_principal == 0
    assert loan.interest_paid_total == Decimal("12345.67")
    assert loan.guarantee_fee_paid_total == 0
    assert loan.ever_overdue is False  # never overdue: eligible for R35
    assert [x.pk for x in settled_seen] == [loan.pk]
    assert batch.summary["settled"] == 1


def test_guarantee_fee_paid_is_kept_for_the_fee_subsidy(report, world):
    loan = LoanFactory(programme=world.programme, bank=world.bank, mode=LoanMode.BANK_GUARANTOR,
                       guarantor=world.guarantor, guarantee_contract_no="DB1", guarantee_fee_rate=Decimal("1.5"),
                       signed_on=date(2021, 6, 1), disbursed_on=date(2021, 6, 3))
    batch = report([status_row(loan.contract_no, JUNE, outstanding_principal=0, status="结清",
                               settled_on="2021-06-30", guarantee_fee_paid_total=15_000)])
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert Loan.objects.get(pk=loan.pk).guarantee_fee_paid_total == Decimal("15000.00")


def test_overdue_beyond_the_claim_threshold_sets_nonperforming_since(report, loans):
    batch = report([status_row(loans[0].contract_no, SEPTEMBER, overdue_days=100, status="逾期",
                               classification="次级")])
    assert batch.status == BatchStatus.APPLIED, batch.issues
    loan = Loan.objects.get(pk=loans[0].pk)
    assert loan.ever_overdue is True
    assert loan.classification == "substandard"
    # 91st day overdue: 2021-09-30 − (100 − 90 − 1) days
    assert loan.nonperforming_since == date(2021, 9, 21)


def test_balance_rising_without_a_new_disbursement_is_refused_r43(report, loans):
    report([status_row(loans[0].contract_no, JUNE, outstanding_principal=800_000)])
    batch = report([status_row(loans[0].contract_no, JULY, outstanding_principal=900_000)])
    assert batch.status == BatchStatus.REJECTED
    assert _errors(batch) == [(2, "贷款余额(元)", "error")]
    assert "800,000.00" in batch.issues[0]["message"]
    assert not StatusReport.objects.filter(month=JULY).exists()


def test_balance_above_the_principal_in_a_first_report_is_refused(report, loans):
    batch = report([status_row(loans[0].contract_no, JUNE, outstanding_principal=1_000_001)])
    assert _errors(batch) == [(2, "贷款余额(元)", "error")]


def test_unknown_loan_is_refused_r43(report, loans):
    batch = report([status_row("NOSUCHCONTRACT", JUNE)])
    assert _errors(batch) == [(2, "借款合同编号", "error")]


def test_closed_loan_cannot_be_reported_again_r43(report, loans):
    report([status_row(loans[0].contract_no, JUNE, outstanding_principal=0, status="结清", settled_on="2021-06-28")])
    batch = report([status_row(loans[0].contract_no, JULY, outstanding_principal=0)])
    assert _errors(batch) == [(2, "借款合同编号", "error")]
    assert "已于 2021-06 报告结清" in batch.issues[0]["message"]


def test_settlement_date_before_disbursement_is_refused_r43(report, loans):
    batch = report([status_row(loans[0].contract_no, JUNE, outstanding_principal=0, status="结清",
                               settled_on="2021-06-01")])
    assert _errors(batch) == [(2, "结清日期", "error")]


def test_settlement_needs_its_date_and_a_zero_balance(report, loans):
    batch = report([
        status_row(loans[0].contract_no, JUNE, outstanding_principal=0, status="结清"),
        status_row(loans[1].contract_no, JUNE, outstanding_principal=5, status="结清", settled_on="2021-06-30"),
    ])
    assert _errors(batch) == [(2, "结清日期", "error"), (3, "贷款余额(元)", "error")]


def test_status_and_overdue_days_must_agree(report, loans):
    batch = report([status_row(loans[0].contract_no, JUNE, overdue_days=5),
                    status_row(loans[1].contract_no, JUNE, status="逾期")])
    assert _errors(batch) == [(2, "逾期天数", "error"), (3, "逾期天数", "error")]


def test_same_month_with_the_same_figures_is_a_no_op(report, loans):
    rows = [status_row(loans[0].contract_no, JUNE)]
    report(rows)
    again = report([*rows, status_row(loans[1].contract_no, JUNE)])
    assert again.status == BatchStatus.APPLIED, again.issues
    assert again.summary["skipped"] == 1
    assert _errors(again, "info") == [(2, "报告月份", "info")]
    assert StatusReport.objects.filter(loan=loans[0]).count() == 1


def test_same_month_with_different_figures_needs_an_explicit_correction_r43(report, loans):
    report([status_row(loans[0].contract_no, JUNE, outstanding_principal=900_000)])
    refused = report([status_row(loans[0].contract_no, JUNE, outstanding_principal=950_000)])
    assert refused.status == BatchStatus.REJECTED
    assert "更正报送" in refused.issues[0]["message"]
    corrected = report([status_row(loans[0].contract_no, JUNE, outstanding_principal=950_000)], is_correction=True)
    assert corrected.status == BatchStatus.APPLIED, corrected.issues
    assert corrected.summary["corrections"] == 1
    old, new = StatusReport.objects.filter(loan=loans[0], month=JUNE).order_by("id")
    assert (old.is_current, old.outstanding_principal) == (False, Decimal("900000.00"))
    assert (new.is_current, new.is_correction, new.supersedes_id) == (True, True, old.pk)
    assert Loan.objects.get(pk=loans[0].pk).outstanding_principal == Decimal("950000.00")


def test_correction_of_an_overdue_month_recomputes_the_overdue_history(report, loans):
    report([status_row(loans[0].contract_no, JUNE, overdue_days=100, status="逾期")])
    assert Loan.objects.get(pk=loans[0].pk).ever_overdue is True
    report([status_row(loans[0].contract_no, JUNE)], is_correction=True)
    loan = Loan.objects.get(pk=loans[0].pk)
    assert loan.ever_overdue is False
    assert loan.nonperforming_since is None


def test_a_late_month_does_not_overwrite_the_latest_state(report, loans):
    report([status_row(loans[0].contract_no, JULY, outstanding_principal=700_000)])
    batch = report([status_row(loans[0].contract_no, JUNE, outstanding_principal=800_000)])
    assert batch.status == BatchStatus.APPLIED, batch.issues
    loan = Loan.objects.get(pk=loans[0].pk)
    assert (loan.last_report_month, loan.outstanding_principal) == (JULY, Decimal("700000.00"))


def test_exception_list_names_registered_loans_missing_from_the_months_report(report, loans, world):
    report([status_row(loans[0].contract_no, JUNE),
            status_row(loans[1].contract_no, JUNE, outstanding_principal=0, status="结清", settled_on="2021-06-30")])
    june = selectors.missing_status_reports(user=world.user, month=JUNE)
    assert [loan.contract_no for loan in june] == [loans[2].contract_no]
    july = selectors.missing_status_reports(user=world.user, month=JULY)
    assert [loan.contract_no for loan in july] == [loans[0].contract_no, loans[2].contract_no]
    assert not selectors.missing_status_reports(user=world.user, month=date(2021, 5, 1)).exists()


def test_suspension_rules_are_evaluated_after_each_status_batch(report, loans, monkeypatch):
    from fund import services as fund_services

    calls = []
    monkeypatch.setattr(fund_services, "suspension_evaluate", lambda **kw: calls.append(kw), raising=False)
    report([status_row(loans[0].contract_no, JUNE)])
    assert len(calls) == 1
    assert calls[0]["programme"] == loans[0].programme


def test_status_report_for_another_banks_loan_is_unknown(report, world):
    other = LoanFactory(programme=world.programme, contract_no="OTHERBANK1", signed_on=date(2021, 6, 1),
                        disbursed_on=date(2021, 6, 3))
    batch = report([status_row(other.contract_no, JUNE)])
    assert _errors(batch) == [(2, "借款合同编号", "error")]


def test_month_formats_and_report_before_disbursement(report, loans):
    batch = report([status_row(loans[0].contract_no, JUNE, report_month="2021年6月"),
                    status_row(loans[1].contract_no, JUNE, report_month="202106"),
                    status_row(loans[2].contract_no, JUNE, report_month="2021/05")])
    assert _errors(batch) == [(4, "报告月份", "error")]
