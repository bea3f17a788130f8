"""Who sees what in the bank portal: a bank user only its bank's data (another bank's object is a
404), a guarantor only the loans it guarantees and never uploads, bureau staff one chosen bank."""

from datetime import date

import pytest

from banks.models import IntakeBatch
from fund.models import LoanMode
from registry import roles
from tests.banks.portal_factories import (
    bank_user,
    guarantor_user,
    issue,
    loan,
    registration_rows,
    stored_batch,
    xlsx,
)
from tests.factories import BankFactory, GuarantorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def two_banks():
    bank_a, bank_b = BankFactory(code="BA", name="甲银行"), BankFactory(code="BB", name="乙银行")
    content = xlsx.rows_workbook(kind="registration", rows=registration_rows(2))
    batch_b = stored_batch(bank=bank_b, content=content, issues=[issue(2, "企业名称", "有误")])
    return bank_a, bank_b, batch_b, loan(bank_b, contract_no="B-LOAN-1")


def test_bank_user_gets_404_for_another_banks_batch_progress_and_annotated_file(client, two_banks):
    bank_a, _bank_b, batch_b, _loan_b = two_banks
    client.force_login(bank_user(bank_a))

    for url in (f"/bank/batches/{batch_b.pk}/", f"/bank/batches/{batch_b.pk}/progress.json",
                f"/bank/batches/{batch_b.pk}/annotated.xlsx"):
        assert client.get(url).status_code == 404, url


def test_bank_user_gets_404_for_another_banks_loan_and_cannot_issue_its_code(client, two_banks):
    bank_a, _bank_b, _batch_b, loan_b = two_banks
    client.force_login(bank_user(bank_a))

    assert client.get(f"/bank/loans/{loan_b.pk}/").status_code == 404
    assert client.post(f"/bank/loans/{loan_b.pk}/activation-code/").status_code == 404


def test_bank_user_sees_only_its_own_loans_and_batches_in_the_lists(client, two_banks):
    bank_a, _bank_b, batch_b, _loan_b = two_banks
    own_loan = loan(bank_a, contract_no="A-LOAN-1")
    client.force_login(bank_user(bank_a))

    loans_page = client.get("/bank/loans/").content.decode()
    batches_page = client.get("/bank/batches/").content.decode()

    assert own_loan.contract_no in loans_page
    assert "B-LOAN-1" not in loans_page
    assert str(batch_b.pk) not in batches_page


def test_bank_user_cannot_choose_another_bank_with_the_bank_parameter(client, two_banks):
    bank_a, _bank_b, batch_b, _loan_b = two_banks
    client.force_login(bank_user(bank_a))

    page = client.get("/bank/loans/?bank=BB").content.decode()

    assert "B-LOAN-1" not in page
    assert client.get(f"/bank/batches/{batch_b.pk}/?bank=BB").status_code == 404


def test_guarantor_sees_only_the_loans_it_guarantees_read_only(client):
    guarantor, other = GuarantorFactory(), GuarantorFactory()
    bank = BankFactory()
    mine = loan(bank, contract_no="G-MINE", mode=LoanMode.BANK_GUARANTOR, guarantor=guarantor)
    theirs = loan(bank, contract_no="G-THEIRS", mode=LoanMode.BANK_GUARANTOR, guarantor=other)
    unguaranteed = loan(bank, contract_no="NO-GUARANTOR")
    client.force_login(guarantor_user(guarantor))

    page = client.get("/bank/loans/").content.decode()

    assert "G-MINE" in page
    assert "G-THEIRS" not in page
    assert "NO-GUARANTOR" not in page
    assert client.get(f"/bank/loans/{mine.pk}/").status_code == 200
    assert client.get(f"/bank/loans/{theirs.pk}/").status_code == 404
    assert client.get(f"/bank/loans/{unguaranteed.pk}/").status_code == 404
    assert "签发企业账户激活码" not in client.get(f"/bank/loans/{mine.pk}/").content.decode()


def test_guarantor_cannot_upload_or_list_batches(client):
    client.force_login(guarantor_user())
    content = xlsx.rows_workbook(kind="registration", rows=registration_rows(1))
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("备案.xlsx", content)

    assert client.get("/bank/uploads/new/").status_code == 403
    assert client.post("/bank/uploads/new/", {"kind": "registration", "file": upload}).status_code == 403
    assert client.get("/bank/batches/").status_code == 403
    assert IntakeBatch.objects.count() == 0


def test_enterprise_user_and_anonymous_visitor_are_kept_out(client):
    from tests.factories import EnterpriseFactory

    assert client.get("/bank/").status_code == 302  # to the login page
    client.force_login(UserFactory(enterprise=EnterpriseFactory(), role=roles.ENTERPRISE_USER))
    assert client.get("/bank/").status_code == 403


def test_bureau_staff_chooses_a_bank_and_sees_only_that_bank(client, two_banks):
    bank_a, _bank_b, batch_b, loan_b = two_banks
    loan(bank_a, contract_no="A-LOAN-9")
    client.force_login(UserFactory(username="handler", role=roles.HANDLER))

    assert "选择要查看的合作银行" in client.get("/bank/loans/").content.decode()
    page = client.get("/bank/loans/?bank=BB").content.decode()
    assert "B-LOAN-1" in page
    assert "A-LOAN-9" not in page
    # the choice is remembered for the session
    assert client.get(f"/bank/batches/{batch_b.pk}/").status_code == 200
    assert client.get(f"/bank/loans/{loan_b.pk}/").status_code == 200
    client.get("/bank/?bank=BA")
    assert client.get(f"/bank/batches/{batch_b.pk}/").status_code == 404


def test_only_bureau_staff_see_the_override_reason_field(client):
    bank = BankFactory(code="BX")
    client.force_login(bank_user(bank))
    assert "逾期备案特批理由" not in client.get("/bank/uploads/new/").content.decode()

    client.force_login(UserFactory(username="handler2", role=roles.HANDLER))
    assert "逾期备案特批理由" in client.get("/bank/uploads/new/?bank=BX").content.decode()


def test_bureau_auditor_may_look_but_not_upload(client):
    BankFactory(code="BY")
    client.force_login(UserFactory(username="auditor", role=roles.AUDITOR))

    assert client.get("/bank/loans/?bank=BY").status_code == 200
    assert client.get("/bank/uploads/new/?bank=BY").status_code == 403


def test_exceptions_page_is_scoped_to_the_bank(client, two_banks):
    bank_a, _bank_b, _batch_b, _loan_b = two_banks
    loan(bank_a, contract_no="A-MISSING", disbursed_on=date(2021, 6, 3), signed_on=date(2021, 6, 1))
    client.force_login(bank_user(bank_a))

    page = client.get("/bank/exceptions/?month=2021-07").content.decode()

    assert "A-MISSING" in page
    assert "B-LOAN-1" not in page
