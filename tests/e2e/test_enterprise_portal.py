"""Browser test at a phone-sized viewport: an enterprise activates its account, applies for its
interest subsidy and, after staff review, approval and payment (done via services), sees it paid."""

import importlib
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Qiye-Xin-Mima-2024"


@pytest.fixture(autouse=True)
def _reference_data(transactional_db):
    """A transactional test before this one may have flushed what migrations put in the database
    (content types, permissions, role groups, regions, industries, LPR): put it back, idempotently."""
    from django.apps import apps
    from django.core.management.sql import emit_post_migrate_signal

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    importlib.import_module("registry.migrations.0002_reference_data").load(apps, None)


@pytest.fixture
def settled_loan(transactional_db):
    from tests.factories import EnterpriseFactory
    from tests.subsidies.factories import OPEN_WINDOW, ProgrammeFactory, SettledLoanFactory

    programme = ProgrammeFactory(**OPEN_WINDOW, name="服保贷")
    enterprise = EnterpriseFactory(name="成都锦程商贸有限公司")
    return SettledLoanFactory(programme=programme, enterprise=enterprise, principal=Decimal("3000000.00"),
                              contract_no="GH-2021-0618")


def shot(page, screenshot_dir, name):
    page.screenshot(path=str(screenshot_dir / f"enterprise_{name}.png"), full_page=True)


def test_enterprise_activates_applies_and_sees_its_subsidy_paid(live_server, phone_page, screenshot_dir, settled_loan):
    from fund.services import subsidy_budget_fund
    from registry import roles
    from subsidies import services
    from subsidies.models import Subsidy, SubsidyStatus
    from tests.factories import UserFactory

    page = phone_page
    handler = UserFactory(username="e2e_handler", role=roles.HANDLER)
    approver = UserFactory(username="e2e_approver", role=roles.APPROVER)
    admin = UserFactory(username="e2e_admin", role=roles.ADMINISTRATOR)
    (subsidy,) = services.subsidy_compute_for_settlements(loans=[settled_loan])
    credit_code = settled_loan.enterprise.credit_code

    # given: the bank (here: bureau staff) issued a one-time activation code
    code = services.activation_code_issue(enterprise=settled_loan.enterprise, actor=handler)

    # when: the enterprise activates its account on the phone
    page.goto(live_server.url + "/enterprise/activate/")
    page.fill("#id_credit_code", credit_code)
    page.fill("#id_code", code)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    shot(page, screenshot_dir, "1_activate")
    page.click("main button[type=submit]")

    # then: it is sent to the login page, and logs in with its credit code
    page.wait_for_url("**/enterprise/login/")
    expect(page.locator(".messages")).to_contain_text("账户已激活")
    page.fill("#id_username", credit_code)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/enterprise/")
    expect(page.locator(".loan")).to_contain_text("GH-2021-0618")
    expect(page.locator(".subsidy")).to_contain_text("已测算待申请")
    shot(page, screenshot_dir, "2_home_computed")

    # when: it opens the subsidy and applies (prefilled; it adds its account number)
    page.click("text=查看并申请")
    expect(page.locator(".subsidy-calculation")).to_contain_text("R35")
    expect(page.locator("#id_payee_name")).to_have_value("成都锦程商贸有限公司")
    page.fill("#id_payee_account", "6222 0210 0100 8888")
    page.check("#id_confirm")
    shot(page, screenshot_dir, "3_apply_form")
    page.click("main button[type=submit]")

    # then
    expect(page.locator(".messages")).to_contain_text("申请已提交")
    expect(page.locator(".badge")).to_contain_text("已申请")
    shot(page, screenshot_dir, "4_applied")

    # when: staff review, approve, batch and pay (maker-checker: three different people)
    subsidy = Subsidy.objects.get(pk=subsidy.pk)
    services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.UNDER_REVIEW, actor=handler)
    services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.APPROVED, actor=approver)
    batch = services.payment_batch_create(programme=settled_loan.programme, actor=handler)
    subsidy_budget_fund(programme=settled_loan.programme, amount=Decimal("1000000.00"), on=date(2022, 1, 4),
                        idempotency_key="e2e-budget", actor=admin)
    services.payment_batch_mark_paid(batch=batch, voucher_reference="GK20220705-0001", paid_on=date(2022, 7, 5),
                                     actor=admin)

    # then: the enterprise sees it paid, with the timeline
    page.reload()
    expect(page.locator(".badge")).to_contain_text("已支付")
    expect(page.locator("#next-step")).to_contain_text("补贴已支付")
    expect(page.locator("ol.timeline")).to_contain_text("补贴已支付")
    shot(page, screenshot_dir, "5_paid")
    page.goto(live_server.url + "/enterprise/")
    expect(page.locator(".subsidy")).to_contain_text("已支付")
    shot(page, screenshot_dir, "6_home_paid")

    # and it can ask a partner bank for a new loan (意向申请)
    from tests.factories import PartnershipFactory

    PartnershipFactory(programme=settled_loan.programme, bank=settled_loan.bank)
    page.click("text=向合作银行申请贷款")
    page.select_option("#id_partnership", index=1)
    page.fill("#id_amount", "1500000")
    page.fill("#id_purpose", "采购春季商品")
    page.fill("#id_contact_phone", "028-86001234")
    page.click("main button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("申请已提交")
    expect(page.locator("main")).to_contain_text("1,500,000.00 元")
    shot(page, screenshot_dir, "6b_loan_application")

    # and the anonymous lookup shows only the stage
    page.context.clear_cookies()
    page.goto(live_server.url + "/enterprise/lookup/")
    page.fill("#id_credit_code", credit_code)
    page.fill("#id_contract_no", "GH-2021-0618")
    page.click("main button[type=submit]")
    expect(page.locator("#lookup-result")).to_contain_text("贷款贴息：已支付")
    expect(page.locator("#lookup-result")).not_to_contain_text("成都锦程")
    shot(page, screenshot_dir, "7_lookup")


def test_fee_subsidy_upload_on_a_phone_and_a_rejection_with_its_reason(live_server, phone_page, screenshot_dir,
                                                                      tmp_path):
    from registry import roles
    from subsidies import services
    from subsidies.models import SubsidyKind, SubsidyStatus
    from tests.factories import EnterpriseFactory, UserFactory
    from tests.subsidies.factories import (
        OPEN_WINDOW,
        EnterpriseUserFactory,
        GuaranteedLoanFactory,
        ProgrammeFactory,
    )

    # given: a settled 政银担 loan and the enterprise's account
    loan = GuaranteedLoanFactory(programme=ProgrammeFactory(**OPEN_WINDOW), contract_no="DB-2021-0077",
                                 enterprise=EnterpriseFactory(name="乐山嘉州物流有限公司"))
    user = EnterpriseUserFactory(enterprise=loan.enterprise)
    user.set_password(PASSWORD)
    user.save()
    fee = next(s for s in services.subsidy_compute_for_settlements(loans=[loan]) if s.kind == SubsidyKind.GUARANTEE_FEE)
    contract, invoice = tmp_path / "担保合同.pdf", tmp_path / "发票.jpg"
    contract.write_bytes(b"%PDF-1.4\n%%EOF\n")
    invoice.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)

    # when: it logs in and applies with the two documents
    page = phone_page
    page.goto(live_server.url + "/enterprise/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(live_server.url + f"/enterprise/subsidies/{fee.pk}/")
    page.fill("#id_payee_account", "6222021001009999")
    page.set_input_files("#id_guarantee_contract", str(contract))
    page.set_input_files("#id_fee_invoice", str(invoice))
    page.check("#id_confirm")
    shot(page, screenshot_dir, "8_fee_apply")
    page.click("main button[type=submit]")
    expect(page.locator(".badge")).to_contain_text("已申请")
    expect(page.locator("main")).to_contain_text("担保费发票：发票.jpg")

    # when: the bureau rejects it with a reason
    handler = UserFactory(username="e2e_handler2", role=roles.HANDLER)
    services.subsidy_transition(subsidy=fee, to=SubsidyStatus.UNDER_REVIEW, actor=handler)
    services.subsidy_transition(subsidy=fee, to=SubsidyStatus.REJECTED, actor=handler, reason="发票抬头与借款企业名称不一致")

    # then: the enterprise sees why
    page.reload()
    expect(page.locator(".badge")).to_contain_text("未通过")
    expect(page.locator("main")).to_contain_text("发票抬头与借款企业名称不一致")
    shot(page, screenshot_dir, "9_rejected")
