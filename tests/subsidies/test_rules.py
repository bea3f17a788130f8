"""R35, R36, R37, R39: the pure subsidy arithmetic (no database)."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.rules import lpr_table
from subsidies import rules

D = Decimal
LPR = list(lpr_table())


def Params(**overrides) -> SimpleNamespace:
    defaults = {
        "interest_subsidy_percent": D("30"), "interest_reference_rate": rules.LPR_AT_SETTLEMENT,
        "day_count_basis": 360, "interest_subsidy_cap": D("500000.00"), "interest_subsidy_cap_basis": rules.PER_LOAN,
        "fee_subsidy_percent": D("50"), "fee_subsidy_cap": D("200000.00"), "fee_subsidy_cap_basis": rules.PER_LOAN,
        "fee_flag_percent": D("2"),
    }
    return SimpleNamespace(**{**defaults, **overrides})


def facts(**overrides) -> rules.LoanFacts:
    base = {
        "mode": "bank", "principal": D("1000000.00"), "annual_rate": D("4.35"), "signed_on": date(2021, 6, 1),
        "disbursed_on": date(2021, 6, 3), "matures_on": date(2022, 6, 3), "settled_on": date(2022, 5, 20),
        "interest_paid": D("40000.00"), "fee_paid": D("15000.00"), "settled": True, "ever_overdue": False,
        "compensated": False,
    }
    return rules.LoanFacts(**{**base, **overrides})


# --- R35: the worked example ------------------------------------------------------------


def test_worked_example_ten_million_for_365_days_at_lpr_3_70_gives_112541_67():
    # given: 10,000,000 元 outstanding 365 days, reference LPR 3.70 %, actual/360
    base = rules.interest_at_rate(principal=D("10000000"), days=365, rate_percent=D("3.70"), day_count_basis=360)
    assert base == D("375138.89")

    # when: the bank reports the interest it charged at the 4.35 % contract rate
    paid = rules.interest_at_rate(principal=D("10000000"), days=365, rate_percent=D("4.35"))
    calc = rules.interest_subsidy(interest_paid=paid, contract_rate=D("4.35"), reference_rate=D("3.70"),
                                  share_percent=D("30"), cap=D("500000"))

    # then: the subsidy base is the interest at the reference rate, and 30 % of it is paid
    assert calc.base == D("375138.89")
    assert calc.amount == D("112541.67")
    assert calc.cap_applied == ""


def test_pilot_effective_rate_is_4_35_minus_30_percent_of_3_70():
    # 3.24 % = 4.35 % − 30 % × 3.70 % (pilot-figures.md)
    principal, days = D("1000000"), 360
    paid = rules.interest_at_rate(principal=principal, days=days, rate_percent=D("4.35"))
    calc = rules.interest_subsidy(interest_paid=paid, contract_rate=D("4.35"), reference_rate=D("3.70"),
                                  share_percent=D("30"), cap=D("500000"))
    effective = (paid - calc.amount) / principal * 100
    assert effective.quantize(D("0.01")) == D("3.24")


@settings(max_examples=200, deadline=None)
@given(
    principal=st.decimals(min_value=D("10000"), max_value=D("10000000"), places=2),
    days=st.integers(min_value=1, max_value=366),
    contract=st.decimals(min_value=D("2.00"), max_value=D("6.00"), places=2),
    reference=st.decimals(min_value=D("2.00"), max_value=D("6.00"), places=2),
)
def test_for_a_one_sum_loan_the_base_equals_principal_days_reference_rate_over_360(principal, days, contract, reference):
    paid = rules.interest_at_rate(principal=principal, days=days, rate_percent=contract)
    base = rules.interest_subsidy_base(interest_paid=paid, contract_rate=contract, reference_rate=reference)
    check = rules.interest_at_rate(principal=principal, days=days, rate_percent=reference)
    # only the rounding of the paid interest (half a cent) scaled by reference/contract separates them
    assert abs(base - check) <= D("0.02")


def test_interest_subsidy_is_capped_at_500000_per_loan():
    calc = rules.interest_subsidy(interest_paid=D("3000000"), contract_rate=D("4.35"), reference_rate=D("4.35"),
                                  share_percent=D("30"), cap=D("500000"))
    assert calc.uncapped == D("900000.00")
    assert calc.amount == D("500000.00")
    assert calc.cap_applied == rules.PER_LOAN


def test_per_enterprise_year_cap_subtracts_what_the_enterprise_already_got_that_year():
    calc = rules.interest_subsidy(interest_paid=D("1000000"), contract_rate=D("4.35"), reference_rate=D("4.35"),
                                  share_percent=D("30"), cap=D("500000"), cap_basis=rules.PER_ENTERPRISE_YEAR,
                                  already_received=D("450000"))
    assert calc.uncapped == D("300000.00")
    assert calc.amount == D("50000.00")
    assert calc.cap_applied == rules.PER_ENTERPRISE_YEAR


def test_per_enterprise_year_cap_already_used_up_gives_zero():
    calc = rules.interest_subsidy(interest_paid=D("10000"), contract_rate=D("4.35"), reference_rate=D("3.70"),
                                  share_percent=D("30"), cap=D("500000"), cap_basis=rules.PER_ENTERPRISE_YEAR,
                                  already_received=D("600000"))
    assert calc.amount == D("0.00")


def test_per_loan_cap_ignores_what_the_enterprise_got_on_other_loans():
    calc = rules.interest_subsidy(interest_paid=D("10000"), contract_rate=D("4.35"), reference_rate=D("4.35"),
                                  share_percent=D("30"), cap=D("500000"), already_received=D("600000"))
    assert calc.amount == D("3000.00")


def test_r39_other_subsidies_never_bring_the_interest_cost_below_zero():
    # the contract rate as reference and a 100 % share would refund all the interest...
    calc = rules.interest_subsidy(interest_paid=D("10000"), contract_rate=D("4.00"), reference_rate=D("4.00"),
                                  share_percent=D("100"), cap=D("500000"), other_subsidies=D("9000"))
    # ...but 9,000 元 already come from elsewhere
    assert calc.amount == D("1000.00")
    assert calc.cap_applied == "no_double_subsidy"


def test_subsidy_never_exceeds_interest_paid_even_when_the_reference_rate_is_above_the_contract_rate():
    calc = rules.interest_subsidy(interest_paid=D("10000"), contract_rate=D("3.00"), reference_rate=D("4.50"),
                                  share_percent=D("100"), cap=D("500000"))
    assert calc.base == D("15000.00")
    assert calc.amount == D("10000.00")


# --- reference rate ----------------------------------------------------------------------


def test_reference_rate_default_is_the_lpr_in_force_at_settlement():
    rate, source = rules.reference_rate(basis=rules.LPR_AT_SETTLEMENT, settled_on=date(2022, 5, 20),
                                        signed_on=date(2021, 6, 1), contract_rate=D("4.35"), lpr_table=LPR)
    assert rate == D("3.70")
    assert "结清日 2022-05-20" in source
    assert "2022-01-20" in source


def test_reference_rate_can_be_the_lpr_at_signing_or_the_contract_rate():
    at_signing, _ = rules.reference_rate(basis=rules.LPR_AT_SIGNING, settled_on=date(2022, 5, 20),
                                         signed_on=date(2021, 6, 1), contract_rate=D("4.35"), lpr_table=LPR)
    contract, source = rules.reference_rate(basis=rules.CONTRACT, settled_on=date(2022, 5, 20),
                                            signed_on=date(2021, 6, 1), contract_rate=D("4.35"), lpr_table=LPR)
    assert at_signing == D("3.85")
    assert (contract, source) == (D("4.35"), "合同利率")


def test_reference_rate_before_the_first_lpr_is_an_error():
    with pytest.raises(ValueError, match="LPR"):
        rules.lpr_on(date(2000, 1, 1), LPR)


# --- R36: guarantee fee --------------------------------------------------------------------


def test_fee_subsidy_is_half_the_fee_paid():
    calc = rules.guarantee_fee_subsidy(mode="bank_guarantor", fee_paid=D("15000"), principal=D("1000000"),
                                       term_days=365, share_percent=D("50"), cap=D("200000"), flag_percent=D("2"))
    assert calc.amount == D("7500.00")
    assert calc.flags == ()


def test_fee_subsidy_is_capped_at_200000_per_loan():
    calc = rules.guarantee_fee_subsidy(mode="bank_guarantor", fee_paid=D("500000"), principal=D("30000000"),
                                       term_days=365, share_percent=D("50"), cap=D("200000"), flag_percent=D("2"))
    assert calc.amount == D("200000.00")
    assert calc.cap_applied == rules.PER_LOAN


def test_bank_mode_loans_get_no_fee_subsidy():
    calc = rules.guarantee_fee_subsidy(mode="bank", fee_paid=D("15000"), principal=D("1000000"), term_days=365,
                                       share_percent=D("50"), cap=D("200000"), flag_percent=D("2"))
    assert calc.amount == D("0.00")
    assert "政银模式" in calc.steps[-1].expression


def test_fee_above_2_percent_a_year_is_flagged_for_review():
    calc = rules.guarantee_fee_subsidy(mode="bank_guarantor", fee_paid=D("25000"), principal=D("1000000"),
                                       term_days=365, share_percent=D("50"), cap=D("200000"), flag_percent=D("2"))
    assert calc.amount == D("12500.00")  # still computed; staff decide
    assert "2.50%" in calc.flags[0]


def test_fee_is_annualised_by_the_loan_term():
    # 1.5 % for a half-year loan is 3 % a year: flagged
    half_year = rules.guarantee_fee_subsidy(mode="bank_guarantor", fee_paid=D("15000"), principal=D("1000000"),
                                            term_days=183, share_percent=D("50"), cap=D("200000"), flag_percent=D("2"))
    assert rules.annualised_fee_percent(fee_paid=D("15000"), principal=D("1000000"), term_days=183) > D("2.99")
    assert half_year.flags


def test_fee_subsidy_per_enterprise_year_cap():
    calc = rules.guarantee_fee_subsidy(mode="bank_guarantor", fee_paid=D("100000"), principal=D("5000000"),
                                       term_days=365, share_percent=D("50"), cap=D("200000"), flag_percent=D("2"),
                                       cap_basis=rules.PER_ENTERPRISE_YEAR, already_received=D("180000"))
    assert calc.amount == D("20000.00")


# --- eligibility and window ----------------------------------------------------------------


@pytest.mark.parametrize(("settled", "overdue", "compensated", "word"), [
    (False, False, False, "尚未结清"), (True, True, False, "逾期"), (True, False, True, "代偿"), (True, False, False, ""),
])
def test_ineligibility_reasons_are_plain_chinese(settled, overdue, compensated, word):
    reason = rules.ineligibility_reason(settled=settled, ever_overdue=overdue, compensated=compensated)
    assert (word in reason) if word else reason == ""


def test_application_window_states():
    opens, closes = date(2022, 1, 1), date(2022, 12, 31)
    assert rules.application_window(opens=opens, closes=closes, on=date(2021, 12, 31)) == rules.WINDOW_NOT_YET
    assert rules.application_window(opens=opens, closes=closes, on=date(2022, 1, 1)) == rules.WINDOW_OPEN
    assert rules.application_window(opens=opens, closes=closes, on=date(2022, 12, 31)) == rules.WINDOW_OPEN
    assert rules.application_window(opens=opens, closes=closes, on=date(2023, 1, 1)) == rules.WINDOW_CLOSED
    assert rules.application_window(opens=None, closes=closes, on=date(2022, 6, 1)) == rules.WINDOW_UNSET


# --- a whole loan --------------------------------------------------------------------------


def test_loan_subsidies_stores_the_reference_rate_source_and_the_one_sum_check():
    paid = rules.interest_at_rate(principal=D("1000000"), days=351, rate_percent=D("4.35"))
    result = rules.loan_subsidies(loan=facts(interest_paid=paid), params=Params(), lpr_table=LPR)
    data = result[rules.INTEREST].as_dict()
    assert set(result) == {rules.INTEREST}
    assert data["reference_rate"]["rate"] == "3.70"
    assert data["check"]["days"] == 351
    assert D(data["base"]) == D(data["check"]["value"])
    assert data["formula"].startswith("贴息 = ")


def test_loan_subsidies_flags_interest_above_what_the_full_principal_could_cost():
    result = rules.loan_subsidies(loan=facts(interest_paid=D("90000")), params=Params(), lpr_table=LPR)
    assert "请核对银行报送的利息" in result[rules.INTEREST].flags[0]


def test_guaranteed_loan_gets_both_kinds():
    result = rules.loan_subsidies(loan=facts(mode="bank_guarantor"), params=Params(), lpr_table=LPR)
    assert set(result) == {rules.INTEREST, rules.GUARANTEE_FEE}
    assert result[rules.GUARANTEE_FEE].amount == D("7500.00")


money = st.decimals(min_value=D("0"), max_value=D("5000000"), places=2)
rate = st.decimals(min_value=D("0.50"), max_value=D("8.00"), places=2)


@settings(max_examples=300, deadline=None)
@given(
    principal=st.decimals(min_value=D("1000"), max_value=D("50000000"), places=2),
    contract=rate, interest=money, fee=money, other_interest=money, other_fee=money, already=money,
    days=st.integers(min_value=1, max_value=400), share=st.decimals(min_value=D("0"), max_value=D("100"), places=2),
    cap=st.decimals(min_value=D("0"), max_value=D("1000000"), places=2),
    basis=st.sampled_from([rules.LPR_AT_SETTLEMENT, rules.LPR_AT_SIGNING, rules.CONTRACT]),
    cap_basis=st.sampled_from([rules.PER_LOAN, rules.PER_ENTERPRISE_YEAR]),
    mode=st.sampled_from(["bank", "bank_guarantor"]),
    overdue=st.booleans(), compensated=st.booleans(), settled=st.booleans(),
)
def test_properties_of_every_subsidy(principal, contract, interest, fee, other_interest, other_fee, already, days,
                                     share, cap, basis, cap_basis, mode, overdue, compensated, settled):
    loan = facts(mode=mode, principal=principal, annual_rate=contract, interest_paid=interest, fee_paid=fee,
                 disbursed_on=date(2021, 6, 3), settled_on=date(2021, 6, 3) + timedelta(days=days),
                 matures_on=date(2021, 6, 3) + timedelta(days=days), ever_overdue=overdue, compensated=compensated,
                 settled=settled)
    params = Params(interest_subsidy_percent=share, interest_reference_rate=basis, interest_subsidy_cap=cap,
                    interest_subsidy_cap_basis=cap_basis, fee_subsidy_percent=share, fee_subsidy_cap=cap,
                    fee_subsidy_cap_basis=cap_basis)
    result = rules.loan_subsidies(loan=loan, params=params, lpr_table=LPR,
                                  already_received={rules.INTEREST: already, rules.GUARANTEE_FEE: already},
                                  other_subsidies={rules.INTEREST: other_interest, rules.GUARANTEE_FEE: other_fee})
    if overdue or compensated or not settled:
        assert result == {}  # zero for a loan ever overdue, compensated or not settled
        return
    for kind, calc in result.items():
        paid, other = (interest, other_interest) if kind == rules.INTEREST else (fee, other_fee)
        assert calc.amount >= 0
        assert calc.amount <= cap
        assert calc.amount <= paid  # never more than the cost paid
        assert calc.amount + other <= max(paid, other)  # R39: combined subsidies never push the cost below zero
        assert calc.amount == calc.amount.quantize(D("0.01"))
        if cap_basis == rules.PER_ENTERPRISE_YEAR:
            assert calc.amount <= max(D("0"), cap - already)
    assert (rules.GUARANTEE_FEE in result) == (mode == "bank_guarantor")
