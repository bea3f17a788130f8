"""The ledger's admin pages: readable by bureau staff with data present, never editable."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fund.models import Account, Journal, PoolPayment, ReconciliationRun
from fund.services import journal_reverse, ledger_reconcile, pool_pay
from registry import roles
from tests.fund.factories import ProgrammeFactory, UserFactory, fund_pool

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger_data():
    programme = ProgrammeFactory()
    fund_pool(programme, "1000.00")
    payment = pool_pay(programme=programme, amount=Decimal("300.00"), reference="C1", idempotency_key="p",
                       actor=None, on=date(2021, 6, 1))
    journal_reverse(journal=payment.journal, reason="测试冲销", actor=None, idempotency_key="r", on=date(2021, 7, 1))
    ledger_reconcile()
    return programme


@pytest.mark.parametrize("model", [Journal, Account, PoolPayment, ReconciliationRun])
def test_ledger_admin_pages_answer_200_and_refuse_edits(client, ledger_data, model):
    client.force_login(UserFactory(role=roles.ADMINISTRATOR))
    info = (model._meta.app_label, model._meta.model_name)
    assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    obj = model.objects.first()
    assert client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk])).status_code == 200
    assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 403
    assert client.post(reverse("admin:{}_{}_delete".format(*info), args=[obj.pk]), {"post": "yes"}).status_code == 403


def test_the_journal_list_shows_amounts_and_reversals(client, ledger_data):
    client.force_login(UserFactory(role=roles.AUDITOR))
    page = client.get(reverse("admin:fund_journal_changelist")).content.decode()
    assert "1,000.00" in page
    assert "冲销" in page


def test_staff_can_run_a_reconciliation_from_the_admin(client, ledger_data):
    client.force_login(UserFactory(role=roles.AUDITOR))
    response = client.post(reverse("admin:fund_reconciliationrun_run"))
    assert response.status_code == 302
    assert ReconciliationRun.objects.count() == 2
