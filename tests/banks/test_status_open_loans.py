"""The status intake reads the bank's open loans while the sheet is parsed (``status.OpenLoans``):
the outcome is exactly what looking each row's contract up gives, whatever happens meanwhile."""

from __future__ import annotations

import gc
from datetime import date
from decimal import Decimal

import pytest

from banks import services
from banks.intake import status
from banks.intake.context import IntakeContext
from banks.models import BatchStatus, StatusReport
from fund.models import Loan, LoanStatus
from tests.banks.factories import status_row
from tests.factories import LoanFactory

pytestmark = pytest.mark.django_db

JUNE, JULY = date(2021, 6, 1), date(2021, 7, 1)


@pytest.fixture
def loans(world):
    return [
        LoanFactory(programme=world.programme, bank=world.bank, contract_no=f"OL{i}", principal=Decimal("1000000"),
                    signed_on=date(2021, 6, 1), disbursed_on=date(2021, 6, 3), matures_on=date(2022, 6, 2))
        for i in range(4)
    ]


@pytest.fixture
def lookups(monkeypatch):
    """The contracts looked up one by one (``loans_by_contract``), per call."""
    calls: list[set[str]] = []
    original = status.loans_by_contract

    def spy(ctx, contract_nos):
        calls.append(set(contract_nos))
        return original(ctx, contract_nos)

    monkeypatch.setattr(status, "loans_by_contract", spy)
    return calls


def _issues(batch):
    return sorted((i["row"], i["column"], i["level"], i["message"]) for i in batch.issues)


def _july(loans):
    return [
        status_row(loans[0].contract_no, JULY, outstanding_principal=800_000),
        status_row(loans[1].contract_no, JULY, outstanding_principal=1_000_001),  # above the last balance
        status_row(loans[2].contract_no, JULY, outstanding_principal=0),  # settled in June: closed
        status_row("NOSUCHCONTRACT", JULY),
    ]


def _june(report, loans):
    batch = report([
        status_row(loans[0].contract_no, JUNE, outstanding_principal=900_000),
        status_row(loans[1].contract_no, JUNE, outstanding_principal=950_000),
        status_row(loans[2].contract_no, JUNE, outstanding_principal=0, status="结清", settled_on="2021-06-28"),
    ])
    assert batch.status == BatchStatus.APPLIED, batch.issues


@pytest.mark.parametrize("read_open_loans", [True, False])
def test_reading_the_open_loans_during_the_parse_finds_what_looking_each_contract_up_finds(
        report, loans, lookups, monkeypatch, read_open_loans):
    _june(report, loans)
    monkeypatch.setattr(status, "PREFETCH_MIN_BYTES", 0 if read_open_loans else 10**12)
    lookups.clear()
    batch = report(_july(loans))
    assert batch.status == BatchStatus.REJECTED
    assert [(row, column, level) for row, column, level, _ in _issues(batch)] == [
        (3, "贷款余额(元)", "error"), (4, "借款合同编号", "error"), (5, "借款合同编号", "error")]
    messages = " ".join(message for *_, message in _issues(batch))
    assert "高于2021-06 报告的 950,000.00 元" in messages
    assert "已于 2021-06 报告结清" in messages
    assert "NOSUCHCONTRACT 未在本项目备案" in messages
    every = {loans[0].contract_no, loans[1].contract_no, loans[2].contract_no, "NOSUCHCONTRACT"}
    # read during the parse: only the closed loan and the unknown contract are looked up
    assert lookups == ([{loans[2].contract_no, "NOSUCHCONTRACT"}] if read_open_loans else [every])


def test_a_clean_report_with_the_open_loans_read_during_the_parse_is_applied(report, loans, lookups, monkeypatch):
    monkeypatch.setattr(status, "PREFETCH_MIN_BYTES", 0)
    batch = report([status_row(loan.contract_no, JUNE, outstanding_principal=900_000) for loan in loans])
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert lookups == []
    assert StatusReport.objects.filter(batch=batch).count() == 4
    assert set(Loan.objects.values_list("outstanding_principal", flat=True)) == {Decimal("900000.00")}


def test_open_loans_read_before_another_write_are_not_used(report, loans, lookups, monkeypatch, world):
    """A loan registered (or a report stored) between the read and the cross check: the read is
    older than the cross check's snapshot, so every contract is looked up as before."""
    monkeypatch.setattr(status, "PREFETCH_MIN_BYTES", 0)
    original = status.OpenLoans.__call__

    def read_then_someone_writes(self, sheet_bytes):
        original(self, sheet_bytes)
        assert self.by_contract is not None
        LoanFactory(programme=world.programme, bank=world.bank, contract_no="LATE1", principal=Decimal("500000"),
                    signed_on=date(2021, 6, 1), disbursed_on=date(2021, 6, 3), matures_on=date(2022, 6, 2))

    monkeypatch.setattr(status.OpenLoans, "__call__", read_then_someone_writes)
    batch = report([status_row(loans[0].contract_no, JUNE), status_row("LATE1", JUNE, outstanding_principal=500_000)])
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert lookups == [{loans[0].contract_no, "LATE1"}]


def test_open_loans_are_not_read_when_the_bank_has_many_more_than_the_sheet_has_rows(loans, world):
    ctx = IntakeContext(programme=world.programme, bank=world.bank, today=date(2021, 7, 15))
    few = status.OpenLoans(ctx)
    few(status.PREFETCH_MIN_BYTES)  # room for ~7,000 loans: all four are read
    assert set(few.by_contract) == {loan.contract_no for loan in loans}
    Loan.objects.filter(pk=loans[0].pk).update(status=LoanStatus.SETTLED)
    assert loans[0].contract_no not in _read(ctx)  # closed loans are looked up by contract
    many = status.OpenLoans(ctx)
    many(status.PREFETCH_BYTES_PER_ROW)  # one row expected, at most two loans: not worth it
    assert many.by_contract is None
    small = status.OpenLoans(ctx)
    small(status.PREFETCH_MIN_BYTES - 1)
    assert small.by_contract is None


def _read(ctx):
    open_loans = status.OpenLoans(ctx)
    open_loans(status.PREFETCH_MIN_BYTES)
    return open_loans.take(status.status_snapshot(ctx))


def test_the_garbage_collector_is_paused_while_a_batch_is_processed_and_restored_after(report, loans, monkeypatch):
    seen = []
    original = services._run

    def spy(batch):
        seen.append(gc.isenabled())
        return original(batch)

    monkeypatch.setattr(services, "_run", spy)
    assert gc.isenabled()
    batch = report([status_row(loans[0].contract_no, JUNE)])
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert seen == [False]
    assert gc.isenabled()
