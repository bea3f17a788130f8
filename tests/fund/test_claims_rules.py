"""Pure claim arithmetic (R18–R26, R29, R30): worked numbers and hypothesis properties."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fund.rules import claims as r

D = Decimal
money = st.decimals(min_value=D("0.01"), max_value=D("50000000"), places=2, allow_nan=False, allow_infinity=False)
share = st.decimals(min_value=D("0"), max_value=D("100"), places=2, allow_nan=False, allow_infinity=False)


# --- worked numbers --------------------------------------------------------------------


def test_claim_share_is_60_percent_in_bank_mode_r18():
    calc = r.claim_calculation(unpaid_principal=D("1000000"), pool_share_percent=D("60"), share_rule="R18")
    assert calc.result == D("600000.00")


def test_claim_share_is_40_percent_in_bank_guarantor_mode_r19():
    calc = r.claim_calculation(unpaid_principal=D("1000000"), pool_share_percent=D("40"), share_rule="R19")
    assert calc.result == D("400000.00")


def test_interest_never_counts_r20():
    without = r.claim_calculation(unpaid_principal=D("1000000"), pool_share_percent=D("60"), share_rule="R18")
    with_interest = r.claim_calculation(unpaid_principal=D("1000000"), unpaid_interest=D("87654.32"),
                                        pool_share_percent=D("60"), share_rule="R18")
    assert with_interest.result == without.result == D("600000.00")
    assert with_interest.inputs["unpaid_interest"] == "87654.32"


def test_bank_cap_off_does_not_limit_r22():
    calc = r.claim_calculation(unpaid_principal=D("1000000"), pool_share_percent=D("60"), share_rule="R18",
                               bank_cap_enabled=False, bank_cap_percent=D("50"))
    assert calc.result == D("600000.00")
    assert [s["applied"] for s in calc.steps if s["code"] == "R22"] == [False]


def test_bank_cap_on_limits_cumulative_compensation_to_percent_of_the_banks_loss_r22():
    # the bank already lost 1,000,000 and got 600,000; a new 1,000,000 loss at 60 % would bring it
    # to 1,200,000 of 2,000,000 lost; a 50 % cap allows only 1,000,000 in all → 400,000 more.
    calc = r.claim_calculation(unpaid_principal=D("1000000"), pool_share_percent=D("60"), share_rule="R18",
                               bank_cap_enabled=True, bank_cap_percent=D("50"), bank_prior_loss=D("1000000"),
                               bank_prior_compensation=D("600000"))
    assert calc.result == D("400000.00")
    step = next(s for s in calc.steps if s["code"] == "R22")
    assert step["applied"] is True
    assert step["limit"] == "400000.00"


def test_default_80_percent_cap_does_not_bind_a_60_percent_share_r22():
    calc = r.claim_calculation(unpaid_principal=D("1000000"), pool_share_percent=D("60"), share_rule="R18",
                               bank_cap_enabled=True, bank_cap_percent=D("80"))
    assert calc.result == D("600000.00")


def test_pool_balance_caps_the_claim_r3():
    calc = r.claim_calculation(unpaid_principal=D("1000000"), pool_share_percent=D("60"), share_rule="R18",
                               pool_balance=D("250000.00"))
    assert calc.result == D("250000.00")
    assert calc.share_amount == D("600000.00")
    step = next(s for s in calc.steps if s["code"] == "R3")
    assert step["applied"] is True


def test_negative_pool_balance_pays_nothing_r3():
    calc = r.claim_calculation(unpaid_principal=D("1000"), pool_share_percent=D("60"), share_rule="R18",
                               pool_balance=D("-5"))
    assert calc.result == D("0.00")


def test_recovery_example_of_r30():
    # the pool paid 600,000 at 60 %; a net recovery of 200,000 returns 120,000
    net = r.net_recovery(gross=D("230000"), costs=D("30000"))
    assert net == D("200000.00")
    assert r.recovery_refund(net=net, pool_paid=D("600000"), unpaid_principal=D("1000000")) == D("120000.00")


def test_recovery_refund_uses_the_share_the_pool_actually_paid_r30():
    # R3 left part unpaid: the pool paid 300,000 on a 1,000,000 loss → 30 % of each recovery
    assert r.recovery_refund(net=D("100000"), pool_paid=D("300000"), unpaid_principal=D("1000000")) == D("30000.00")


def test_cumulative_refunds_never_exceed_what_the_pool_paid_r30():
    assert r.recovery_refund(net=D("900000"), pool_paid=D("600000"), unpaid_principal=D("1000000"),
                             refunded_before=D("300000")) == D("300000.00")
    assert r.recovery_refund(net=D("1"), pool_paid=D("600000"), unpaid_principal=D("1000000"),
                             refunded_before=D("600000")) == D("0.00")


def test_costs_above_the_recovery_give_no_refund_r30():
    assert r.net_recovery(gross=D("1000"), costs=D("5000")) == D("0.00")


# --- filing rules (R23, R24) -------------------------------------------------------------


def _errors(**kwargs):
    base = {"overdue_days": 120, "nonperforming_since": date(2024, 1, 1), "claim_date": date(2024, 3, 1),
            "overdue_threshold": 90, "deadline_days": 180}
    return r.claim_filing_errors(**(base | kwargs))


def test_claim_needs_more_than_90_days_overdue_r23():
    assert [rule for rule, _ in _errors(overdue_days=90)] == ["R23"]
    assert _errors(overdue_days=91) == []


def test_claim_must_be_filed_within_180_days_of_nonperformance_r24():
    assert _errors(claim_date=date(2024, 6, 29)) == []  # day 180
    assert [rule for rule, _ in _errors(claim_date=date(2024, 6, 30))] == ["R24"]


def test_claim_on_a_settled_loan_is_refused():
    assert [rule for rule, _ in _errors(loan_settled=True)] == ["R20"]


# --- documents (R25) ---------------------------------------------------------------------


def test_required_documents_by_mode_and_court_notice_parameter_r25():
    bank = r.required_document_kinds(mode="bank", require_court_notice=False)
    guarantor = r.required_document_kinds(mode="bank_guarantor", require_court_notice=True)
    assert len(bank) == 6
    assert r.GUARANTEE_CONTRACT not in bank
    assert {r.GUARANTEE_CONTRACT, r.GUARANTOR_PAYMENT_VOUCHER, r.COURT_NOTICE} <= set(guarantor)


@pytest.mark.parametrize(
    ("head", "kind"),
    [(b"%PDF-1.7", "pdf"), (b"\xff\xd8\xff\xe1", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"PK\x03\x04", "zip"),
     (b"MZ\x90\x00", None), (b"<html>", None)],
)
def test_document_type_is_read_from_magic_bytes(head, kind):
    assert r.sniff_document_type(head) == kind


def test_xlsx_is_accepted_only_for_the_loss_calculation():
    assert r.document_error(kind=r.LOSS_CALCULATION, detected="xlsx", size=100) is None
    assert "文件类型不符" in r.document_error(kind=r.CLAIM_FORM, detected="xlsx", size=100)


def test_documents_over_10_mb_are_refused():
    assert "10 MB" in r.document_error(kind=r.CLAIM_FORM, detected="pdf", size=10 * 1024 * 1024 + 1)
    assert r.document_error(kind=r.CLAIM_FORM, detected="pdf", size=10 * 1024 * 1024) is None


# --- working days (R29, R30) ---------------------------------------------------------------


def test_working_days_skip_weekends():
    friday = date(2024, 3, 1)
    assert r.add_working_days(friday, 1) == date(2024, 3, 4)  # Monday
    assert r.add_working_days(friday, 10) == date(2024, 3, 15)
    assert r.working_days_between(friday, date(2024, 3, 15)) == 10


@given(start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)), n=st.integers(0, 400))
def test_working_days_between_inverts_add_working_days(start, n):
    assert r.working_days_between(start, r.add_working_days(start, n)) == n


# --- properties ------------------------------------------------------------------------------


@given(principal=money, pct=share, balance=st.one_of(st.none(), money), cap=share, prior_loss=money,
       prior_comp=money, cap_on=st.booleans())
def test_pool_share_never_exceeds_the_loss_and_is_never_negative(principal, pct, balance, cap, prior_loss,
                                                                  prior_comp, cap_on):
    calc = r.claim_calculation(unpaid_principal=principal, pool_share_percent=pct, share_rule="R18",
                               bank_cap_enabled=cap_on, bank_cap_percent=cap, bank_prior_loss=prior_loss,
                               bank_prior_compensation=prior_comp, pool_balance=balance)
    assert D("0") <= calc.result <= principal
    assert calc.result <= calc.share_amount
    if balance is not None:
        assert calc.result <= balance


@given(paid=money, principal=money, nets=st.lists(money, max_size=8))
def test_refunds_never_exceed_what_the_pool_paid_and_are_never_negative(paid, principal, nets):
    total = D("0")
    for net in nets:
        refund = r.recovery_refund(net=net, pool_paid=paid, unpaid_principal=principal, refunded_before=total)
        assert refund >= 0
        total += refund
    assert total <= paid
