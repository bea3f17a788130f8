"""Recoveries and the pool's refunds (R30), through the ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest

from fund.models import Journal, JournalKind, LoanMode, RefundStatus
from fund.selectors import pool_balance, recoveries_refund_overdue
from fund.services import (
    claim_close_pursuit,
    recoveries_flag_refund_overdue,
    recovery_mark_refund_received,
    recovery_record,
)
from registry import roles
from registry.errors import BusinessError
from tests.factories import BankFactory

from .claims_factories import bank_user, guarantor_user, paid_claim, pdf, staff, submitted_claim, today

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _record(claim, gross, costs="0", actor=None, on=None):
    return recovery_record(claim=claim, gross_amount=D(gross), costs=D(costs), recovered_on=on or today(),
                           evidence=pdf("回款凭证.pdf"), actor=actor or bank_user(claim.loan.bank))


def test_the_r30_example_returns_120_000_of_a_200_000_net_recovery():
    # given: the pool paid 600,000 at 60 % of a 1,000,000 loss
    claim = paid_claim(principal=D("1000000.00"))
    assert claim.paid_amount == D("600000.00")
    # when: 230,000 recovered with 30,000 of costs
    recovery = _record(claim, "230000", "30000")
    # then
    assert (recovery.net_amount, recovery.refund_due, recovery.refund_status) == (
        D("200000.00"), D("120000.00"), RefundStatus.DUE)


def test_a_received_refund_posts_once_to_the_pool():
    claim = paid_claim()
    recovery = _record(claim, "200000")
    before = pool_balance(programme=claim.programme)
    handler = staff(roles.HANDLER, "cashier")
    recovery = recovery_mark_refund_received(recovery=recovery, received_on=today(), actor=handler)
    assert recovery.refund_status == RefundStatus.RECEIVED
    assert pool_balance(programme=claim.programme) == before + D("120000.00")
    with pytest.raises(BusinessError, match="无需确认到账"):
        recovery_mark_refund_received(recovery=recovery, received_on=today(), actor=handler)
    assert Journal.objects.filter(kind=JournalKind.RECOVERY_REFUND).count() == 1


def test_only_staff_with_the_permission_confirm_a_refund():
    claim = paid_claim()
    recovery = _record(claim, "1000")
    with pytest.raises(BusinessError, match="没有确认"):
        recovery_mark_refund_received(recovery=recovery, received_on=today(), actor=bank_user(claim.loan.bank))
    with pytest.raises(BusinessError, match="没有确认"):
        recovery_mark_refund_received(recovery=recovery, received_on=today(), actor=staff(roles.AUDITOR, "aud"))


def test_cumulative_refunds_stop_at_what_the_pool_paid():
    claim = paid_claim(principal=D("1000000.00"))
    first = _record(claim, "900000")
    second = _record(claim, "500000")
    assert first.refund_due == D("540000.00")
    assert second.refund_due == D("60000.00")  # 600,000 − 540,000
    third = _record(claim, "100")
    assert (third.refund_due, third.refund_status) == (D("0.00"), RefundStatus.NONE)


def test_refund_share_follows_what_the_pool_actually_paid_after_r3():
    from .claims_factories import claimable_loan, fund_pool

    loan = claimable_loan(principal=D("1000000.00"))
    fund_pool(loan.programme, amount=D("300000.00"))
    claim = paid_claim(loan, fund=False)
    assert claim.paid_amount == D("300000.00")
    assert _record(claim, "100000").refund_due == D("30000.00")


def test_the_guarantor_may_report_a_recovery_in_bank_guarantor_mode():
    claim = paid_claim(mode=LoanMode.BANK_GUARANTOR, principal=D("1000000.00"))
    recovery = _record(claim, "100000", actor=guarantor_user(claim.loan.guarantor))
    assert recovery.refund_due == D("40000.00")  # the pool paid 40 %


def test_another_bank_cannot_report_a_recovery():
    claim = paid_claim()
    with pytest.raises(BusinessError, match="只有贷款所属银行或其担保机构"):
        _record(claim, "1000", actor=bank_user(BankFactory(), username="other"))
    assert not claim.recoveries.exists()


def test_no_recovery_before_the_claim_is_paid():
    claim = submitted_claim()
    with pytest.raises(BusinessError, match="支付之后"):
        _record(claim, "1000", actor=claim.submitted_by)


def test_write_off_closes_pursuit_but_later_recoveries_are_still_due():
    claim = paid_claim()
    user = bank_user(claim.loan.bank)
    claim = claim_close_pursuit(claim=claim, closed_on=today(), reason="债务人破产清算终结", actor=user)
    assert claim.pursuit_closed_on == today()
    recovery = _record(claim, "10000", actor=user)
    assert (recovery.refund_due, recovery.refund_status) == (D("6000.00"), RefundStatus.DUE)
    with pytest.raises(BusinessError, match="已于"):
        claim_close_pursuit(claim=claim, closed_on=today(), reason="再次", actor=user)


def test_an_unpaid_refund_is_flagged_after_10_working_days():
    claim = paid_claim()
    recovery = _record(claim, "1000", on=today() - timedelta(days=30))
    assert recovery.refund_overdue is True
    assert list(recoveries_refund_overdue()) == [recovery]
    assert recoveries_flag_refund_overdue() == 1
    assert recoveries_flag_refund_overdue() == 0


def test_the_nightly_task_flags_overdue_reviews_and_refunds():
    from fund.models import Claim
    from fund.tasks_claims import flag_overdue_claims

    claim = paid_claim()
    _record(claim, "1000", on=today() - timedelta(days=30))
    late = submitted_claim()
    Claim.objects.filter(pk=late.pk).update(review_due_on=today() - timedelta(days=1))
    assert flag_overdue_claims.delay().get() == {"reviews": 1, "refunds": 1}
