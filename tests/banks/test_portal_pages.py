"""Portal pages: home, loan list filters, loan detail, the month's exception list, loan
applications (意向申请) and the borrower's activation code."""

from datetime import date
from decimal import Decimal

import pytest

from banks.models import BatchStatus
from fund.models import LoanMode, LoanStatus
from subsidies.models import ActivationCode, LoanApplication, LoanApplicationStatus
from tests.banks.portal_factories import bank_user, loan, report, stored_batch
from tests.factories import BankFactory, EnterpriseFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

JULY = date(2021, 7, 1)


@pytest.fixture
def bank():
    return BankFactory(code="PB", name="页面测试银行")


@pytest.fixture
def user(bank):
    return bank_user(bank)


@pytest.fixture
def july_loans(bank):
    """reported (in July), missing (not in July), settled in June, disbursed in August."""
    batch = stored_batch(bank=bank, content=b"x", status=BatchStatus.APPLIED)
    reported = loan(bank, contract_no="JUL-REPORTED")
    missing = loan(bank, contract_no="JUL-MISSING")
    settled = loan(bank, contract_no="JUN-SETTLED", status=LoanStatus.SETTLED, settled_on=date(2021, 6, 20),
                   outstanding_principal=Decimal("0.00"), last_report_month=date(2021, 6, 1))
    later = loan(bank, contract_no="AUG-DISBURSED", signed_on=date(2021, 8, 1), disbursed_on=date(2021, 8, 2))
    report(reported, JULY, batch=batch)
    report(missing, date(2021, 6, 1), batch=batch)
    report(settled, date(2021, 6, 1), batch=batch, balance=Decimal("0.00"), status=LoanStatus.SETTLED,
           settled_on=date(2021, 6, 20))
    return reported, missing, settled, later


def test_exception_list_shows_registered_loans_missing_from_the_months_report(client, user, july_loans):
    client.force_login(user)

    response = client.get("/bank/exceptions/", {"month": "2021-07"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "JUL-MISSING" in page
    assert "JUL-REPORTED" not in page
    assert "JUN-SETTLED" not in page  # closed before the month
    assert "AUG-DISBURSED" not in page  # not yet disbursed
    assert response.context["status"].expected == 2
    assert response.context["status"].missing == 1


def test_exception_list_with_a_malformed_month_falls_back_to_the_due_month(client, user):
    client.force_login(user)

    response = client.get("/bank/exceptions/", {"month": "July"})

    assert response.status_code == 200
    assert "月份格式应为 YYYY-MM" in response.content.decode()


def test_home_page_shows_the_months_reporting_status_and_shortcuts(client, user, july_loans):
    client.force_login(user)

    page = client.get("/bank/").content.decode()

    assert "页面测试银行" in page
    assert "月度状态报告" in page
    assert "/bank/templates/registration.xlsx" in page
    assert "/bank/uploads/new/" in page


def test_loan_list_filters_by_status_mode_month_and_region(client, user, bank):
    loan(bank, contract_no="F-OVERDUE", status=LoanStatus.OVERDUE, overdue_days=40)
    loan(bank, contract_no="F-AUGUST", signed_on=date(2021, 8, 1), disbursed_on=date(2021, 8, 2))
    loan(bank, contract_no="F-MIANYANG", enterprise=EnterpriseFactory(region_id="510700"))
    from tests.factories import GuarantorFactory

    loan(bank, contract_no="F-GUARANTEED", mode=LoanMode.BANK_GUARANTOR, guarantor=GuarantorFactory())
    client.force_login(user)

    def listed(**params):
        page = client.get("/bank/loans/", params).content.decode()
        return {c for c in ("F-OVERDUE", "F-AUGUST", "F-MIANYANG", "F-GUARANTEED") if c in page}

    assert listed(status="overdue") == {"F-OVERDUE"}
    assert listed(month="2021-08") == {"F-AUGUST"}
    assert listed(region="510700") == {"F-MIANYANG"}
    assert listed(mode="bank_guarantor") == {"F-GUARANTEED"}
    assert listed(q="f-aug") == {"F-AUGUST"}
    assert len(listed()) == 4


def test_loan_list_is_paginated(client, user, bank):
    programme = ProgrammeFactory(code="FBD")
    for i in range(30):
        loan(bank, contract_no=f"PAGE-{i:03d}", programme=programme)
    client.force_login(user)

    first = client.get("/bank/loans/").content.decode()
    second = client.get("/bank/loans/", {"page": 2}).content.decode()

    assert "第 1 / 2 页" in first
    assert first.count("PAGE-") == 25
    assert second.count("PAGE-") == 5


def test_loan_detail_lists_its_monthly_reports_with_corrections_marked(client, user, bank, july_loans):
    reported = july_loans[0]
    client.force_login(user)

    page = client.get(f"/bank/loans/{reported.pk}/").content.decode()

    assert "JUL-REPORTED" in page
    assert "2021-07" in page
    assert "签发企业账户激活码" in page


def test_bank_issues_an_activation_code_shown_once(client, user, bank):
    borrower = loan(bank, contract_no="CODE-1")
    client.force_login(user)

    response = client.post(f"/bank/loans/{borrower.pk}/activation-code/")

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    code = response.context["activation_code"]
    assert code in response.content.decode()
    assert ActivationCode.objects.filter(enterprise=borrower.enterprise).count() == 1
    assert code not in client.get(f"/bank/loans/{borrower.pk}/").content.decode()


def test_applications_are_listed_and_answered_by_the_bank(client, user, bank):
    programme = ProgrammeFactory(code="FBD")
    enterprise = EnterpriseFactory(name="意向申请测试有限公司")
    application = LoanApplication.objects.create(enterprise=enterprise, bank=bank, programme=programme,
                                                 amount=Decimal("500000.00"), purpose="流动资金周转")
    other_bank_app = LoanApplication.objects.create(enterprise=enterprise, bank=BankFactory(), programme=programme,
                                                    amount=Decimal("300000.00"), purpose="采购商品")
    client.force_login(user)

    page = client.get("/bank/applications/").content.decode()
    assert "意向申请测试有限公司" in page
    assert "300,000.00" not in page

    response = client.post(f"/bank/applications/{application.pk}/decide/", {"decision": "decline", "reason": ""})
    application.refresh_from_db()
    assert response.status_code == 302
    assert application.status == LoanApplicationStatus.SUBMITTED  # a reason is required to decline

    client.post(f"/bank/applications/{application.pk}/decide/", {"decision": "accept", "reason": "请携带材料到网点"})
    application.refresh_from_db()
    assert application.status == LoanApplicationStatus.ACCEPTED
    assert application.decided_by == user

    assert client.post(f"/bank/applications/{other_bank_app.pk}/decide/", {"decision": "accept"}).status_code == 404


def test_guarantor_and_bureau_cannot_answer_applications(client, bank):
    from registry import roles

    client.force_login(UserFactory(username="apps_handler", role=roles.HANDLER))
    page = client.get(f"/bank/applications/?bank={bank.code}").content.decode()
    assert "此处只能查看" in page
