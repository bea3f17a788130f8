"""The claims API (/api/claims/): scope, money as strings, idempotency keys, staff decisions."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from fund.models import Claim, ClaimStatus, IdempotencyRecord, PoolPayment
from fund.selectors import pool_balance
from registry.models import DomainEvent
from tests.factories import BankFactory

from .claims_factories import (
    attach_all_documents,
    bank_user,
    bureau_team,
    claimable_loan,
    fund_pool,
    pdf,
    submitted_claim,
)

pytestmark = pytest.mark.django_db
D = Decimal
URL = "/api/claims/"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.OTP_REQUIRED_FOR_APPROVALS = False  # the second factor has its own test below


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _approved(claim):
    reviewer, approver, payer = bureau_team()
    client_for(reviewer).post(f"{URL}{claim.pk}/start-review/", {}, format="json")
    client_for(approver).post(f"{URL}{claim.pk}/approve/", {}, format="json")
    return payer


def test_a_bank_files_a_claim_and_money_comes_back_as_strings():
    loan = claimable_loan(principal=D("1000000.00"))
    fund_pool(loan.programme)
    api = client_for(bank_user(loan.bank))
    response = api.post(URL, {"contract_no": loan.contract_no, "unpaid_interest": "1234.5"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["unpaid_principal"] == "1000000.00"
    assert body["unpaid_interest"] == "1234.50"
    assert body["claim_amount"] == "600000.00"
    assert body["calculation"]["result"] == "600000.00"
    assert {m["kind"] for m in body["missing_documents"]} >= {"claim_form", "loss_calculation"}


def test_a_refused_filing_is_400_with_the_chinese_reason():
    loan = claimable_loan(overdue_days=30)
    response = client_for(bank_user(loan.bank)).post(URL, {"loan": loan.pk}, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["rule"] == "R23"
    assert "须逾期超过 90 天" in error["message"]
    assert not Claim.objects.exists()


def test_another_banks_loan_and_claim_are_404():
    claim = submitted_claim()
    stranger = client_for(bank_user(BankFactory(), username="stranger"))
    assert stranger.get(f"{URL}{claim.pk}/").status_code == 404
    assert stranger.post(f"{URL}{claim.pk}/submit/").status_code == 404
    assert stranger.post(URL, {"loan": claim.loan_id}, format="json").status_code == 404
    assert stranger.get(URL).json()["count"] == 0


def test_documents_upload_check_type_and_download_only_for_the_bank_and_staff():
    loan = claimable_loan()
    user = bank_user(loan.bank)
    api = client_for(user)
    claim_id = api.post(URL, {"loan": loan.pk}, format="json").json()["id"]
    bad = SimpleUploadedFile("form.pdf", b"GIF89a....", content_type="application/pdf")
    response = api.post(f"{URL}{claim_id}/documents/", {"kind": "claim_form", "file": bad}, format="multipart")
    assert response.status_code == 400
    assert "文件类型不符" in response.json()["errors"][0]["message"]
    response = api.post(f"{URL}{claim_id}/documents/", {"kind": "claim_form", "file": pdf()}, format="multipart")
    assert response.status_code == 201
    document = response.json()["documents"][0]
    download = api.get(document["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert client_for(bank_user(BankFactory(), username="x")).get(document["download_url"]).status_code == 404
    reviewer, _, _ = bureau_team()
    assert client_for(reviewer).get(document["download_url"]).status_code == 200


def test_submit_with_an_idempotency_key_replays_the_first_response():
    loan = claimable_loan()
    user = bank_user(loan.bank)
    api = client_for(user)
    claim_id = api.post(URL, {"loan": loan.pk}, format="json").json()["id"]
    attach_all_documents(Claim.objects.get(pk=claim_id), user)
    first = api.post(f"{URL}{claim_id}/submit/", format="json", HTTP_IDEMPOTENCY_KEY="sub-1")
    again = api.post(f"{URL}{claim_id}/submit/", format="json", HTTP_IDEMPOTENCY_KEY="sub-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert DomainEvent.objects.filter(event_type="claim.submitted").count() == 1
    # without the key, a second submit is a plain refusal
    assert api.post(f"{URL}{claim_id}/submit/", format="json").status_code == 400


def test_the_same_key_with_a_different_request_is_refused_with_409():
    claim = submitted_claim()
    reviewer, approver, _ = bureau_team()
    client_for(reviewer).post(f"{URL}{claim.pk}/start-review/", {}, format="json")
    api = client_for(approver)
    ok = api.post(f"{URL}{claim.pk}/approve/", {"comment": "同意"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert ok.status_code == 200
    conflict = api.post(f"{URL}{claim.pk}/approve/", {"comment": "改了"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert conflict.status_code == 409
    assert "幂等键" in conflict.json()["errors"][0]["message"]


def test_pay_through_the_api_pays_once_even_when_replayed():
    claim = submitted_claim()
    fund_pool(claim.programme)
    payer = _approved(claim)
    api = client_for(payer)
    first = api.post(f"{URL}{claim.pk}/pay/", format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    again = api.post(f"{URL}{claim.pk}/pay/", format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == 200, first.content
    assert first.json() == again.json()
    assert first.json()["paid_amount"] == "600000.00"
    assert PoolPayment.objects.count() == 1
    assert pool_balance(programme=claim.programme) == D("9400000.00")
    assert IdempotencyRecord.objects.filter(key="pay-1").count() == 1


def test_approval_by_the_reviewer_is_403_and_changes_nothing():
    claim = submitted_claim()
    reviewer, _, _ = bureau_team()
    reviewer.user_permissions.add(*__import__("django.contrib.auth.models", fromlist=["Permission"]).Permission
                                  .objects.filter(codename="approve_claim"))
    api = client_for(type(reviewer).objects.get(pk=reviewer.pk))
    api.post(f"{URL}{claim.pk}/start-review/", {}, format="json")
    response = api.post(f"{URL}{claim.pk}/approve/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "separation_of_duties"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.UNDER_REVIEW


def test_a_bank_user_cannot_decide_its_own_claim():
    claim = submitted_claim()
    response = client_for(claim.submitted_by).post(f"{URL}{claim.pk}/start-review/", {}, format="json")
    assert response.status_code == 403


def test_return_and_reject_need_a_comment_and_the_notice_is_a_pdf():
    claim = submitted_claim()
    reviewer, _, _ = bureau_team()
    api = client_for(reviewer)
    assert api.post(f"{URL}{claim.pk}/reject/", {}, format="json").status_code == 400
    response = api.post(f"{URL}{claim.pk}/reject/", {"comment": "借款人非服务业企业"}, format="json")
    assert response.json()["status"] == "rejected"
    notice = client_for(claim.submitted_by).get(response.json()["notice_url"])
    assert notice.status_code == 200
    assert notice["Content-Type"] == "application/pdf"
    assert notice.content.startswith(b"%PDF")


def test_the_review_overdue_filter_and_status_filter():
    claim = submitted_claim()
    Claim.objects.filter(pk=claim.pk).update(review_due_on=claim.claim_date.replace(year=2000))
    reviewer, _, _ = bureau_team()
    api = client_for(reviewer)
    assert api.get(URL, {"review_overdue": "1"}).json()["count"] == 1
    assert api.get(URL, {"status": "paid"}).json()["count"] == 0
    assert api.get(URL).json()["results"][0]["review_overdue"] is True


def test_the_openapi_schema_documents_the_claims_api(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/claims/{id}/pay/" in text
    assert "Idempotency-Key" in text


def test_approval_and_payment_need_the_second_factor(settings):
    settings.OTP_REQUIRED_FOR_APPROVALS = True
    claim = submitted_claim()
    reviewer, approver, _ = bureau_team()
    client_for(reviewer).post(f"{URL}{claim.pk}/start-review/", {}, format="json")
    response = client_for(approver).post(f"{URL}{claim.pk}/approve/", {}, format="json")
    assert response.status_code == 403
    assert "双因素认证" in response.json()["detail"]
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.UNDER_REVIEW


def test_a_retry_after_a_crash_with_the_same_key_completes_the_payment_once():
    import hashlib

    claim = submitted_claim()
    fund_pool(claim.programme)
    payer = _approved(claim)
    path = f"{URL}{claim.pk}/pay/"
    # given: the first request's process died after reserving its key ("in progress", nothing paid)
    IdempotencyRecord.objects.create(user=payer, key="crash-1", response_status=0,
                                     request_hash=hashlib.sha256(f"POST {path}\n".encode()).hexdigest())
    api = client_for(payer)
    # when: the client retries with the same key, twice
    first = api.post(path, format="json", HTTP_IDEMPOTENCY_KEY="crash-1")
    again = api.post(path, format="json", HTTP_IDEMPOTENCY_KEY="crash-1")
    # then: paid exactly once, both answers the same
    assert first.status_code == 200, first.content
    assert again.json() == first.json()
    assert PoolPayment.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="crash-1").response_status == 200


def test_the_service_key_makes_a_repeated_transition_a_no_op():
    from fund.claims_api import service_key
    from fund.services import claim_pay

    claim = submitted_claim()
    fund_pool(claim.programme)
    payer = _approved(claim)
    key = service_key(payer, "k")
    claim_pay(claim=claim, actor=payer, idempotency_key=key)
    assert claim_pay(claim=claim, actor=payer, idempotency_key=key).status == ClaimStatus.PAID
    assert PoolPayment.objects.count() == 1
