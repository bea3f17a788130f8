"""Bureau staff's admin pages for subsidies: review, approve, batch, export, pay; activation codes."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fund.services import subsidy_budget_fund
from registry.security.testing import verify_second_factor
from subsidies import services
from subsidies.models import ActivationCode, BatchStatus, BorrowerAccount, PaymentBatch, SubsidyStatus

from .factories import OPEN_WINDOW, EnterpriseUserFactory, ProgrammeFactory, SettledLoanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subsidy():
    loan = SettledLoanFactory(programme=ProgrammeFactory(**OPEN_WINDOW))
    (s,) = services.subsidy_compute_for_settlements(loans=[loan])
    owner = EnterpriseUserFactory(enterprise=loan.enterprise)
    return services.subsidy_apply(subsidy=s, actor=owner, payee_name="企业", payee_bank="银行",
                                  payee_account="6222000011112222")


def as_user(client, user, otp=False):
    client.force_login(user)
    if otp:
        verify_second_factor(client, user)
    return client


def action(client, name, objs):
    return client.post(reverse("admin:subsidies_subsidy_changelist"),
                       {"action": name, "_selected_action": [o.pk for o in objs]}, follow=True)


def test_change_page_shows_the_same_calculation_include(client, subsidy, handler):
    html = as_user(client, handler).get(reverse("admin:subsidies_subsidy_change", args=[subsidy.pk])).content.decode()
    assert "subsidy-calculation" in html
    assert "计算公式（R35）" in html
    assert "subsidy.applied" in html


def test_review_approve_reject_through_the_admin(client, subsidy, handler, approver):
    action(as_user(client, handler), "start_review", [subsidy])
    subsidy.refresh_from_db()
    assert subsidy.status == SubsidyStatus.UNDER_REVIEW

    response = action(as_user(client, approver, otp=True), "approve", [subsidy])
    assert response.status_code == 200
    subsidy.refresh_from_db()
    assert subsidy.status == SubsidyStatus.APPROVED


def test_the_reviewer_approving_sees_the_refusal(client, subsidy, administrator):
    as_user(client, administrator, otp=True)
    action(client, "start_review", [subsidy])
    response = action(client, "approve", [subsidy])
    assert "不能核准自己审核" in response.content.decode()
    subsidy.refresh_from_db()
    assert subsidy.status == SubsidyStatus.UNDER_REVIEW


def test_reject_view_records_the_reason(client, subsidy, handler):
    as_user(client, handler)
    url = reverse("admin:subsidies_subsidy_reject", args=[subsidy.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"reason": "账户信息有误"})
    subsidy.refresh_from_db()
    assert (subsidy.status, subsidy.status_reason) == (SubsidyStatus.REJECTED, "账户信息有误")


def test_batch_export_and_pay_pages(client, subsidy, handler, approver, administrator):
    # given: approved and batched
    services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.UNDER_REVIEW, actor=handler)
    services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.APPROVED, actor=approver)
    action(as_user(client, handler), "make_batch", [subsidy])
    batch = PaymentBatch.objects.get()
    subsidy_budget_fund(programme=batch.programme, amount=Decimal("1000000"), on=date(2022, 1, 1),
                        idempotency_key="budget", actor=administrator)

    # when: export
    as_user(client, administrator, otp=True)
    assert client.get(reverse("admin:subsidies_paymentbatch_change", args=[batch.pk])).status_code == 200
    response = client.get(reverse("admin:subsidies_paymentbatch_export", args=[batch.pk]))
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet.cell(row=3, column=3).value == subsidy.enterprise.credit_code

    # when: pay
    url = reverse("admin:subsidies_paymentbatch_pay", args=[batch.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"voucher_reference": "GK-9", "paid_on": "2022-07-01"})

    # then
    batch.refresh_from_db()
    subsidy.refresh_from_db()
    assert batch.status == BatchStatus.PAID
    assert subsidy.status == SubsidyStatus.PAID


def test_issue_activation_codes_from_the_admin_shows_each_code_once(client, subsidy, handler):
    response = as_user(client, handler).post(reverse("admin:subsidies_borroweraccount_changelist"), {
        "action": "issue_codes", "_selected_action": [subsidy.enterprise_id],
    })
    html = response.content.decode()
    assert response.status_code == 200
    assert subsidy.enterprise.credit_code in html
    assert "7 天内有效" in html
    assert ActivationCode.objects.filter(enterprise=subsidy.enterprise).count() == 1
    assert BorrowerAccount.objects.filter(pk=subsidy.enterprise_id).exists()
