"""Admin pages of the intake models answer 200 for a 管理员 and offer no way to change them."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from banks.models import IntakeBatch, StatusReport
from registry import roles
from tests.banks.factories import status_row
from tests.banks.workbooks import status_workbook
from tests.factories import LoanFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_batch_and_status_report_pages_are_read_only(client, upload, world):
    loan = LoanFactory(programme=world.programme, bank=world.bank, signed_on=date(2021, 6, 1),
                       disbursed_on=date(2021, 6, 3))
    upload(status_workbook([status_row(loan.contract_no, date(2021, 6, 1))]), kind="status")
    client.force_login(UserFactory(username="intake_admin", role=roles.ADMINISTRATOR))
    for model in (IntakeBatch, StatusReport):
        info = (model._meta.app_label, model._meta.model_name)
        obj = model.objects.first()
        assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
        assert client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk])).status_code == 200
        assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 403
