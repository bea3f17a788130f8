"""Browser test of a compensation claim (R23–R29): the bank files it with documents in /bank/claims/,
one staff member starts the review, another approves, a third pays (in the admin, each approver
passing the second factor), and the bank sees it paid with its decision notice; the pool dashboard
shows the lower balance."""

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "e2e-Claims-Passw0rd!"
DOCUMENTS = ["补偿申请表", "借款合同", "放款凭证", "逾期及五级分类证明", "催收记录", "银行损失计算表"]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(settings, tmp_path):
    from django.utils import timezone

    from fund.models import LoanMode, LoanStatus
    from fund.services import contribution_record
    from registry import roles
    from registry.security.testing import confirmed_device
    from tests.factories import LoanFactory, PartnershipFactory, ProgrammeFactory, UserFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    today = timezone.localdate()
    programme = ProgrammeFactory(code="FBD", name="服保贷")
    partnership = PartnershipFactory(programme=programme)
    loan = LoanFactory(
        programme=programme, bank=partnership.bank, mode=LoanMode.BANK, contract_no="HT-E2E-001",
        principal=Decimal("1000000.00"), outstanding_principal=Decimal("1000000.00"), overdue_days=120,
        status=LoanStatus.OVERDUE, ever_overdue=True, nonperforming_since=today - timedelta(days=30),
    )
    contribution_record(programme=programme, payer_kind="treasury", amount=Decimal("10000000.00"),
                        on=today - timedelta(days=60), idempotency_key="e2e-seed", actor=None)

    def user(username, role, **binding):
        made = UserFactory(username=username, role=role, **binding)
        made.set_password(PASSWORD)
        made.save()
        return made

    bank = user("bank01", roles.BANK_USER, bank=loan.bank)
    staff = {
        "reviewer": user("reviewer", roles.HANDLER),
        "approver": user("approver", roles.APPROVER),
        "payer": user("payer", roles.APPROVER),
    }
    devices = {name: confirmed_device(staff[name]) for name in ("approver", "payer")}
    documents = []
    for i, label in enumerate(DOCUMENTS):
        path = tmp_path / f"doc{i}.pdf"
        path.write_bytes(PDF)
        documents.append((label, path))
    return {"programme": programme, "loan": loan, "bank": bank, "staff": staff, "devices": devices,
            "documents": documents}


def login(page, base, username, *, admin=False):
    page.context.clear_cookies()
    page.goto(base + ("/admin/login/" if admin else "/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("form [type=submit]").first.click()
    assert "/login/" not in page.url, f"{username} could not log in"


def admin_action(page, base, claim_pk, action, comment=""):
    page.goto(f"{base}/admin/fund/claim/")
    page.check(f"input[name=_selected_action][value='{claim_pk}']")
    page.select_option("select[name=action]", action)
    if comment:
        page.fill("input[name=comment]", comment)
    with page.expect_navigation():
        page.locator("button[name=index]").click()


def pass_second_factor(page, device):
    from registry.security.testing import current_totp

    expect(page.locator("h1")).to_contain_text("动态口令验证")
    page.fill("input[name=token]", current_totp(device))
    with page.expect_navigation():
        page.locator("form:has(input[name=token]) [type=submit]").click()


def test_a_claim_is_filed_reviewed_approved_paid_and_seen_paid(live_server, page, world, screenshot_dir):
    from fund.models import Claim, ClaimStatus
    from fund.selectors import pool_balance

    base = live_server.url
    loan = world["loan"]

    # given: the bank files a claim in the portal
    login(page, base, "bank01")
    page.goto(base + "/bank/claims/new/")
    page.select_option("select[name=loan]", str(loan.pk))
    page.fill("input[name=unpaid_interest]", "35000")
    page.locator("#claim-new button[type=submit]").click()
    expect(page.locator("#missing-documents")).to_be_visible()
    expect(page.locator("#calculation")).to_contain_text("600,000.00")
    for label, path in world["documents"]:
        page.select_option("#upload-form select[name=kind]", label=label)
        page.set_input_files("#upload-form input[name=file]", str(path))
        page.locator("#upload-form button[type=submit]").click()
        expect(page.locator(".messages")).to_contain_text("已上传")
    page.locator("#submit-form button[type=submit]").click()
    expect(page.locator("#claim-status")).to_have_text("已提交")
    page.screenshot(path=str(screenshot_dir / "claim_bank_submitted.png"), full_page=True)
    claim = Claim.objects.get(loan=loan)

    # when: a 经办 starts the review in the admin
    login(page, base, "reviewer", admin=True)
    admin_action(page, base, claim.pk, "start_review")
    expect(page.locator(".messagelist")).to_contain_text("已开始审核 1 件")

    # and a 复核 approves (after the second factor)
    login(page, base, "approver", admin=True)
    admin_action(page, base, claim.pk, "approve", "材料齐全，同意补偿")
    pass_second_factor(page, world["devices"]["approver"])
    admin_action(page, base, claim.pk, "approve", "材料齐全，同意补偿")
    expect(page.locator(".messagelist")).to_contain_text("已批准 1 件")
    page.goto(f"{base}/admin/fund/claim/{claim.pk}/change/")
    expect(page.locator(".claim-calculation")).to_contain_text("600,000.00")
    page.screenshot(path=str(screenshot_dir / "claim_admin_approved.png"), full_page=True)

    # and a third person pays
    login(page, base, "payer", admin=True)
    admin_action(page, base, claim.pk, "pay")
    pass_second_factor(page, world["devices"]["payer"])
    admin_action(page, base, claim.pk, "pay")
    expect(page.locator(".messagelist")).to_contain_text("已支付 1 件")
    page.goto(f"{base}/admin/fund/claim/?status=paid")
    expect(page.locator("#result_list")).to_contain_text("已支付")
    page.screenshot(path=str(screenshot_dir / "claim_admin_paid.png"), full_page=True)

    # then: the bank sees it paid, with the decision notice
    login(page, base, "bank01")
    page.goto(f"{base}/bank/claims/{claim.pk}/")
    expect(page.locator("#claim-status")).to_have_text("已支付")
    expect(page.locator("#paid-notice")).to_contain_text("600,000.00")
    expect(page.locator("#notice-link")).to_be_visible()
    notice = page.request.get(base + page.locator("#notice-link").get_attribute("href"))
    assert notice.ok
    assert notice.body().startswith(b"%PDF")
    page.screenshot(path=str(screenshot_dir / "claim_bank_paid.png"), full_page=True)
    page.goto(base + "/bank/claims/")
    expect(page.locator("#claim-list")).to_contain_text("已支付")

    # and the pool dashboard shows the lower balance
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    assert pool_balance(programme=world["programme"]) == Decimal("9400000.00")
    login(page, base, "payer", admin=True)
    page.goto(f"{base}/admin/fund/programme/{world['programme'].pk}/dashboard/")
    expect(page.locator("body")).to_contain_text("9,400,000.00")
    page.screenshot(path=str(screenshot_dir / "claim_pool_dashboard.png"), full_page=True)
