"""The demo step that loads the pilot's loans through the intake (banks/demo/intake.py)."""

from io import StringIO

import pytest

from banks.demo import foundation, intake, pilot
from banks.intake import fields as F
from banks.models import BatchStatus, IntakeBatch, StatusReport
from fund.models import Loan


@pytest.fixture(scope="module")
def data():
    return pilot.build()


def test_registration_groups_keep_every_loan_within_the_30_day_window(data):
    for bank_code in data.bank_codes():
        loans = [loan for loan in data.loans if loan.bank_code == bank_code]
        groups = list(intake.registration_groups(loans))

        assert sorted(x.contract_no for g in groups for x in g) == sorted(x.contract_no for x in loans)
        for group in groups:
            upload_day = max(loan.registered_on for loan in group)
            assert all(0 <= (upload_day - loan.disbursed_on).days <= 30 for loan in group)  # R15


def test_uploads_come_registrations_first_then_months_in_order(data):
    uploads = list(intake.uploads_for(data, "B01"))
    kinds = [u.kind for u in uploads]

    assert kinds == sorted(kinds, key=lambda k: k != F.REGISTRATION)
    months = [u.filename for u in uploads if u.kind == F.STATUS]
    assert months == sorted(months)


@pytest.mark.django_db
def test_pilot_loads_through_the_intake_with_zero_errors_and_reruns_change_nothing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    out = StringIO()
    foundation.load_programme(out)
    foundation.load_partners(out)
    data = pilot.build()

    intake.load_pilot(out)

    batches = IntakeBatch.objects.all()
    assert {b.status for b in batches} == {BatchStatus.APPLIED}, [
        (b.filename, b.issues[:3]) for b in batches if b.status != BatchStatus.APPLIED][:3]
    assert sum(b.error_count + b.warning_count for b in batches) == 0
    assert Loan.objects.count() == len(data.loans)
    assert StatusReport.objects.count() == len(data.monthly_reports)
    assert min(b.uploaded_at for b in batches).year == 2021  # dated when the bank would have sent them

    # when: run again
    count = batches.count()
    intake.load_pilot(out)

    # then: every file is recognised by its SHA-256 and nothing is sent
    assert IntakeBatch.objects.count() == count
    assert "0 个工作簿已导入" in out.getvalue().splitlines()[-1]
