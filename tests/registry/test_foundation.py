"""Foundation: reference data migration, roles, audit helper, database constraints, health."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from registry import roles
from registry.audit import record_event
from registry.models import DomainEvent, IndustryDivision, LprRate, Region, SmeThreshold
from tests.factories import BankFactory, EnterpriseFactory, LoanFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_reference_data_is_loaded_by_migration():
    assert Region.objects.count() == 21
    assert Region.objects.get(code="513200").short_name == "阿坝州"
    assert IndustryDivision.objects.get(code="65").section_id == "I"
    assert IndustryDivision.objects.filter(is_service=True, code__in=["05", "11", "43"]).count() == 3
    assert not IndustryDivision.objects.get(code="13").is_service
    assert LprRate.objects.get(effective_from=date(2022, 1, 20)).rate_percent == Decimal("3.70")
    assert SmeThreshold.objects.count() == 16


def test_every_role_group_exists():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)


def test_auditor_can_view_everything_and_change_nothing():
    codenames = set(Group.objects.get(name=roles.AUDITOR).permissions.values_list("codename", flat=True))
    assert "view_loan" in codenames
    assert all(c.startswith("view_") for c in codenames)


def test_handler_cannot_change_programme_parameters():
    codenames = set(Group.objects.get(name=roles.HANDLER).permissions.values_list("codename", flat=True))
    assert "change_enterprise" in codenames
    assert "change_parameterset" not in codenames
    assert not any(c.startswith(("approve_", "pay_")) for c in codenames)


def test_record_event_writes_actor_object_and_json_params():
    user = UserFactory()
    bank = BankFactory()
    event = record_event(actor=user, event_type="bank.test", obj=bank, amount=Decimal("12.50"), on=date(2022, 1, 1))
    assert (event.actor, event.object_type, event.object_id) == (user, "registry.bank", str(bank.pk))
    assert event.params == {"amount": "12.50", "on": "2022-01-01"}


def test_audit_events_cannot_be_edited_or_deleted():
    event = record_event(actor=None, event_type="bank.test", obj=BankFactory())
    event.event_type = "changed"
    with pytest.raises(RuntimeError, match="只能追加"):
        event.save()
    with pytest.raises(RuntimeError, match="只能追加"):
        event.delete()
    assert DomainEvent.objects.get().event_type == "bank.test"


def test_loan_contract_number_is_unique_per_bank_r16():
    loan = LoanFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        LoanFactory(bank=loan.bank, contract_no=loan.contract_no)


def test_same_contract_number_at_another_bank_is_allowed():
    loan = LoanFactory()
    assert LoanFactory(contract_no=loan.contract_no, programme=loan.programme).pk


def test_loan_principal_must_be_positive():
    with pytest.raises(IntegrityError), transaction.atomic():
        LoanFactory(principal=Decimal("0"), outstanding_principal=Decimal("0"))


def test_loan_dates_must_be_ordered():
    with pytest.raises(IntegrityError), transaction.atomic():
        LoanFactory(signed_on=date(2021, 7, 1), disbursed_on=date(2021, 6, 1))


def test_bank_guarantor_loan_must_name_its_guarantor_r21():
    with pytest.raises(IntegrityError), transaction.atomic():
        LoanFactory(mode="bank_guarantor", guarantor=None)


def test_user_is_bound_to_at_most_one_organisation():
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(bank=BankFactory(), enterprise=EnterpriseFactory())


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
