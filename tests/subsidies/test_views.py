"""The enterprise portal over HTTP: login by credit code, isolation between enterprises,
applying online, loan applications, the anonymous lookup (throttled, not enumerable)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry import roles
from subsidies import services
from subsidies.models import DocumentType, LoanApplication, Subsidy, SubsidyKind, SubsidyStatus
from tests.factories import PartnershipFactory, UserFactory

from .factories import (
    OPEN_WINDOW,
    EnterpriseUserFactory,
    GuaranteedLoanFactory,
    ProgrammeFactory,
    SettledLoanFactory,
)

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"
PASSWORD = "Qiye-Passw0rd!"


@pytest.fixture
def programme():
    return ProgrammeFactory(**OPEN_WINDOW)


@pytest.fixture
def loan_a(programme):
    return GuaranteedLoanFactory(programme=programme, contract_no="HT-A-001")


@pytest.fixture
def user_a(loan_a):
    return EnterpriseUserFactory(enterprise=loan_a.enterprise)


@pytest.fixture
def subsidies_a(loan_a):
    return {s.kind: s for s in services.subsidy_compute_for_settlements(loans=[loan_a])}


@pytest.fixture
def user_b(programme):
    loan = SettledLoanFactory(programme=programme)
    services.subsidy_compute_for_settlements(loans=[loan])
    return EnterpriseUserFactory(enterprise=loan.enterprise)


def login(client, user):
    client.force_login(user)
    return client


# --- login ------------------------------------------------------------------------------


def test_enterprise_logs_in_with_its_credit_code(client, user_a):
    page = client.get(reverse("enterprise:login"))
    assert "统一社会信用代码" in page.content.decode()
    response = client.post(reverse("enterprise:login"), {"username": user_a.username.lower(), "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("enterprise:home")


def test_a_bank_user_cannot_log_in_to_the_enterprise_portal(client):
    UserFactory(username="BANK01", role=roles.BANK_USER)
    response = client.post(reverse("enterprise:login"), {"username": "bank01", "password": "Passw0rd!x"})
    assert response.status_code == 200
    assert "不是企业账号" in response.content.decode()


def test_portal_pages_need_an_enterprise_login(client):
    response = client.get(reverse("enterprise:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("enterprise:login"))


def test_staff_see_a_plain_403_on_enterprise_pages(client, handler):
    response = login(client, handler).get(reverse("enterprise:home"))
    assert response.status_code == 403
    assert "仅供企业用户使用" in response.content.decode()


# --- home, loan, subsidy ------------------------------------------------------------------


def test_home_shows_loans_subsidies_stage_and_next_step(client, user_a, subsidies_a):
    html = login(client, user_a).get(reverse("enterprise:home")).content.decode()
    assert "HT-A-001" in html
    assert "贷款贴息" in html
    assert "担保费补贴" in html
    assert "已测算待申请" in html
    assert "前在线确认并提交申请" in html


def test_home_explains_why_an_overdue_loan_gets_nothing(client, programme):
    loan = SettledLoanFactory(programme=programme, ever_overdue=True)
    user = EnterpriseUserFactory(enterprise=loan.enterprise)
    html = login(client, user).get(reverse("enterprise:home")).content.decode()
    assert "曾经逾期" in html


def test_subsidy_page_shows_the_calculation_and_timeline(client, user_a, subsidies_a):
    s = subsidies_a[SubsidyKind.INTEREST]
    html = login(client, user_a).get(reverse("enterprise:subsidy", args=[s.pk])).content.decode()
    assert "计算公式（R35）" in html
    assert "结清日" in html
    assert "1年期LPR" in html
    assert "系统自动测算补贴" in html
    assert "确认并提交申请" in html


def test_enterprise_applies_online_with_uploads(client, user_a, subsidies_a):
    fee = subsidies_a[SubsidyKind.GUARANTEE_FEE]
    response = login(client, user_a).post(reverse("enterprise:subsidy", args=[fee.pk]), {
        "payee_name": "企业", "payee_bank": "测试银行", "payee_account": "6222000011112222", "confirm": "on",
        "guarantee_contract": SimpleUploadedFile("ht.pdf", PDF), "fee_invoice": SimpleUploadedFile("fp.pdf", PDF),
    })
    assert response.status_code == 302
    fee.refresh_from_db()
    assert fee.status == SubsidyStatus.APPLIED
    assert fee.documents.count() == 2
    html = client.get(reverse("enterprise:subsidy", args=[fee.pk])).content.decode()
    assert "企业提交申请" in html
    assert "担保费发票" in html


def test_apply_form_shows_the_service_refusal(client, user_a, subsidies_a):
    fee = subsidies_a[SubsidyKind.GUARANTEE_FEE]
    response = login(client, user_a).post(reverse("enterprise:subsidy", args=[fee.pk]), {
        "payee_name": "企业", "payee_bank": "测试银行", "payee_account": "6222000011112222", "confirm": "on",
        "guarantee_contract": SimpleUploadedFile("ht.exe", PDF), "fee_invoice": SimpleUploadedFile("fp.pdf", PDF),
    })
    assert response.status_code == 200
    assert "格式不支持" in response.content.decode()
    fee.refresh_from_db()
    assert fee.status == SubsidyStatus.COMPUTED


def test_outside_the_window_the_page_says_so_and_a_post_is_refused_in_chinese(client):
    programme = ProgrammeFactory(parameters__application_opens=date(2021, 1, 1),
                                 parameters__application_closes=date(2022, 12, 31))
    loan = SettledLoanFactory(programme=programme)
    user = EnterpriseUserFactory(enterprise=loan.enterprise)
    (s,) = services.subsidy_compute_for_settlements(loans=[loan])
    login(client, user)
    html = client.get(reverse("enterprise:subsidy", args=[s.pk])).content.decode()
    assert "已于 2022年12月31日 截止" in html
    response = client.post(reverse("enterprise:subsidy", args=[s.pk]), {"confirm": "on"}, follow=True)
    assert "补贴申请已于 2022年12月31日 截止" in response.content.decode()
    s.refresh_from_db()
    assert s.status == SubsidyStatus.COMPUTED


# --- isolation ------------------------------------------------------------------------------


def test_enterprise_b_gets_404_on_a_loan_subsidy_and_document(client, user_a, subsidies_a, user_b):
    fee = subsidies_a[SubsidyKind.GUARANTEE_FEE]
    doc = services.subsidy_document_add(subsidy=fee, doc_type=DocumentType.FEE_INVOICE,
                                        upload=SimpleUploadedFile("fp.pdf", PDF), actor=user_a)
    login(client, user_b)
    assert client.get(reverse("enterprise:loan", args=[fee.loan_id])).status_code == 404
    assert client.get(reverse("enterprise:subsidy", args=[fee.pk])).status_code == 404
    assert client.post(reverse("enterprise:subsidy", args=[fee.pk]), {"confirm": "on"}).status_code == 404
    assert client.get(reverse("enterprise:document", args=[doc.pk])).status_code == 404
    html = client.get(reverse("enterprise:home")).content.decode()
    assert "HT-A-001" not in html


def test_documents_download_for_the_owner_and_bureau_staff_only(client, user_a, subsidies_a, auditor_user):
    fee = subsidies_a[SubsidyKind.GUARANTEE_FEE]
    doc = services.subsidy_document_add(subsidy=fee, doc_type=DocumentType.FEE_INVOICE,
                                        upload=SimpleUploadedFile("发票.pdf", PDF), actor=user_a)
    url = reverse("enterprise:document", args=[doc.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    response = login(client, user_a).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    assert login(client, auditor_user).get(url).status_code == 200
    bank_user = UserFactory(username="bank09", role=roles.BANK_USER)
    assert login(client, bank_user).get(url).status_code == 404


@pytest.fixture
def auditor_user(db):
    return UserFactory(username="shenji", role=roles.AUDITOR)


# --- activation -----------------------------------------------------------------------------


def test_activation_page_creates_the_login(client, loan_a, handler):
    code = services.activation_code_issue(enterprise=loan_a.enterprise, actor=handler)
    credit_code = loan_a.enterprise.credit_code
    response = client.post(reverse("enterprise:activate"), {
        "credit_code": credit_code.lower(), "code": code.lower(), "password1": "Xin-Mima-2024", "password2": "Xin-Mima-2024",
    })
    assert response.status_code == 302
    response = client.post(reverse("enterprise:login"), {"username": credit_code, "password": "Xin-Mima-2024"})
    assert response.status_code == 302


def test_activation_with_a_wrong_code_is_refused_in_chinese(client, loan_a):
    response = client.post(reverse("enterprise:activate"), {
        "credit_code": loan_a.enterprise.credit_code, "code": "AAAA-BBBB", "password1": "Xin-Mima-2024",
        "password2": "Xin-Mima-2024",
    })
    assert "激活码不正确" in response.content.decode()


def test_activation_attempts_are_throttled_per_credit_code(client, loan_a):
    data = {"credit_code": loan_a.enterprise.credit_code, "code": "AAAA-BBBB", "password1": "x", "password2": "x"}
    statuses = [client.post(reverse("enterprise:activate"), data, REMOTE_ADDR=f"10.0.0.{i}").status_code
                for i in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429


# --- loan applications ------------------------------------------------------------------------


def test_enterprise_submits_a_loan_application_to_a_partner_bank(client, user_a, programme):
    partnership = PartnershipFactory(programme=programme)
    response = login(client, user_a).post(reverse("enterprise:applications"), {
        "partnership": partnership.pk, "amount": "800000", "purpose": "采购商品", "contact_name": "王经理",
        "contact_phone": "028-12345678",
    })
    assert response.status_code == 302
    application = LoanApplication.objects.get()
    assert (application.bank, application.amount, application.enterprise) == (
        partnership.bank, Decimal("800000.00"), user_a.enterprise)
    assert "已提交" in client.get(reverse("enterprise:applications")).content.decode()


# --- anonymous lookup ---------------------------------------------------------------------------


def lookup(client, credit_code, contract_no, ip="192.0.2.1"):
    return client.post(reverse("enterprise:lookup"), {"credit_code": credit_code, "contract_no": contract_no},
                       REMOTE_ADDR=ip)


def test_lookup_shows_only_the_stage(client, loan_a, subsidies_a):
    response = lookup(client, loan_a.enterprise.credit_code, "HT-A-001")
    html = response.content.decode()
    assert response.status_code == 200
    assert "贷款贴息：<strong>已测算待申请</strong>" in html
    assert loan_a.enterprise.name not in html
    assert str(subsidies_a[SubsidyKind.INTEREST].amount) not in html
    assert f"{subsidies_a[SubsidyKind.INTEREST].amount:,.2f}" not in html


def _result(response) -> str:
    html = response.content.decode()
    start = html.index('id="lookup-result"')
    return html[start:html.index("</section>", start)]


def test_lookup_misses_are_indistinguishable(client, loan_a, subsidies_a, user_b, programme):
    no_subsidy = SettledLoanFactory(programme=programme, ever_overdue=True, contract_no="HT-NONE")
    other_contract = Subsidy.objects.exclude(loan=loan_a).first().loan.contract_no
    answers = {
        _result(lookup(client, "91510100MA0000000X", "HT-A-001", ip="192.0.2.10")),  # unknown code
        _result(lookup(client, loan_a.enterprise.credit_code, "HT-NOPE", ip="192.0.2.11")),  # unknown contract
        _result(lookup(client, loan_a.enterprise.credit_code, other_contract, ip="192.0.2.12")),  # mismatched pair
        _result(lookup(client, no_subsidy.enterprise.credit_code, "HT-NONE", ip="192.0.2.13")),  # no subsidy
    }
    assert len(answers) == 1
    assert "未找到匹配的贷款或尚无补贴记录" in answers.pop()


def test_lookup_is_throttled_per_ip(client, loan_a):
    statuses = [lookup(client, f"CODE{i}", "HT", ip="198.51.100.7").status_code for i in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_lookup_is_throttled_per_credit_code_across_ips(client, loan_a):
    statuses = [lookup(client, loan_a.enterprise.credit_code, "HT", ip=f"203.0.113.{i}").status_code for i in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    assert "查询过于频繁" in lookup(client, loan_a.enterprise.credit_code, "HT", ip="203.0.113.99").content.decode()


def test_lookup_page_is_public(client):
    response = client.get(reverse("enterprise:lookup"))
    assert response.status_code == 200
    assert "补贴进度查询" in response.content.decode()
