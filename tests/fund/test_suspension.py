"""Suspension and reinstatement (R5, R17, R31–R34) with worked numbers."""

from datetime import date
from decimal import Decimal

import pytest

from fund.models import CooperationChange, CooperationState, LoanMode
from fund.selectors import loan_risk, registration_allowed
from fund.services import partnership_set_state, pool_pay, suspension_evaluate
from fund.tasks import evaluate_suspensions
from tests.fund.factories import (
    GuarantorPartnershipFactory,
    LoanFactory,
    PartnershipFactory,
    ProgrammeFactory,
    fund_pool,
    loans_with_overdue_share,
    params_of,
)

pytestmark = pytest.mark.django_db
D = Decimal
ON = date(2021, 9, 1)


@pytest.fixture
def programme():
    programme = ProgrammeFactory()
    fund_pool(programme, "1000000.00")
    return programme


def _state(partnership):
    partnership.refresh_from_db()
    return partnership.state


def test_a_bank_at_5_01_percent_overdue_is_suspended_r31(programme):
    partnership = PartnershipFactory(programme=programme)
    # given: 501 of 10,000 outstanding is overdue → 5.01 %
    loans_with_overdue_share(programme=programme, bank=partnership.bank, overdue=D("501"), current=D("9499"))
    # when
    report = suspension_evaluate(programme=programme, on=ON)
    # then
    assert report.banks[0].rate == D("5.01")
    assert _state(partnership) == CooperationState.SUSPENDED
    change = CooperationChange.objects.get(partnership=partnership)
    assert (change.rule, change.actor) == ("R31", None)
    assert "5.01%" in change.reason
    allowed, reason = registration_allowed(programme=programme, bank=partnership.bank, on=ON)
    assert not allowed
    assert "R31" in reason


def test_a_bank_at_exactly_5_00_percent_is_not_suspended_r31(programme):
    partnership = PartnershipFactory(programme=programme)
    loans_with_overdue_share(programme=programme, bank=partnership.bank, overdue=D("500"), current=D("9500"))
    suspension_evaluate(programme=programme, on=ON)
    assert _state(partnership) == CooperationState.ACTIVE
    assert registration_allowed(programme=programme, bank=partnership.bank, on=ON) == (True, "")


def test_a_bank_is_reinstated_when_its_rate_falls_back_r31(programme):
    partnership = PartnershipFactory(programme=programme)
    loans_with_overdue_share(programme=programme, bank=partnership.bank, overdue=D("600"), current=D("9400"))
    suspension_evaluate(programme=programme, on=ON)
    assert _state(partnership) == CooperationState.SUSPENDED
    # when: the overdue loan is reported current again (rate 0 %)
    partnership.bank.loans.filter(status="overdue").update(status="current", overdue_days=0)
    report = suspension_evaluate(programme=programme, on=ON)
    # then
    assert _state(partnership) == CooperationState.ACTIVE
    assert [o.changed for o in report.banks] == [True]
    assert CooperationChange.objects.filter(partnership=partnership, to_state="active", rule="R31").exists()


def test_overdue_rate_counts_overdue_days_and_ignores_closed_loans(programme):
    bank = PartnershipFactory(programme=programme).bank
    LoanFactory(programme=programme, bank=bank, principal=D("1000"), outstanding_principal=D("1000"),
                overdue_days=3)
    LoanFactory(programme=programme, bank=bank, principal=D("3000"), outstanding_principal=D("3000"),
                classification="substandard")
    LoanFactory(programme=programme, bank=bank, principal=D("5000"), outstanding_principal=D("0"), status="settled")
    LoanFactory(programme=programme, bank=bank, principal=D("700"), outstanding_principal=D("700"),
                status="written_off")
    overall, by_bank = loan_risk(programme=programme, as_of=ON)
    assert (overall.outstanding, overall.overdue, overall.nonperforming) == (D("4000"), D("1000"), D("3000"))
    assert (overall.overdue_rate, overall.nonperforming_rate) == (D("25.00"), D("75.00"))
    assert by_bank[bank.pk] == overall


def test_a_bank_suspended_by_staff_is_never_reinstated_automatically_r5(programme):
    partnership = PartnershipFactory(programme=programme)
    partnership_set_state(partnership=partnership, state=CooperationState.SUSPENDED, reason="约谈整改")
    suspension_evaluate(programme=programme, on=ON)
    assert _state(partnership) == CooperationState.SUSPENDED
    assert CooperationChange.objects.filter(partnership=partnership).count() == 1


def test_an_ended_partnership_is_never_touched_r5(programme):
    partnership = PartnershipFactory(programme=programme)
    partnership_set_state(partnership=partnership, state=CooperationState.ENDED, reason="协议到期")
    loans_with_overdue_share(programme=programme, bank=partnership.bank, overdue=D("900"), current=D("100"))
    suspension_evaluate(programme=programme, on=ON)
    assert _state(partnership) == CooperationState.ENDED
    allowed, reason = registration_allowed(programme=programme, bank=partnership.bank, on=ON)
    assert not allowed
    assert "终止" in reason


def test_a_pool_below_its_floor_stops_every_bank_until_topped_up_r33(programme):
    partnerships = [PartnershipFactory(programme=programme) for _ in range(2)]
    # given: contributed 1,000,000; pays out 900,000.01 → balance 99,999.99 < 10 %
    pool_pay(programme=programme, amount=D("900000.01"), reference="C1", idempotency_key="r33", actor=None,
             on=date(2021, 8, 1))
    allowed, reason = registration_allowed(programme=programme, bank=partnerships[0].bank, on=ON)
    assert not allowed
    assert "R33" in reason
    suspension_evaluate(programme=programme, on=ON)
    assert [_state(p) for p in partnerships] == [CooperationState.SUSPENDED] * 2
    assert CooperationChange.objects.filter(rule="R33").count() == 2
    # when: topped up (new capital 1,000,100; floor 100,010; balance 100,099.99)
    fund_pool(programme, "100.00", on=date(2021, 8, 20))
    suspension_evaluate(programme=programme, on=ON)
    # then
    assert [_state(p) for p in partnerships] == [CooperationState.ACTIVE] * 2
    assert registration_allowed(programme=programme, bank=partnerships[0].bank, on=ON) == (True, "")


def test_programme_wide_overdue_stop_is_off_by_default_and_applies_when_enabled_r32(programme):
    partnerships = [PartnershipFactory(programme=programme) for _ in range(2)]
    # 3.00 % programme-wide (300 of 10,000), each bank at or under its own 5 % line
    loans_with_overdue_share(programme=programme, bank=partnerships[0].bank, overdue=D("300"), current=D("5700"))
    loans_with_overdue_share(programme=programme, bank=partnerships[1].bank, overdue=D("0"), current=D("4000"))
    suspension_evaluate(programme=programme, on=ON)
    assert [_state(p) for p in partnerships] == [CooperationState.ACTIVE] * 2
    params = params_of(programme)
    params.programme_overdue_stop_enabled = True
    params.save()
    allowed, reason = registration_allowed(programme=programme, bank=partnerships[1].bank, on=ON)
    assert not allowed
    assert "R32" in reason
    report = suspension_evaluate(programme=programme, on=ON)
    assert report.overall.overdue_rate == D("3.00")
    assert [_state(p) for p in partnerships] == [CooperationState.SUSPENDED] * 2


def test_a_guarantor_above_its_compensation_line_is_suspended_when_enabled_r32(programme):
    bank = PartnershipFactory(programme=programme).bank
    gp = GuarantorPartnershipFactory(programme=programme)
    LoanFactory(programme=programme, bank=bank, mode=LoanMode.BANK_GUARANTOR, guarantor=gp.guarantor,
                principal=D("10000"), outstanding_principal=D("10000"))
    params = params_of(programme)
    params.guarantor_suspend_enabled = True
    params.save()
    # 501 paid out on 10,000 guaranteed → 5.01 %
    suspension_evaluate(programme=programme, on=ON, guarantor_payouts={gp.guarantor_id: D("501")})
    assert _state(gp) == CooperationState.SUSPENDED
    allowed, reason = registration_allowed(programme=programme, bank=bank, on=ON, guarantor=gp.guarantor)
    assert not allowed
    assert "R32" in reason
    assert registration_allowed(programme=programme, bank=bank, on=ON)[0]
    # without payouts (no claims module yet) the rate is 0 and it is reinstated
    suspension_evaluate(programme=programme, on=ON)
    assert _state(gp) == CooperationState.ACTIVE


def test_a_registration_by_a_non_partner_bank_is_refused_r17(programme):
    other = PartnershipFactory().bank
    allowed, reason = registration_allowed(programme=programme, bank=other, on=ON)
    assert not allowed
    assert "不是项目" in reason


def test_the_nightly_task_evaluates_every_programme(programme):
    partnership = PartnershipFactory(programme=programme)
    loans_with_overdue_share(programme=programme, bank=partnership.bank, overdue=D("600"), current=D("9400"))
    result = evaluate_suspensions.delay(on=ON.isoformat()).get()
    assert result["changes"] == 1
    assert _state(partnership) == CooperationState.SUSPENDED
    assert evaluate_suspensions.acks_late
    assert evaluate_suspensions.name == "fund.tasks.evaluate_suspensions"
