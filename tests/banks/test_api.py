"""The bank REST API (/api/bank/): token auth, uploads, batches, JSON records, loans, exceptions,
and isolation between banks."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from banks.models import BatchStatus, IntakeBatch
from fund.models import Loan, LoanMode
from registry import roles
from tests.banks.factories import guaranteed_row, make_world, registration_row, status_row
from tests.banks.workbooks import registration_workbook
from tests.factories import LoanFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def api(world):
    return _client(world.user)


@pytest.fixture
def other():
    return make_world(code="OT", guarantor_code="OG")


def _json_rows(rows):
    out = []
    for row in rows:
        out.append({k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items() if v is not None})
    return out


def test_upload_answers_202_and_the_batch_shows_progress_and_issues(api, django_capture_on_commit_callbacks):
    data = registration_workbook([registration_row(), registration_row(region="火星")])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/bank/uploads/", {"kind": "registration", "file": io.BytesIO(data)},
                            format="multipart")
    assert response.status_code == 202, response.content
    batch_id = response.json()["id"]
    detail = api.get(f"/api/bank/batches/{batch_id}/").json()
    assert detail["status"] == BatchStatus.REJECTED
    assert detail["progress_percent"] == 100
    assert detail["issues_total"] == 1
    assert set(detail["issues"][0]) == {"sheet", "row", "column", "value", "rule", "message", "level"}
    assert detail["issues"][0]["row"] == 3
    assert [b["id"] for b in api.get("/api/bank/batches/").json()["results"]] == [batch_id]


def test_registration_records_are_applied_synchronously(api, world):
    rows = _json_rows([registration_row(), guaranteed_row(world.guarantor)])
    response = api.post("/api/bank/registrations/", {"records": rows}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["batch"]["summary"]["loans_created"] == 2
    again = api.post("/api/bank/registrations/", {"records": rows}, format="json")
    assert again.status_code == 200
    assert {w["message"][:9] for w in again.json()["warnings"]} == {"已备案，未重复计入"}


def test_record_errors_use_the_record_index_and_field_name(api):
    rows = _json_rows([registration_row(), registration_row(annual_rate="abc", colour="red")])
    response = api.post("/api/bank/registrations/", {"records": rows}, format="json")
    assert response.status_code == 400
    errors = sorted((e["row"], e["column"]) for e in response.json()["errors"])
    assert errors == [(2, "annual_rate"), (2, "colour")]
    assert Loan.objects.count() == 0


def test_status_records_and_the_exception_list(api, world):
    loans = [LoanFactory(programme=world.programme, bank=world.bank, signed_on=date(2021, 6, 1),
                         disbursed_on=date(2021, 6, 3)) for _ in range(2)]
    response = api.post("/api/bank/status-reports/",
                        {"records": [status_row(loans[0].contract_no, date(2021, 6, 1))]}, format="json")
    assert response.status_code == 201, response.content
    missing = api.get("/api/bank/exceptions/", {"month": "2021-06"}).json()["results"]
    assert [m["contract_no"] for m in missing] == [loans[1].contract_no]
    assert api.get("/api/bank/exceptions/", {"month": "June"}).status_code == 400


def test_loans_list_filters_and_money_is_a_string_with_two_decimals(api, world):
    loan = LoanFactory(programme=world.programme, bank=world.bank, principal=Decimal("1234567.8"))
    LoanFactory(programme=world.programme, bank=world.bank)
    body = api.get("/api/bank/loans/", {"contract_no": loan.contract_no}).json()
    assert [r["id"] for r in body["results"]] == [loan.pk]
    assert body["results"][0]["principal"] == "1234567.80"
    assert body["results"][0]["credit_code"] == loan.enterprise.credit_code
    assert len(api.get("/api/bank/loans/", {"credit_code": loan.enterprise.credit_code}).json()["results"]) == 1
    assert api.get(f"/api/bank/loans/{loan.pk}/").json()["contract_no"] == loan.contract_no


def test_a_bank_cannot_see_or_touch_another_banks_data(api, other, django_capture_on_commit_callbacks):
    # given: bank B has a loan and a batch
    theirs = LoanFactory(programme=other.programme, bank=other.bank)
    with django_capture_on_commit_callbacks(execute=True):
        batch = _client(other.user).post(
            "/api/bank/uploads/", {"kind": "registration", "file": io.BytesIO(registration_workbook(
                [registration_row()]))}, format="multipart").json()
    # then: bank A's user gets 404 / 403 / nothing
    assert api.get(f"/api/bank/batches/{batch['id']}/").status_code == 404
    assert api.get(f"/api/bank/loans/{theirs.pk}/").status_code == 404
    assert api.get("/api/bank/batches/").json()["results"] == []
    assert api.get("/api/bank/loans/").json()["results"] == []
    assert api.get("/api/bank/exceptions/", {"month": "2021-06"}).json()["results"] == []
    upload = api.post("/api/bank/uploads/", {"kind": "registration", "bank": other.bank.code,
                                             "file": io.BytesIO(b"x")}, format="multipart")
    assert upload.status_code == 403
    records = api.post("/api/bank/registrations/", {"records": [{}], "bank": other.bank.code}, format="json")
    assert records.status_code == 403


def test_guarantor_user_sees_the_loans_it_guarantees_and_cannot_submit(world):
    guaranteed = LoanFactory(programme=world.programme, bank=world.bank, mode=LoanMode.BANK_GUARANTOR,
                             guarantor=world.guarantor, guarantee_contract_no="DB9")
    LoanFactory(programme=world.programme, bank=world.bank)
    user = UserFactory(username="guarantor_api", guarantor=world.guarantor, role=roles.GUARANTOR_USER)
    client = _client(user)
    assert [r["id"] for r in client.get("/api/bank/loans/").json()["results"]] == [guaranteed.pk]
    assert client.get("/api/bank/batches/").json()["results"] == []
    response = client.post("/api/bank/registrations/", {"records": [{}]}, format="json")
    assert response.status_code == 403


def test_bureau_staff_read_everything_and_submit_naming_the_bank(world, other):
    LoanFactory(programme=world.programme, bank=world.bank)
    LoanFactory(programme=other.programme, bank=other.bank)
    handler = UserFactory(username="api_handler", role=roles.HANDLER)
    client = _client(handler)
    assert len(client.get("/api/bank/loans/").json()["results"]) == 2
    missing_bank = client.post("/api/bank/registrations/", {"records": _json_rows([registration_row()])},
                               format="json")
    assert missing_bank.status_code == 400
    response = client.post("/api/bank/registrations/", {"records": _json_rows([registration_row()]),
                                                        "bank": world.bank.code}, format="json")
    assert response.status_code == 201, response.content


def test_enterprise_users_and_anonymous_callers_are_refused(world):
    assert APIClient().get("/api/bank/loans/").status_code == 401
    plain = UserFactory(username="nobody_api")
    assert _client(plain).get("/api/bank/loans/").status_code == 403


def test_batch_id_that_is_not_a_uuid_is_404(api):
    assert api.get("/api/bank/batches/not-a-uuid/").status_code == 404


def test_openapi_schema_documents_the_bank_endpoints(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/bank/uploads/", "/api/bank/batches/{id}/", "/api/bank/registrations/",
                 "/api/bank/status-reports/", "/api/bank/loans/", "/api/bank/exceptions/"):
        assert path in paths


def test_upload_of_a_duplicate_file_points_at_the_first_batch(api, django_capture_on_commit_callbacks):
    data = registration_workbook([registration_row()])
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post("/api/bank/uploads/", {"kind": "registration", "file": io.BytesIO(data)},
                         format="multipart").json()
    second = api.post("/api/bank/uploads/", {"kind": "registration", "file": io.BytesIO(data)},
                      format="multipart").json()
    assert second["status"] == "duplicate"
    assert second["duplicate_of"] == first["id"]
    assert IntakeBatch.objects.count() == 2
