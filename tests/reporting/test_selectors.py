"""Every indicator and breakdown against the hand-computed small data set (tests/reporting/conftest.py)."""

from datetime import date
from decimal import Decimal

import pytest

from fund.selectors.ledger import pool_balance
from reporting.selectors import Filters, indicators
from tests.reporting.conftest import AS_OF

pytestmark = pytest.mark.django_db
D = Decimal


def _by_key(figures, dimension):
    return {r["key"]: r["metrics"] for r in figures.rows(dimension)}


def test_overall_counts_and_money_as_of_the_cut_off(small):
    o = indicators(programme=small.programme, as_of=AS_OF).overall()
    assert (o["applicants"], o["borrowers"], o["private_borrowers"], o["loans"]) == (4, 3, 2, 4)
    assert o["private_share"] == D("66.67")
    assert o["principal"] == D("5000000.00")
    assert o["outstanding_principal"] == D("4000000.00")


def test_overdue_and_non_performing_use_the_last_report_by_the_cut_off_month(small):
    o = indicators(programme=small.programme, as_of=AS_OF).overall()
    # L3 is 40 days overdue; L4 was still current in its March report (次级 only in May)
    assert o["overdue_principal"] == D("500000.00")
    assert o["overdue_rate"] == D("12.50")
    assert o["npl_principal"] == D("0.00")
    assert o["npl_rate"] == D("0.00")


def test_later_cut_off_sees_the_later_reports_and_later_loans(small):
    o = indicators(programme=small.programme, as_of=date(2022, 5, 31)).overall()
    assert o["loans"] == 5
    assert o["overdue_principal"] == D("2000000.00")  # L3 + L4
    assert o["npl_principal"] == D("1500000.00")  # L4 次级
    assert o["outstanding_principal"] == D("4900000.00")


def test_weighted_contract_rate(small):
    # (1.0 × 4.35 + 2.0 × 4.00 + 0.5 × 4.35 + 1.5 × 4.20) / 5.0 = 4.165 → 4.17
    assert indicators(programme=small.programme, as_of=AS_OF).overall()["avg_rate"] == D("4.17")


def test_effective_rate_subsidises_settled_and_projects_open_never_overdue_loans(small):
    # L1 3.24 (LPR 3.70 at settlement), L2 2.89 and L4 3.09 (projected at LPR 3.70 on the cut-off),
    # L3 4.35 (overdue: no subsidy): (3.24 + 5.78 + 2.175 + 4.635) / 5 = 3.166 → 3.17
    assert indicators(programme=small.programme, as_of=AS_OF).overall()["effective_rate"] == D("3.17")


def test_effective_rate_drops_the_projected_subsidy_of_a_loan_overdue_by_a_later_cut_off(small):
    # as of 2022-05-31: L4 has been overdue (April report) → 4.20; L5 projected 4.30 − 1.11 = 3.19
    # (3.24 + 5.78 + 2.175 + 6.30 + 0.9 × 3.19) / 5.9 = 20.366 / 5.9 = 3.4518… → 3.45
    assert indicators(programme=small.programme, as_of=date(2022, 5, 31)).overall()["effective_rate"] == D("3.45")


def test_claims_compensation_and_pool(small):
    o = indicators(programme=small.programme, as_of=AS_OF).overall()
    assert (o["claims_filed"], o["claims_paid"]) == (1, 1)
    assert o["claims_filed_amount"] == o["claims_paid_amount"] == D("300000.00")
    assert o["compensation_rate"] == D("6.00")  # 300,000 ÷ 5,000,000
    assert o["pool_balance"] == D("9700000.00") == pool_balance(programme=small.programme, as_of=AS_OF)


def test_claims_before_their_dates_are_not_counted(small):
    o = indicators(programme=small.programme, as_of=date(2022, 3, 12)).overall()
    assert (o["claims_filed"], o["claims_paid"]) == (1, 0)
    o = indicators(programme=small.programme, as_of=date(2022, 3, 5)).overall()
    assert (o["claims_filed"], o["claims_paid"]) == (0, 0)


def test_coverage_counts_borrowers_not_applicants(small):
    o = indicators(programme=small.programme, as_of=AS_OF).overall()
    # E4 (泸州, division 72) only applied
    assert (o["regions_covered"], o["industries_covered"], o["sections_covered"]) == (2, 2, 2)


def test_by_region(small):
    rows = _by_key(indicators(programme=small.programme, as_of=AS_OF), "region")
    assert rows["510100"]["applicants"] == 2
    assert rows["510100"]["borrowers"] == 2
    assert rows["510100"]["loans"] == 3
    assert rows["510100"]["principal"] == D("3500000.00")
    assert rows["511100"]["borrowers"] == 1
    assert rows["511100"]["private_borrowers"] == 0
    assert rows["511100"]["private_share"] == D("0.00")
    assert rows["510500"]["applicants"] == 1
    assert rows["510500"]["borrowers"] == 0


def test_by_industry_section_and_division(small):
    figures = indicators(programme=small.programme, as_of=AS_OF)
    divisions = _by_key(figures, "division")
    assert divisions["51"]["borrowers"] == 2
    assert divisions["51"]["principal"] == D("4500000.00")
    assert divisions["51"]["avg_rate"] == D("4.14")  # 18.65 / 4.5
    assert divisions["65"]["principal"] == D("500000.00")
    assert divisions["72"]["applicants"] == 1
    assert divisions["72"]["loans"] == 0
    sections = _by_key(figures, "section")
    assert sections["F"]["principal"] == D("4500000.00")
    assert sections["I"]["borrowers"] == 1
    assert {r["parent"] for r in figures.rows("division")} == {"F", "I", "L"}


def test_by_bank_with_leverage(small):
    rows = _by_key(indicators(programme=small.programme, as_of=AS_OF), "bank")
    assert rows["B1"]["borrowers"] == 3
    assert rows["B1"]["principal"] == D("3000000.00")
    assert rows["B1"]["leverage"] == D("1.00")  # 3,000,000 ÷ its pool allocation 3,000,000
    assert rows["B1"]["committed_lending"] == D("30000000.00")
    assert rows["B2"]["loans"] == 1
    assert rows["B2"]["leverage"] == D("1.00")
    assert rows["B1"]["applicants"] is None  # applicants have no bank


def test_by_mode_month_and_size(small):
    figures = indicators(programme=small.programme, as_of=AS_OF)
    modes = _by_key(figures, "mode")
    assert modes["bank"]["borrowers"] == 3
    assert modes["bank"]["principal"] == D("3000000.00")
    assert modes["bank_guarantor"]["borrowers"] == 1
    assert modes["bank_guarantor"]["avg_rate"] == D("4.00")
    months = _by_key(figures, "month")
    assert list(months) == ["2021-06", "2021-07", "2021-08", "2021-09"]
    assert months["2021-08"]["overdue_rate"] == D("100.00")
    sizes = _by_key(figures, "size")
    assert sizes["small"]["borrowers"] == 2
    assert sizes["small"]["applicants"] == 3
    assert sizes["micro"]["principal"] == D("500000.00")


def test_the_overall_row_is_the_sum_of_every_breakdown(small):
    figures = indicators(programme=small.programme, as_of=AS_OF)
    total = figures.overall()["principal"]
    for dimension in ("region", "section", "division", "bank", "mode", "month", "size"):
        assert sum(r["metrics"]["principal"] for r in figures.rows(dimension)) == total, dimension


def test_filters_restrict_every_figure(small):
    figures = indicators(programme=small.programme, as_of=AS_OF, filters=Filters(region="510100"))
    o = figures.overall()
    assert (o["borrowers"], o["loans"], o["applicants"]) == (2, 3, 2)
    assert o["principal"] == D("3500000.00")
    assert "leverage" not in o  # programme-wide figures are not filtered
    by_bank = indicators(programme=small.programme, as_of=AS_OF, filters=Filters(bank_id=small.b2.pk))
    assert by_bank.overall()["principal"] == D("2000000.00")
    assert by_bank.overall()["applicants"] is None


def test_applicants_agree_with_the_subsidies_definition(small):
    from reporting.selectors.stats import _applicant_ids
    from subsidies.selectors import applicant_enterprise_ids

    for day in (AS_OF, date(2022, 5, 31), date(2021, 5, 1)):
        ours = set(_applicant_ids(programme=small.programme, as_of=day).values_list("pk", flat=True))
        assert ours == applicant_enterprise_ids(programme=small.programme, as_of=day)


def test_leverage_equals_the_fund_selectors(small):
    """The snapshot adds up principal disbursed in its own scan (PostgreSQL) or asks
    ``disbursed_by_bank`` once; either way the figures are ``fund.selectors.leverage``'s."""
    from fund.models import Loan
    from fund.selectors.leverage import leverage_by_bank, leverage_overall

    Loan.objects.filter(pk=small.loans["L5"].pk).update(signed_on=date(2022, 3, 30))  # signed, not disbursed
    for filters in (Filters(), Filters(bank_id=small.b2.pk)):
        figures = indicators(programme=small.programme, as_of=AS_OF, filters=filters)
        banks = {r["key"]: r["metrics"] for r in figures.rows("bank")}
        for lev in leverage_by_bank(programme=small.programme, as_of=AS_OF):
            if lev.bank.code in banks:
                assert banks[lev.bank.code]["leverage_disbursed"] == lev.figures.disbursed
                assert banks[lev.bank.code]["leverage"] == lev.figures.multiple
                assert banks[lev.bank.code]["leverage_shortfall"] == lev.figures.shortfall
        if filters.is_empty:
            overall = leverage_overall(programme=small.programme, as_of=AS_OF)
            assert figures.overall()["leverage_disbursed"] == overall.disbursed
            assert figures.overall()["leverage"] == overall.multiple
            assert figures.overall()["leverage_expected"] == overall.expected_to_date
