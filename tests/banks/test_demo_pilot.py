"""The pilot's demo data reproduces the published figures (pilot-figures.md).

Every figure is computed here from the generated records, independently of the generator's
PILOT_TARGETS, with the definitions of the module docstring (R40).
"""

import time
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from banks.demo import foundation, pilot
from registry import rules

CUTOFF = date(2022, 5, 28)
LAST_MONTH = "2022-04"
TRANSPORT_DIVISIONS = {"53", "54", "55", "56", "57", "58", "59", "60"}
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@pytest.fixture(scope="module")
def data():
    return pilot.build()


def _borrowers(data):
    return {loan.uscc for loan in data.loans}


def _rows_by_loan(data):
    rows = defaultdict(list)
    for row in data.monthly_reports:
        rows[row.contract_no].append(row)
    return rows


def _pct(numerator, denominator) -> Decimal:
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _weighted_rate(pairs) -> Decimal:
    total = sum(p for p, _ in pairs)
    return (sum(p * r for p, r in pairs) / total).quantize(Decimal("0.01"), ROUND_HALF_UP)


# --------------------------------------------------------------------------- published figures


def test_372_enterprises_applied(data):
    applicants = {a.uscc for a in data.applications} | _borrowers(data)
    assert len(applicants) == 372
    assert applicants == {e.uscc for e in data.enterprises}
    assert all(a.applied_on < CUTOFF for a in data.applications)


def test_204_enterprises_got_a_loan(data):
    assert len(_borrowers(data)) == 204
    assert not _borrowers(data) & {a.uscc for a in data.applications}


def test_principal_lent_is_12_46_yi(data):
    assert sum(loan.principal for loan in data.loans) == Decimal("1246000000.00")
    assert all(loan.disbursed_on <= CUTOFF for loan in data.loans)


def test_14_regions_covered_among_them_chengdu_leshan_luzhou(data):
    regions = {data.enterprise(u).region_code for u in _borrowers(data)}
    assert len(regions) == 14
    assert {"510100", "511100", "510500"} <= regions


def test_applicants_without_a_loan_may_come_from_other_regions(data):
    """Counting applicants' regions instead of borrowers' would not give 14."""
    regions = {e.region_code for e in data.enterprises}
    assert len(regions) > 14


def test_12_industries_covered_as_gbt4754_divisions(data):
    divisions = {data.enterprise(u).industry_code[1:3] for u in _borrowers(data)}
    assert len(divisions) == 12
    assert divisions & {"51", "52"}
    assert "65" in divisions
    assert divisions & TRANSPORT_DIVISIONS


def test_191_private_borrowers_are_93_63_percent(data):
    borrowers = _borrowers(data)
    private = [u for u in borrowers if data.enterprise(u).is_private]
    assert len(private) == 191
    assert _pct(len(private), len(borrowers)) == Decimal("93.63")


def test_amount_weighted_contract_rate_is_4_35(data):
    assert _weighted_rate([(loan.principal, loan.rate) for loan in data.loans]) == Decimal("4.35")


@pytest.mark.parametrize("project_troubled_loans", [True, False])
def test_effective_rate_after_interest_subsidy_is_3_24(data, project_troubled_loans):
    """R35/R40: contract rate − 30 % × LPR at settlement (or at the cut-off for loans not yet settled)."""
    rows = _rows_by_loan(data)
    pairs = []
    for loan in data.loans:
        history = rows[loan.contract_no]
        ever_overdue = any(r.overdue_days or r.status == "核销" for r in history)
        settled = next((r.settled_on for r in history if r.status == "结清"), None)
        if ever_overdue and not project_troubled_loans:
            pairs.append((loan.principal, loan.rate))
            continue
        reference = rules.lpr_in_force(settled or CUTOFF)
        pairs.append((loan.principal, loan.rate - Decimal("0.3") * reference))
    assert _weighted_rate(pairs) == Decimal("3.24")


def test_every_settlement_falls_under_lpr_3_70(data):
    settled = [r.settled_on for r in data.monthly_reports if r.status == "结清"]
    assert settled
    assert all(rules.lpr_in_force(day) == Decimal("3.70") for day in settled)


# --------------------------------------------------------------------------- enterprises (R6–R10)


def _mod31_check(body: str) -> str:
    total = sum(USCC_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return USCC_CHARS[(31 - total % 31) % 31]


def test_every_credit_code_is_valid_and_registered_in_sichuan(data):
    codes = [e.uscc for e in data.enterprises]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert rules.validate_uscc(code) == code
        assert code[17] == _mod31_check(code[:17])
        assert code[:4] == "9151"


def test_enterprise_names_are_unique_companies(data):
    names = [e.name for e in data.enterprises]
    assert len(set(names)) == len(names)
    assert all(n.endswith(("有限公司", "有限责任公司")) for n in names)


def test_enterprises_are_small_or_micro_service_firms_of_the_province(data):
    for e in data.enterprises:
        assert rules.normalize_region(e.region_code) == e.region_code
        industry = rules.normalize_industry(e.industry_code)
        assert len(industry.class_code) == 4
        rules.check_service_industry(industry)
        size = rules.sme_size_class(
            industry=industry, employees=e.employees, revenue_10k=e.revenue_10k, assets_10k=e.assets_10k
        )
        assert size in {"small", "micro"}, e


# --------------------------------------------------------------------------- loan terms (R11–R16)


def test_loans_are_signed_before_the_lpr_cut_and_priced_within_the_cap(data):
    for loan in data.loans:
        assert date(2021, 6, 1) <= loan.signed_on <= date(2021, 12, 15)
        assert 0 <= (loan.disbursed_on - loan.signed_on).days <= 5
        assert loan.rate <= rules.rate_cap(loan.signed_on)


def test_every_term_is_at_most_12_months(data):
    for loan in data.loans:
        assert loan.disbursed_on < loan.matures_on <= pilot.add_months(loan.disbursed_on, 12)
        assert pilot.add_months(loan.disbursed_on, 6) <= loan.matures_on


def test_per_enterprise_annual_total_is_within_the_cap(data):
    totals = defaultdict(Decimal)
    for loan in data.loans:
        totals[loan.uscc, loan.signed_on.year] += loan.principal
    assert max(totals.values()) <= Decimal(10_000_000)


def test_principal_is_a_multiple_of_10000(data):
    assert all(loan.principal > 0 and loan.principal % 10_000 == 0 for loan in data.loans)


def test_registration_within_30_days_of_disbursement(data):
    assert all(0 < (loan.registered_on - loan.disbursed_on).days <= 30 for loan in data.loans)


def test_contract_numbers_are_unique_per_bank(data):
    keys = [(loan.bank_code, loan.contract_no) for loan in data.loans]
    assert len(set(keys)) == len(keys)
    assert all(no.startswith(f"FBD-{bank}-") for bank, no in keys)


def test_some_borrowers_have_two_loans_from_different_banks(data):
    banks = defaultdict(list)
    for loan in data.loans:
        banks[loan.uscc].append(loan.bank_code)
    twice = [b for b in banks.values() if len(b) > 1]
    assert twice
    assert all(len(set(b)) == len(b) for b in twice)


def test_banks_and_guarantors_are_the_programme_partners(data):
    assert set(data.bank_codes()) <= {code for code, *_ in foundation.BANKS}
    assert {code: name for code, name, _ in foundation.GUARANTORS} == pilot.GUARANTORS
    lent = defaultdict(Decimal)
    for loan in data.loans:
        lent[loan.bank_code] += loan.principal
    assert sum(lent[b] for b in ("B01", "B02", "B03", "B04", "B05", "B06")) > Decimal("0.75") * sum(lent.values())


def test_modes_are_about_70_30_with_guarantee_terms_only_in_bank_guarantor_mode(data):
    guaranteed = [loan for loan in data.loans if loan.mode == "bank_guarantor"]
    assert 0.2 <= len(guaranteed) / len(data.loans) <= 0.4
    for loan in data.loans:
        if loan.mode == "bank":
            assert loan.guarantor_code is None
            assert loan.guarantee_fee == 0
            continue
        assert loan.guarantor_code in {"G01", "G02"}
        assert loan.guarantee_contract_no
        assert Decimal("1.0") <= loan.guarantee_fee_rate <= Decimal("2.5")
        fee = loan.principal * loan.guarantee_fee_rate / 100 * loan.term_months / 12
        assert loan.guarantee_fee == fee.quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert any(loan.guarantee_fee_rate > 2 for loan in guaranteed)  # R36 review flag


# --------------------------------------------------------------------------- monthly status reports


def test_every_open_loan_is_reported_every_month_until_closed(data):
    rows = _rows_by_loan(data)
    for loan in data.loans:
        months = [r.month for r in rows[loan.contract_no]]
        assert months[0] == loan.disbursed_on.strftime("%Y-%m")
        assert len(set(months)) == len(months) == len(sorted(months))
        closed = rows[loan.contract_no][-1].status in {"结清", "核销"}
        assert closed or months[-1] == LAST_MONTH


def test_balances_never_rise_and_cumulative_interest_adds_up(data):
    for history in _rows_by_loan(data).values():
        balance, cumulative = None, Decimal(0)
        for row in history:
            assert balance is None or row.balance <= balance
            balance = row.balance
            cumulative += row.interest_paid
            assert row.cumulative_interest == cumulative


def test_loans_maturing_by_april_settle_at_maturity_never_overdue(data):
    rows = _rows_by_loan(data)
    for loan in data.loans:
        history = rows[loan.contract_no]
        if history[-1].status != "结清":
            assert loan.trouble or loan.matures_on > date(2022, 4, 30)
            continue
        assert history[-1].settled_on == loan.matures_on
        assert sum(r.principal_repaid for r in history) == loan.principal
        assert all(r.overdue_days == 0 and r.classification == "正常" for r in history)


def test_interest_is_the_contract_rate_on_the_balance_per_360_days(data):
    """R35's check: for a loan repaid in one sum, interest paid = principal × days × rate ÷ 360."""
    rows = _rows_by_loan(data)
    checked = 0
    for loan in data.loans:
        history = rows[loan.contract_no]
        if history[-1].status != "结清" or len(loan.repayments) != 1:
            continue
        days = (loan.matures_on - loan.disbursed_on).days
        expected = loan.principal * days * loan.rate / 100 / 360
        assert abs(history[-1].cumulative_interest - expected) <= Decimal("0.01") * len(history)
        checked += 1
    assert checked > 20


def test_claims_can_be_shown_in_both_modes(data):
    """R23: at least one loan of each mode more than 90 days overdue by 2022-03 with unpaid principal."""
    modes = {loan.contract_no: loan.mode for loan in data.loans}
    claimable = {
        modes[r.contract_no]
        for r in data.monthly_reports
        if r.month <= "2022-03" and r.overdue_days > 90 and r.balance > 0
        and r.classification in {"次级", "可疑"}
    }
    assert claimable == {"bank", "bank_guarantor"}


def test_a_few_loans_are_overdue_and_one_is_written_off(data):
    overdue = {r.contract_no for r in data.monthly_reports if r.overdue_days > 0}
    assert 4 <= len(overdue) <= 8
    written_off = [r for r in data.monthly_reports if r.status == "核销"]
    assert len(written_off) == 1
    assert written_off[0].contract_no in overdue


def test_every_bank_stays_within_the_5_percent_overdue_line(data):
    """R31: overdue principal ÷ outstanding principal ≤ 5 % for every bank in every month."""
    outstanding, overdue = defaultdict(Decimal), defaultdict(Decimal)
    for r in data.monthly_reports:
        outstanding[r.bank_code, r.month] += r.balance
        if r.overdue_days > 0:
            overdue[r.bank_code, r.month] += r.balance
    assert overdue
    for key, amount in overdue.items():
        assert amount <= Decimal("0.05") * outstanding[key], key


# --------------------------------------------------------------------------- workbook rows and build


REGISTRATION_HEADERS = [
    "借款合同编号", "统一社会信用代码", "企业名称", "所在市(州)", "行业代码", "从业人员(人)",
    "上年营业收入(万元)", "资产总额(万元)", "是否民营", "担保模式", "担保机构", "担保合同编号",
    "担保费率(%)", "合同签订日期", "放款日期", "到期日期", "贷款金额(元)", "年利率(%)", "贷款用途", "信用承诺",
]
STATUS_HEADERS = [
    "借款合同编号", "报告月份", "贷款余额(元)", "本月归还本金(元)", "本月支付利息(元)", "逾期天数",
    "五级分类", "贷款状态", "结清日期", "累计实付利息(元)", "累计实付担保费(元)",
]


def test_registration_rows_use_the_workbook_headers(data):
    rows = [row for bank in data.bank_codes() for row in data.registration_rows(bank)]
    assert len(rows) == len(data.loans)
    for row in rows:
        assert list(row) == REGISTRATION_HEADERS
        assert row["是否民营"] in {"是", "否"}
        assert row["信用承诺"] == "是"
        assert row["担保模式"] in {"政银", "政银担"}
        assert (row["担保机构"] is None) == (row["担保模式"] == "政银")
        assert isinstance(row["放款日期"], date)
        assert isinstance(row["贷款金额(元)"], Decimal)
    names = {row["担保机构"] for row in rows} - {None}
    assert names == {"四川省融资担保有限公司", "成都小企业融资担保有限责任公司"}


def test_status_rows_use_the_workbook_headers(data):
    rows = [row for bank in data.bank_codes() for m in data.months() for row in data.status_rows(bank, m)]
    assert len(rows) == len(data.monthly_reports)
    for row in rows:
        assert list(row) == STATUS_HEADERS
        assert isinstance(row["逾期天数"], int)
        assert isinstance(row["贷款余额(元)"], Decimal)
        assert row["五级分类"] in {"正常", "关注", "次级", "可疑", "损失"}
        assert row["贷款状态"] in {"正常", "逾期", "结清", "核销"}
        assert (row["结清日期"] is not None) == (row["贷款状态"] == "结清")
    assert data.months()[-1] == LAST_MONTH


def test_build_is_deterministic_and_fast():
    started = time.perf_counter()
    first = pilot.build()
    elapsed = time.perf_counter() - started
    assert first == pilot.build()
    assert pilot.build(seed=1) != first
    assert elapsed < 1


def test_applications_one_per_applicant_without_a_loan(data):
    applicants = [a.uscc for a in data.applications]
    assert len(applicants) == len(set(applicants)) == 168
    banks = {code for code, *_ in foundation.BANKS}
    for a in data.applications:
        assert a.amount > 0
        assert a.purpose
        assert a.bank_code in banks
        assert date(2021, 6, 1) <= a.applied_on < CUTOFF
