"""Pure rules of the ledger (R2, R3), leverage (R4) and suspension (R31–R33, R32)."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fund.rules import (
    bank_suspension_reasons,
    cooperation_decision,
    guarantor_suspension_reasons,
    leverage_figures,
    lines_balanced,
    lowest_balance_from,
    pool_payable,
    programme_stop_reasons,
    rate_percent,
    straight_line_expected,
)

D = Decimal
amounts = st.decimals(min_value=D("0.01"), max_value=D("100000000"), places=2)


def params(**overrides):
    values = {
        "bank_overdue_suspend_percent": D("5"), "programme_overdue_stop_enabled": False,
        "programme_overdue_stop_percent": D("3"), "guarantor_suspend_enabled": False,
        "guarantor_compensation_suspend_percent": D("5"), "pool_floor_percent": D("10"),
    }
    return SimpleNamespace(**{**values, **overrides})


# --- R2, R3 ------------------------------------------------------------------------------


def test_lines_balance_only_when_debits_equal_credits():
    assert lines_balanced([("D", D("10.00")), ("C", D("4.00")), ("C", D("6.00"))])
    assert not lines_balanced([("D", D("10.00")), ("C", D("9.99"))])
    assert not lines_balanced([])
    assert not lines_balanced([("X", D("1")), ("C", D("1"))])


@given(requested=amounts, available=st.decimals(min_value=D("-1000"), max_value=D("100000000"), places=2))
def test_pool_pays_at_most_its_balance_and_never_below_zero_r3(requested, available):
    paid, unpaid = pool_payable(requested=requested, available=available)
    assert paid + unpaid == requested
    assert D("0") <= paid <= max(available, D("0"))
    assert paid == min(requested, max(available, D("0")))


def test_pool_payable_example_r3():
    assert pool_payable(requested=D("600000.00"), available=D("250000.00")) == (D("250000.00"), D("350000.00"))


@given(opening=amounts, changes=st.lists(st.decimals(min_value=D("-500"), max_value=D("500"), places=2)))
def test_lowest_balance_is_the_minimum_running_balance(opening, changes):
    running, lows = opening, [opening]
    for change in changes:
        running += change
        lows.append(running)
    assert lowest_balance_from(opening=opening, changes=changes) == min(lows)


# --- R4 ----------------------------------------------------------------------------------


def test_straight_line_path_is_proportional_to_elapsed_days_r4():
    start, end = date(2021, 1, 1), date(2021, 12, 31)  # 364 days
    assert straight_line_expected(target=D("364000"), start=start, end=end, as_of=date(2020, 12, 1)) == D("0.00")
    assert straight_line_expected(target=D("364000"), start=start, end=end, as_of=date(2021, 1, 31)) == D("30000.00")
    assert straight_line_expected(target=D("364000"), start=start, end=end, as_of=date(2023, 1, 1)) == D("364000.00")


def test_overall_leverage_worked_example_r4():
    # 150,000,000 treasury × 10 = 1,500,000,000 target over 364 days; half-way, 600,000,000 disbursed
    figures = leverage_figures(
        disbursed=D("600000000"), base=D("150000000"), target_amount=D("1500000000"),
        start=date(2021, 1, 1), end=date(2021, 12, 31), as_of=date(2021, 7, 2),
    )
    assert figures.multiple == D("4.00")
    assert figures.target_multiple == D("10.00")
    assert figures.expected_to_date == D("750000000.00")
    assert figures.shortfall == D("150000000.00")
    assert figures.progress_percent == D("40.00")
    assert not figures.on_track


def test_bank_leverage_is_disbursed_over_its_pool_allocation_r4():
    figures = leverage_figures(
        disbursed=D("87000000"), base=D("29032258.06"), target_amount=D("300000000"),
        start=date(2021, 5, 28), end=date(2022, 5, 27), as_of=date(2021, 8, 1),
    )
    assert figures.multiple == D("3.00")
    assert figures.target_multiple == D("10.33")
    assert figures.on_track  # expected 300,000,000 × 65/364 = 53,571,428.57 < 87,000,000
    assert figures.shortfall == D("0.00")


# --- R31–R33, R32 ------------------------------------------------------------------------


def test_rate_percent_rounds_to_two_decimals_and_is_zero_without_outstanding():
    assert rate_percent(D("501"), D("10000")) == D("5.01")
    assert rate_percent(D("500"), D("10000")) == D("5.00")
    assert rate_percent(D("1"), D("0")) == D("0.00")


def test_bank_above_five_percent_overdue_is_suspended_r31():
    assert bank_suspension_reasons(params=params(), overdue_rate=D("5.01"))[0][0] == "R31"
    assert bank_suspension_reasons(params=params(), overdue_rate=D("5.00")) == []


def test_pool_below_floor_stops_registrations_r33():
    reasons = programme_stop_reasons(params=params(), programme_overdue_rate=D("0"), pool_balance=D("99.99"),
                                     contributed_capital=D("1000.00"))
    assert [r for r, _ in reasons] == ["R33"]
    assert programme_stop_reasons(params=params(), programme_overdue_rate=D("0"), pool_balance=D("100.00"),
                                  contributed_capital=D("1000.00")) == []


def test_programme_wide_overdue_stop_applies_only_when_enabled_r32():
    kwargs = {"programme_overdue_rate": D("3.00"), "pool_balance": D("1000"), "contributed_capital": D("1000")}
    assert programme_stop_reasons(params=params(), **kwargs) == []
    reasons = programme_stop_reasons(params=params(programme_overdue_stop_enabled=True), **kwargs)
    assert [r for r, _ in reasons] == ["R32"]


def test_guarantor_compensation_rate_rule_is_optional_r32():
    assert guarantor_suspension_reasons(params=params(), compensation_rate=D("9")) == []
    assert guarantor_suspension_reasons(params=params(guarantor_suspend_enabled=True), compensation_rate=D("5.01"))
    assert not guarantor_suspension_reasons(params=params(guarantor_suspend_enabled=True), compensation_rate=D("5"))


@pytest.mark.parametrize(
    ("state", "suspended_by", "reasons", "action"),
    [
        ("active", "", [("R31", "x")], "suspend"),
        ("active", "", [], "keep"),
        ("suspended", "R31", [], "reactivate"),
        ("suspended", "R33", [], "reactivate"),
        ("suspended", "", [], "keep"),  # suspended by staff: never lifted automatically
        ("suspended", "R31", [("R33", "x")], "keep"),
        ("ended", "", [("R31", "x")], "keep"),
        ("ended", "R31", [], "keep"),
    ],
)
def test_cooperation_decision_table_r5(state, suspended_by, reasons, action):
    assert cooperation_decision(state=state, suspended_by_rule=suspended_by, reasons=reasons).action == action


def test_suspension_decision_names_the_first_rule_and_all_reasons():
    decision = cooperation_decision(state="active", suspended_by_rule="",
                                    reasons=[("R31", "逾期率 6.00%"), ("R33", "资金池不足")])
    assert decision.rule == "R31"
    assert "逾期率 6.00%" in decision.reason
    assert "资金池不足" in decision.reason
