"""Bank-portal pages (/bank/claims/) and the claims admin: scope, private downloads, actions via services."""

from decimal import Decimal

import pytest
from django.urls import reverse

from fund.models import Claim, ClaimStatus, PoolPayment
from registry import roles
from registry.security.testing import verify_second_factor
from tests.factories import BankFactory

from .claims_factories import (
    bank_user,
    bureau_team,
    claimable_loan,
    fund_pool,
    guarantor_user,
    paid_claim,
    pdf,
    staff,
    submitted_claim,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login(client, user, otp: bool = False):
    client.force_login(user)
    if otp:
        verify_second_factor(client, user)
    return client


# --- the bank portal -------------------------------------------------------------------------


def test_a_bank_files_uploads_and_submits_in_the_portal(client):
    loan = claimable_loan()
    user = bank_user(loan.bank)
    login(client, user)
    assert client.get("/bank/claims/new/").status_code == 200
    response = client.post("/bank/claims/new/", {"loan": loan.pk, "unpaid_interest": "100"})
    claim = Claim.objects.get()
    assert response.url == f"/bank/claims/{claim.pk}/"
    page = client.get(response.url).content.decode()
    assert "尚缺" in page
    assert "600,000.00" in page
    for kind in ("claim_form", "loan_contract", "disbursement_voucher", "overdue_proof", "collection_record",
                 "loss_calculation"):
        client.post(f"/bank/claims/{claim.pk}/documents/", {"kind": kind, "file": pdf(f"{kind}.pdf")})
    assert claim.documents.count() == 6
    client.post(f"/bank/claims/{claim.pk}/submit/")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    assert "审核时限" in client.get("/bank/claims/").content.decode()


def test_a_refused_upload_shows_the_reason(client):
    loan = claimable_loan()
    user = bank_user(loan.bank)
    login(client, user)
    client.post("/bank/claims/new/", {"loan": loan.pk})
    claim = Claim.objects.get()
    response = client.post(f"/bank/claims/{claim.pk}/documents/",
                           {"kind": "claim_form", "file": pdf("x.pdf", b"not a pdf at all")}, follow=True)
    assert "文件类型不符" in response.content.decode()
    assert not claim.documents.exists()


def test_a_refused_filing_shows_the_reason_and_writes_nothing(client):
    loan = claimable_loan(np_days_ago=400)
    login(client, bank_user(loan.bank))
    response = client.post("/bank/claims/new/", {"loan": loan.pk})
    assert "已超过申请期限" in response.content.decode()
    assert not Claim.objects.exists()


def test_another_banks_claim_and_documents_are_404(client):
    claim = submitted_claim()
    document = claim.documents.first()
    login(client, bank_user(BankFactory(), username="other_bank"))
    assert client.get(f"/bank/claims/{claim.pk}/").status_code == 404
    assert client.get(f"/bank/claims/{claim.pk}/documents/{document.pk}/").status_code == 404
    assert client.get("/bank/claims/").status_code == 200


def test_documents_download_for_the_bank_and_staff_only(client):
    claim = submitted_claim()
    document = claim.documents.first()
    url = f"/bank/claims/{claim.pk}/documents/{document.pk}/"
    login(client, claim.submitted_by)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    login(client, staff(roles.AUDITOR, "auditor"))
    assert client.get(url).status_code == 200
    # the guarantor sees the claim but not the bank's documents
    gclaim = submitted_claim(mode="bank_guarantor")
    gdoc = gclaim.documents.first()
    login(client, guarantor_user(gclaim.loan.guarantor, username="g1"))
    assert client.get(f"/bank/claims/{gclaim.pk}/").status_code == 200
    assert client.get(f"/bank/claims/{gclaim.pk}/documents/{gdoc.pk}/").status_code == 404


def test_documents_are_not_reachable_by_a_public_url(client):
    claim = submitted_claim()
    name = claim.documents.first().file.name
    assert name.startswith("claims/")
    assert client.get(f"/media/{name}").status_code == 404
    assert client.get(f"/{name}").status_code == 404


def test_the_bank_sees_the_paid_claim_and_downloads_the_notice(client):
    claim = paid_claim()
    login(client, claim.submitted_by)
    page = client.get(f"/bank/claims/{claim.pk}/").content.decode()
    assert "已支付" in page
    assert "600,000.00" in page
    notice = client.get(f"/bank/claims/{claim.pk}/notice.pdf")
    assert notice.status_code == 200
    assert notice.content.startswith(b"%PDF")


def test_the_bank_records_a_recovery_in_the_portal(client):
    claim = paid_claim()
    login(client, claim.submitted_by)
    client.post(f"/bank/claims/{claim.pk}/recoveries/", {
        "recovered_on": claim.paid_on.isoformat(), "gross_amount": "200000", "costs": "0",
        "evidence": pdf("回款.pdf"), "note": ""})
    assert claim.recoveries.get().refund_due == D("120000.00")


def test_the_guarantor_records_its_payment_in_the_portal(client):
    loan = claimable_loan(mode="bank_guarantor")
    login(client, guarantor_user(loan.guarantor))
    assert client.get("/bank/claims/guarantor-payments/").status_code == 200
    client.post("/bank/claims/guarantor-payments/", {
        "loan": loan.pk, "amount": "400000", "paid_on": loan.nonperforming_since.isoformat(),
        "voucher": pdf("代偿.pdf")})
    assert loan.guarantor_payments.get().amount == D("400000.00")


def test_users_without_an_organisation_or_role_are_refused(client):
    from tests.factories import UserFactory

    login(client, UserFactory(username="nobody"))
    assert client.get("/bank/claims/").status_code == 403


# --- the admin -------------------------------------------------------------------------------------


def _changelist_action(client, action, claim, comment=""):
    return client.post(reverse("admin:fund_claim_changelist"), {
        "action": action, "_selected_action": [claim.pk], "comment": comment, "index": 0}, follow=True)


def test_admin_actions_call_the_services_with_maker_checker(client):
    claim = submitted_claim()
    fund_pool(claim.programme)
    reviewer, approver, payer = bureau_team()
    login(client, reviewer)
    _changelist_action(client, "start_review", claim)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.UNDER_REVIEW
    # the approver approves; trying to pay the same claim himself is an ERROR message
    login(client, approver, otp=True)
    _changelist_action(client, "approve", claim, "符合条件")
    response = _changelist_action(client, "pay", claim)
    assert "您是本申请的批准人" in response.content.decode()
    assert not PoolPayment.objects.exists()
    login(client, payer, otp=True)
    _changelist_action(client, "pay", claim)
    claim.refresh_from_db()
    assert (claim.status, claim.paid_amount) == (ClaimStatus.PAID, D("600000.00"))


def test_admin_return_without_a_comment_is_an_error_message(client):
    claim = submitted_claim()
    reviewer, _, _ = bureau_team()
    login(client, reviewer)
    response = _changelist_action(client, "return_for_correction", claim)
    assert "须写明意见" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED


def test_admin_pages_show_the_same_calculation_include(client):
    claim = paid_claim()
    login(client, staff(roles.ADMINISTRATOR, "admin1"))
    assert client.get(reverse("admin:fund_claim_changelist")).status_code == 200
    assert client.get(reverse("admin:fund_claim_changelist"), {"review_overdue": "yes"}).status_code == 200
    page = client.get(reverse("admin:fund_claim_change", args=[claim.pk])).content.decode()
    assert "claim-calculation" in page
    assert "600,000.00" in page
    recovery_page = client.get(reverse("admin:fund_recovery_changelist"))
    assert recovery_page.status_code == 200
    assert client.get(reverse("admin:fund_guarantorpayment_changelist")).status_code == 200


def test_admin_confirms_a_refund_through_the_ledger(client):
    from .claims_factories import today

    claim = paid_claim()
    login(client, claim.submitted_by)
    client.post(f"/bank/claims/{claim.pk}/recoveries/", {
        "recovered_on": today().isoformat(), "gross_amount": "1000", "costs": "0", "evidence": pdf()})
    recovery = claim.recoveries.get()
    login(client, staff(roles.HANDLER, "cashier"))
    client.post(reverse("admin:fund_recovery_changelist"), {
        "action": "mark_received", "_selected_action": [recovery.pk], "received_on": "", "index": 0})
    recovery.refresh_from_db()
    assert recovery.refund_status == "received"
    assert recovery.refund_journal_id is not None


def test_admin_approval_without_the_second_factor_is_sent_to_verify(client):
    claim = submitted_claim()
    reviewer, approver, _ = bureau_team()
    login(client, reviewer)
    _changelist_action(client, "start_review", claim)
    login(client, approver)
    response = client.post(reverse("admin:fund_claim_changelist"), {
        "action": "approve", "_selected_action": [claim.pk], "comment": "", "index": 0})
    assert response.status_code == 302
    assert "/otp/" in response.url
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.UNDER_REVIEW
