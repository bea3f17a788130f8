"""Enterprise accounts (one-time activation codes) and loan applications (意向申请)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from fund.models import CooperationState
from registry import roles
from registry.errors import BusinessError
from registry.models import User
from subsidies import selectors, services
from subsidies.models import ActivationCode, LoanApplication, LoanApplicationStatus
from tests.factories import BankFactory, EnterpriseFactory, LoanFactory, PartnershipFactory, UserFactory

from .factories import OPEN_WINDOW, EnterpriseUserFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Xin-Mima-2024"


@pytest.fixture
def loan():
    return LoanFactory()


def activate(loan, code, password=NEW_PASSWORD):
    return services.enterprise_account_activate(credit_code=loan.enterprise.credit_code, code=code, password=password)


# --- activation codes ---------------------------------------------------------------------


def test_activation_creates_a_login_named_by_credit_code(loan, handler):
    code = services.activation_code_issue(enterprise=loan.enterprise, actor=handler)
    user = activate(loan, code)
    assert user.username == loan.enterprise.credit_code
    assert user.enterprise == loan.enterprise
    assert user.groups.filter(name=roles.ENTERPRISE_USER).exists()
    assert user.check_password(NEW_PASSWORD)
    assert not user.is_staff


def test_the_code_is_stored_only_as_a_hash(loan, handler):
    code = services.activation_code_issue(enterprise=loan.enterprise, actor=handler)
    stored = ActivationCode.objects.get()
    assert code.replace("-", "") not in stored.code_hash
    assert stored.expires_at - stored.issued_at == timedelta(days=7)


def test_a_code_works_once(loan, handler):
    code = services.activation_code_issue(enterprise=loan.enterprise, actor=handler)
    activate(loan, code)
    with pytest.raises(BusinessError, match="激活码不正确"):
        activate(loan, code, password="Another-Passw0rd")
    assert User.objects.get(username=loan.enterprise.credit_code).check_password(NEW_PASSWORD)


def test_an_expired_code_is_refused(loan, handler):
    code = services.activation_code_issue(enterprise=loan.enterprise, actor=handler)
    ActivationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(BusinessError, match="激活码不正确"):
        activate(loan, code)
    assert not User.objects.filter(username=loan.enterprise.credit_code).exists()


def test_a_new_code_revokes_the_old_one(loan, handler):
    old = services.activation_code_issue(enterprise=loan.enterprise, actor=handler)
    new = services.activation_code_issue(enterprise=loan.enterprise, actor=handler)
    with pytest.raises(BusinessError):
        activate(loan, old)
    assert activate(loan, new)


def test_wrong_code_and_unknown_credit_code_get_the_same_message(loan, handler):
    services.activation_code_issue(enterprise=loan.enterprise, actor=handler)
    with pytest.raises(BusinessError) as wrong:
        activate(loan, "ZZZZ-ZZZZ")
    with pytest.raises(BusinessError) as unknown:
        services.enterprise_account_activate(credit_code="91510100MA0000000X", code="ZZZZ-ZZZZ", password=NEW_PASSWORD)
    assert wrong.value.message == unknown.value.message


def test_a_weak_password_is_refused_and_the_code_still_works(loan, handler):
    code = services.activation_code_issue(enterprise=loan.enterprise, actor=handler)
    with pytest.raises(BusinessError) as exc:
        activate(loan, code, password="12345678")
    assert exc.value.code == "weak_password"
    assert activate(loan, code)


def test_a_code_resets_the_password_of_an_existing_account(loan, handler):
    user = EnterpriseUserFactory(enterprise=loan.enterprise)
    code = services.activation_code_issue(enterprise=loan.enterprise, actor=handler)
    assert activate(loan, code).pk == user.pk
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_bank_issues_codes_only_for_its_own_borrowers(loan):
    own = UserFactory(username="bank_own", role=roles.BANK_USER, bank=loan.bank)
    other = UserFactory(username="bank_other", role=roles.BANK_USER, bank=BankFactory())
    assert services.activation_code_issue(enterprise=loan.enterprise, actor=own)
    with pytest.raises(BusinessError, match="本行"):
        services.activation_code_issue(enterprise=loan.enterprise, actor=other)
    assert ActivationCode.objects.count() == 1


def test_codes_only_for_registered_borrowers_and_only_by_permitted_staff(handler, auditor):
    with pytest.raises(BusinessError, match="没有备案贷款"):
        services.activation_code_issue(enterprise=EnterpriseFactory(), actor=handler)
    with pytest.raises(BusinessError, match="权限"):
        services.activation_code_issue(enterprise=LoanFactory().enterprise, actor=auditor)
    assert not ActivationCode.objects.exists()


@pytest.fixture
def auditor(db):
    return UserFactory(username="shenji", role=roles.AUDITOR)


# --- loan applications -----------------------------------------------------------------------


@pytest.fixture
def partnership():
    return PartnershipFactory(programme=ProgrammeFactory(**OPEN_WINDOW))


@pytest.fixture
def applicant():
    return EnterpriseUserFactory()


def submit(partnership, applicant, amount="500000"):
    return services.loan_application_submit(
        enterprise=applicant.enterprise, programme=partnership.programme, bank=partnership.bank,
        amount=Decimal(amount), purpose="采购商品", actor=applicant,
    )


@pytest.fixture
def bank_user(partnership):
    return UserFactory(username="bank_user", role=roles.BANK_USER, bank=partnership.bank)


def test_bank_sees_and_accepts_an_application(partnership, applicant, bank_user):
    application = submit(partnership, applicant)
    assert list(selectors.loan_applications_for_bank(bank=partnership.bank)) == [application]
    decided = services.loan_application_decide(application=application, accept=True, reason="", actor=bank_user)
    assert (decided.status, decided.decided_by) == (LoanApplicationStatus.ACCEPTED, bank_user)


def test_declining_needs_a_reason_and_deciding_twice_is_refused(partnership, applicant, bank_user):
    application = submit(partnership, applicant)
    with pytest.raises(BusinessError, match="理由"):
        services.loan_application_decide(application=application, accept=False, reason="", actor=bank_user)
    services.loan_application_decide(application=application, accept=False, reason="经营年限不足", actor=bank_user)
    with pytest.raises(BusinessError, match="已答复"):
        services.loan_application_decide(application=application, accept=True, reason="", actor=bank_user)
    application.refresh_from_db()
    assert (application.status, application.reason) == (LoanApplicationStatus.DECLINED, "经营年限不足")


def test_another_bank_cannot_decide(partnership, applicant):
    application = submit(partnership, applicant)
    stranger = UserFactory(username="bank_x", role=roles.BANK_USER, bank=BankFactory())
    with pytest.raises(BusinessError, match="本行"):
        services.loan_application_decide(application=application, accept=True, reason="", actor=stranger)
    assert LoanApplication.objects.get().status == LoanApplicationStatus.SUBMITTED


def test_a_second_open_application_to_the_same_bank_is_refused(partnership, applicant):
    submit(partnership, applicant)
    with pytest.raises(BusinessError, match="已向该银行提交过"):
        submit(partnership, applicant)
    assert LoanApplication.objects.count() == 1


def test_applications_go_only_to_active_partners_within_the_r11_cap(partnership, applicant):
    with pytest.raises(BusinessError, match="不超过"):
        submit(partnership, applicant, amount="10000000.01")
    partnership.state = CooperationState.SUSPENDED
    partnership.save()
    with pytest.raises(BusinessError, match="暂停"):
        submit(partnership, applicant)
    with pytest.raises(BusinessError, match="合作银行"):
        services.loan_application_submit(enterprise=applicant.enterprise, programme=partnership.programme,
                                         bank=BankFactory(), amount=Decimal(1000), purpose="x", actor=applicant)
    assert not LoanApplication.objects.exists()


def test_an_enterprise_applies_only_for_itself(partnership, applicant):
    other = EnterpriseFactory()
    with pytest.raises(BusinessError):
        services.loan_application_submit(enterprise=other, programme=partnership.programme, bank=partnership.bank,
                                         amount=Decimal(1000), purpose="x", actor=applicant)


def test_applicants_are_enterprises_that_applied_or_borrowed_by_the_cut_off(partnership):
    # given
    programme = partnership.programme
    shanghai = ZoneInfo("Asia/Shanghai")
    early, late, both, declined = (EnterpriseFactory() for _ in range(4))
    for enterprise, day in ((early, date(2022, 3, 1)), (late, date(2022, 6, 1)), (both, date(2022, 1, 5)),
                            (declined, date(2022, 5, 28))):
        LoanApplication.objects.create(
            enterprise=enterprise, programme=programme, bank=partnership.bank, amount=Decimal(1000), purpose="x",
            status=LoanApplicationStatus.DECLINED if enterprise == declined else LoanApplicationStatus.SUBMITTED,
            created_at=datetime.combine(day, datetime.min.time(), tzinfo=shanghai) + timedelta(hours=23, minutes=59),
        )
    LoanFactory(programme=programme, enterprise=both, signed_on=date(2022, 2, 1), disbursed_on=date(2022, 2, 2))
    borrower = LoanFactory(programme=programme, signed_on=date(2022, 4, 1), disbursed_on=date(2022, 4, 2)).enterprise
    LoanFactory(programme=programme, signed_on=date(2022, 6, 1), disbursed_on=date(2022, 6, 2))  # after the cut-off
    LoanFactory(signed_on=date(2022, 1, 1), disbursed_on=date(2022, 1, 2))  # another programme

    # when
    ids = selectors.applicant_enterprise_ids(programme=programme, as_of=date(2022, 5, 28))

    # then: local dates; distinct; declined applications count too
    assert ids == {early.pk, both.pk, declined.pk, borrower.pk}
