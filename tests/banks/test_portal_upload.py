"""Uploading through the portal: the form hands the file to the intake service; a workbook with
errors is rejected with grouped issues, the corrected one is applied and its loans are listed; the
same file twice changes nothing; the bank comes from the user, never from the request."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from banks import xlsx
from banks.intake import fields as F
from banks.models import BatchStatus, IntakeBatch
from fund.models import Loan
from registry import roles
from tests.banks.factories import make_world, registration_row
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BAD_USCC = "91510100MA00000000"  # wrong check character (R6)


def by_header(row: dict) -> dict:
    return {f.header: row.get(f.name) for f in F.fields_for(F.REGISTRATION)}


def template_file(rows, name="贷款备案.xlsx") -> SimpleUploadedFile:
    content = xlsx.rows_workbook(kind=F.REGISTRATION, rows=[by_header(r) for r in rows])
    return SimpleUploadedFile(name, content, content_type=xlsx.XLSX_CONTENT_TYPE)


@pytest.fixture
def world():
    return make_world(code="PU")


@pytest.fixture
def post_upload(client, django_capture_on_commit_callbacks):
    def post(data, url="/bank/uploads/new/"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return post


@pytest.fixture
def rows():
    return [registration_row(), registration_row(), registration_row()]


def test_upload_with_errors_is_rejected_and_shows_grouped_issues(client, world, rows, post_upload):
    rows[1]["credit_code"] = BAD_USCC
    rows[2]["annual_rate"] = 0.0435  # a fraction, not a percent
    client.force_login(world.user)

    response = post_upload({"kind": "registration", "file": template_file(rows)})

    batch = IntakeBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/bank/batches/{batch.pk}/"
    assert batch.status == BatchStatus.REJECTED
    assert batch.uploaded_by == world.user
    assert Loan.objects.count() == 0
    page = client.get(response["Location"]).content.decode()
    assert "整个文件未导入" in page
    assert "统一社会信用代码" in page
    assert "年利率(%)" in page


def test_annotated_file_of_a_real_rejected_upload_marks_the_bad_rows(client, world, rows, post_upload):
    rows[1]["credit_code"] = BAD_USCC
    client.force_login(world.user)
    post_upload({"kind": "registration", "file": template_file(rows)})
    batch = IntakeBatch.objects.get()

    content = client.get(f"/bank/batches/{batch.pk}/annotated.xlsx").content

    ws = load_workbook(io.BytesIO(content))[F.SHEET_NAMES[F.REGISTRATION]]
    result = len(F.fields_for(F.REGISTRATION)) + 1
    assert [ws.cell(row=r, column=result).value for r in (2, 3, 4)] == ["通过", "错误", "通过"]
    assert "R6" in ws.cell(row=3, column=result + 1).value


def test_corrected_upload_is_applied_and_the_loans_are_listed(client, world, rows, post_upload):
    client.force_login(world.user)

    response = post_upload({"kind": "registration", "file": template_file(rows)})

    batch = IntakeBatch.objects.get()
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert Loan.objects.filter(bank=world.bank).count() == 3
    assert "已全部导入" in client.get(response["Location"]).content.decode()
    listing = client.get("/bank/loans/").content.decode()
    for row in rows:
        assert row["contract_no"] in listing
    found = client.get("/bank/loans/", {"q": rows[0]["credit_code"]}).content.decode()
    assert rows[0]["contract_no"] in found
    assert rows[1]["contract_no"] not in found


def test_the_same_file_twice_changes_nothing_and_says_so(client, world, rows, post_upload):
    client.force_login(world.user)
    content = template_file(rows).read()
    post_upload({"kind": "registration", "file": SimpleUploadedFile("a.xlsx", content)})

    response = post_upload({"kind": "registration", "file": SimpleUploadedFile("a-again.xlsx", content)})

    again = IntakeBatch.objects.order_by("-uploaded_at").first()
    assert again.status == BatchStatus.DUPLICATE
    assert Loan.objects.count() == 3
    assert "完全相同，没有重复导入" in client.get(response["Location"]).content.decode()


def test_a_bank_user_cannot_upload_for_another_bank(client, world, rows, post_upload):
    other = make_world(code="PX", guarantor_code="PY")
    client.force_login(world.user)

    post_upload({"kind": "registration", "file": template_file(rows)}, url=f"/bank/uploads/new/?bank={other.bank.code}")

    assert IntakeBatch.objects.filter(bank=other.bank).count() == 0
    assert IntakeBatch.objects.filter(bank=world.bank).count() == 1


def test_a_bank_user_cannot_send_an_override_reason(client, world, rows, post_upload):
    client.force_login(world.user)

    post_upload({"kind": "registration", "file": template_file(rows), "override_reason": "我行特批"})

    assert IntakeBatch.objects.get().override_reason == ""


def test_bureau_handler_uploads_for_the_chosen_bank_with_an_override_reason(client, world, rows, post_upload):
    handler = UserFactory(username="pu_handler", role=roles.HANDLER)
    client.force_login(handler)
    client.get(f"/bank/?bank={world.bank.code}")

    post_upload({"kind": "registration", "file": template_file(rows), "override_reason": "系统故障延误，经批准补录"})

    batch = IntakeBatch.objects.get()
    assert batch.bank == world.bank
    assert batch.override_reason == "系统故障延误，经批准补录"
    assert batch.uploaded_by == handler


def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_form(client, world, post_upload):
    client.force_login(world.user)

    response = post_upload({"kind": "registration", "file": SimpleUploadedFile("合同.pdf", b"%PDF-1.4")})

    assert response.status_code == 200
    assert "只接受 .xlsx、.xls 或 .csv 文件" in response.content.decode()
    assert IntakeBatch.objects.count() == 0


def test_a_renamed_file_is_rejected_by_the_intake_with_a_clear_message(client, world, post_upload):
    client.force_login(world.user)

    response = post_upload({"kind": "registration", "file": SimpleUploadedFile("备案.xlsx", b"%PDF-1.4 not excel")})

    batch = IntakeBatch.objects.get()
    assert batch.status == BatchStatus.REJECTED
    page = client.get(response["Location"]).content.decode()
    assert "PDF" in page
