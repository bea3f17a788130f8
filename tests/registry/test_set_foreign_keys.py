"""Foreign keys checked per statement (registry.setfk) keep every guarantee of a declared key."""

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from fund.models import Loan
from registry.models import Bank, Region
from registry.setfk import set_checked_keys
from tests.factories import LoanFactory

pytestmark = pytest.mark.django_db

SET_CHECKED = [  # (table, column, referenced table): fund/0007, registry/0006, banks/0002
    ("fund_loan", "programme_id", "fund_programme"),
    ("fund_loan", "bank_id", "registry_bank"),
    ("fund_loan", "enterprise_id", "registry_enterprise"),
    ("fund_loan", "guarantor_id", "registry_guarantor"),
    ("fund_loan", "registered_by_id", "registry_user"),
    ("registry_enterprise", "region_id", "registry_region"),
    ("registry_enterprise", "industry_id", "registry_industrydivision"),
    ("banks_statusreport", "loan_id", "fund_loan"),
    ("banks_statusreport", "batch_id", "banks_intakebatch"),
]


def _triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'setfk_%%'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'setfk_%'")
        return {row[0] for row in cursor.fetchall()}


def _execute(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(("table", "column", "ref_table"), SET_CHECKED)
def test_every_set_checked_key_has_its_four_triggers(table, column, ref_table):
    # A later migration that rebuilds a table (SQLite does, to alter a column) must not lose them.
    suffixes = ("ins", "upd", "del", "key") if connection.vendor == "postgresql" else ("ins", "upd")
    assert {f"setfk_{table}_{column}_{s}" for s in suffixes} <= _triggers()


@pytest.mark.parametrize(("table", "column", "ref_table"), SET_CHECKED)
def test_the_model_leaves_a_set_checked_key_to_the_triggers(table, column, ref_table):
    field = next(f for m in apps.get_models() if m._meta.db_table == table
                 for f in m._meta.concrete_fields if f.column == column)
    assert field.db_constraint is False
    assert field.related_model._meta.db_table == ref_table


COPY_LOAN = (
    "INSERT INTO fund_loan (programme_id, bank_id, contract_no, enterprise_id, enterprise_name, mode, "
    "guarantee_contract_no, signed_on, disbursed_on, matures_on, principal, annual_rate, purpose, "
    "credit_attested, registered_at, late_override_reason, source_batch, outstanding_principal, "
    "overdue_days, classification, status, interest_paid_total, guarantee_fee_paid_total, ever_overdue) "
    "SELECT programme_id, %s, %s, enterprise_id, enterprise_name, mode, guarantee_contract_no, "
    "signed_on, disbursed_on, matures_on, principal, annual_rate, purpose, credit_attested, registered_at, "
    "late_override_reason, source_batch, outstanding_principal, overdue_days, classification, status, "
    "interest_paid_total, guarantee_fee_paid_total, ever_overdue FROM fund_loan WHERE id = %s"
)


def test_inserting_a_loan_for_a_missing_bank_is_refused():
    loan = LoanFactory()
    _execute(COPY_LOAN, [loan.bank_id, "HT-SAME-BANK", loan.pk])  # the same row with a real bank goes in
    with pytest.raises(IntegrityError):
        _execute(COPY_LOAN, [987654, "HT-NO-BANK", loan.pk])
    assert sorted(Loan.objects.values_list("contract_no", flat=True)) == sorted([loan.contract_no, "HT-SAME-BANK"])


def test_moving_a_loan_to_a_missing_programme_is_refused():
    loan = LoanFactory()
    with pytest.raises(IntegrityError):
        _execute("UPDATE fund_loan SET programme_id = %s WHERE id = %s", [987654, loan.pk])
    loan.refresh_from_db()
    assert loan.programme_id != 987654


def test_an_update_that_leaves_the_key_alone_is_not_checked_again():
    loan = LoanFactory()
    _execute("UPDATE fund_loan SET overdue_days = 3 WHERE id = %s", [loan.pk])
    assert Loan.objects.get(pk=loan.pk).overdue_days == 3


@pytest.mark.postgres  # SQLite: refused by the ORM's PROTECT (flush deletes table by table)
def test_deleting_a_bank_that_has_loans_is_refused_by_the_database():
    loan = LoanFactory()
    with pytest.raises(IntegrityError):
        _execute("DELETE FROM registry_bank WHERE id = %s", [loan.bank_id])
    assert Bank.objects.filter(pk=loan.bank_id).exists()


def test_a_bank_without_loans_can_still_be_deleted():
    bank = LoanFactory().bank
    spare = Bank.objects.create(code="SPARE", name="备用银行", short_name="备用")
    _execute("DELETE FROM registry_bank WHERE id = %s", [spare.pk])
    assert list(Bank.objects.values_list("pk", flat=True)) == [bank.pk]


@pytest.mark.postgres
def test_changing_the_code_of_a_region_in_use_is_refused():
    loan = LoanFactory()
    region = loan.enterprise.region_id
    with pytest.raises(IntegrityError):
        _execute("UPDATE registry_region SET code = %s WHERE code = %s", ["519999", region])
    assert Region.objects.filter(code=region).exists()


def test_an_enterprise_in_a_missing_region_is_refused():
    enterprise = LoanFactory().enterprise
    with pytest.raises(IntegrityError):
        _execute("UPDATE registry_enterprise SET region_id = %s WHERE id = %s", ["999999", enterprise.pk])


def test_the_set_checked_keys_are_read_from_the_models_and_are_exactly_these():
    keys = {(k.table, k.column, k.ref_table) for k in set_checked_keys()}
    assert keys == set(SET_CHECKED)  # no historical copy of a key, nothing left out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_delete_of_a_referenced_row_waits_for_the_open_writer_and_is_then_refused():
    import threading
    import time

    from django.db import connections

    loan = LoanFactory()
    spare = Bank.objects.create(code="LATE", name="新合作银行", short_name="新行")
    inserted, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def writer():
        try:
            with transaction.atomic():
                _execute(COPY_LOAN, [spare.pk, "HT-NEW-BANK", loan.pk])
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    def deleter():
        try:
            started = time.monotonic()
            _execute("DELETE FROM registry_bank WHERE id = %s", [spare.pk])
            outcome["deleted"] = True
        except IntegrityError:
            outcome["refused_after"] = time.monotonic() - started
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer), threading.Thread(target=deleter)]
    threads[0].start()
    assert inserted.wait(10)
    threads[1].start()
    time.sleep(0.5)
    assert threads[1].is_alive()  # the delete waits for the writer's transaction
    release.set()
    for thread in threads:
        thread.join(10)
    assert "deleted" not in outcome
    assert outcome["refused_after"] >= 0.5
    assert Loan.objects.filter(contract_no="HT-NEW-BANK", bank=spare).exists()
