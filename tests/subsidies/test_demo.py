"""The demo step: subsidies in every stage and enterprise logins (banks/demo/subsidies.py)."""

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from banks.demo import foundation
from banks.demo.subsidies import extra_accounts, load_subsidies
from fund.models import LoanMode
from subsidies.models import BatchStatus, PaymentBatch, Subsidy, SubsidyStatus
from tests.factories import BankFactory, GuarantorFactory

from .factories import SettledLoanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_programme(settings):
    settings.DEMO_PASSWORD = "Demo-Subsidy-2024"
    foundation._PASSWORD = None
    out = StringIO()
    foundation.load_programme(out)
    foundation.load_partners(out)
    yield foundation.programme()
    foundation._PASSWORD = None


def test_without_settled_loans_the_step_creates_nothing_and_says_so(demo_programme):
    out = StringIO()
    load_subsidies(out)
    assert "尚无结清的贷款" in out.getvalue()
    assert not Subsidy.objects.exists()
    assert extra_accounts() == []


def test_subsidies_in_every_stage_and_enterprise_logins(demo_programme):
    # given: eight settled loans of eight borrowers, the second one 政银担
    bank = BankFactory(code="B01")
    for i in range(8):
        extra = {"mode": LoanMode.BANK_GUARANTOR, "guarantor": GuarantorFactory(code="G01"),
                 "guarantee_fee_paid_total": "15000.00"} if i == 1 else {}
        SettledLoanFactory(programme=demo_programme, bank=bank, disbursed_on=date(2021, 6, i + 3), **extra)

    # when: run twice (idempotent)
    out = StringIO()
    load_subsidies(out)
    first = dict(Subsidy.objects.values_list("pk", "status"))
    load_subsidies(StringIO())

    # then
    assert dict(Subsidy.objects.values_list("pk", "status")) == first
    statuses = set(first.values())
    assert statuses == set(SubsidyStatus.values)
    assert PaymentBatch.objects.filter(status=BatchStatus.PAID).count() == 1
    assert PaymentBatch.objects.filter(status=BatchStatus.OPEN).count() == 1
    fee = Subsidy.objects.get(kind="guarantee_fee")
    assert fee.status == SubsidyStatus.APPLIED
    assert fee.documents.count() == 2
    accounts = extra_accounts()
    assert len(accounts) == 7
    request = RequestFactory().post("/enterprise/login/")
    assert authenticate(request, username=accounts[0][0], password="Demo-Subsidy-2024") is not None
    assert "补贴各阶段笔数" in out.getvalue()


def test_pilot_applicants_without_a_loan_are_loaded_once(demo_programme):
    from banks.demo.subsidies import load_pilot_applications
    from subsidies.models import LoanApplication
    from subsidies.selectors import applicant_enterprise_ids

    load_pilot_applications(StringIO())
    load_pilot_applications(StringIO())

    assert LoanApplication.objects.count() == 168
    assert len(applicant_enterprise_ids(programme=demo_programme, as_of=date(2022, 5, 28))) == 168
    assert LoanApplication.objects.filter(status="declined").exclude(reason="").exists()
