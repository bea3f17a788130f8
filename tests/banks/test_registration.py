"""Loan registration intake (bank-workbooks.md §1, §3, §4): every rule, every cell quirk, all
errors at once, nothing stored from a batch with an error, idempotency (R16, same file)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from banks.models import BatchStatus
from fund.models import CooperationState, Loan, LoanMode, Partnership
from registry import roles
from registry.errors import BusinessError
from registry.models import DomainEvent, Enterprise
from registry.rules import make_uscc
from tests.banks.factories import (
    credit_code,
    guaranteed_row,
    make_world,
    registration_row,
    today,
    valid_rate,
)
from tests.banks.workbooks import csv_bytes, registration_workbook, xls_bytes
from tests.factories import EnterpriseFactory, LoanFactory, UserFactory

pytestmark = pytest.mark.django_db

REG = "registration"


def _issues(batch, *levels):
    levels = levels or ("error",)
    return sorted((i["row"], i["column"], i["rule"], i["level"]) for i in batch.issues if i["level"] in levels)


def test_clean_workbook_registers_every_loan_and_enterprise(upload, world):
    # given
    rows = [registration_row(), guaranteed_row(world.guarantor)]
    # when
    batch = upload(registration_workbook(rows))
    # then
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert batch.summary["loans_created"] == 2
    assert batch.rows_total == batch.rows_done == 2
    loan = Loan.objects.get(contract_no=rows[1]["contract_no"])
    assert loan.mode == LoanMode.BANK_GUARANTOR
    assert loan.guarantor == world.guarantor
    assert loan.guarantee_fee_rate == Decimal("1.20")
    assert loan.outstanding_principal == loan.principal == Decimal("1000000.00")
    assert loan.enterprise.size_class == "small"
    assert loan.enterprise.industry_id == "51"
    assert loan.source_batch == str(batch.pk)
    assert loan.registered_by == world.user
    events = DomainEvent.objects.filter(object_id=str(batch.pk)).values_list("event_type", flat=True)
    assert set(events) == {"intake.uploaded", "intake.applied"}


def test_every_rule_is_reported_on_its_row_and_column_all_at_once(upload, world):
    # given: one defect per rule, each on its own row (Excel rows 3…)
    other_bank_enterprise = EnterpriseFactory(credit_code=credit_code(), name="已登记的名称有限公司")
    LoanFactory(programme=world.programme, enterprise=other_bank_enterprise, principal=Decimal("9500000"),
                signed_on=today() - timedelta(days=20), disbursed_on=today() - timedelta(days=20))
    registered = LoanFactory(programme=world.programme, bank=world.bank, contract_no="HTEXISTING",
                             principal=Decimal("500000"))
    late = today() - timedelta(days=40)
    rows = [
        registration_row(),                                                           # 2 clean
        registration_row(credit_code="91510100MA61234560"),                          # 3 R6 check char
        registration_row(credit_code=make_uscc("92510100MA6123456")),                # 4 R6 个体工商户
        registration_row(region="北京市"),                                             # 5 R6 region
        registration_row(industry_code="J6621"),                                     # 6 R8 excluded
        registration_row(industry_code="C1311"),                                     # 7 R8 not service
        registration_row(employees=300, revenue_10k=10000),                          # 8 R7 medium
        registration_row(revenue_10k=None),                                          # 9 R7 unclassifiable
        registration_row(credit_attested="否"),                                       # 10 R9
        registration_row(annual_rate=float(valid_rate(today()) + Decimal("1"))),     # 11 R12
        registration_row(matures_on=today() + timedelta(days=400)),                  # 12 R13
        registration_row(purpose="借新还旧"),                                          # 13 R14
        registration_row(signed_on=late, disbursed_on=late, matures_on=late + timedelta(days=200)),  # 14 R15
        registration_row(mode="政银担"),                                               # 15 R21 missing x3
        guaranteed_row(world.guarantor, guarantor="不存在的担保公司"),                   # 16 R21 unknown
        registration_row(signed_on=today() - timedelta(days=1), disbursed_on=today() - timedelta(days=3)),  # 17
        registration_row(principal=0),                                               # 18 principal > 0
        registration_row(credit_code=other_bank_enterprise.credit_code,             # 19 R11 across banks
                         enterprise_name="已登记的名称有限公司", principal=1_000_000),
        registration_row(contract_no="HTEXISTING", principal=2_000_000),             # 20 R16 different
        registration_row(annual_rate="0.035"),                                       # 21 fraction refused
        registration_row(signed_on="2021-13-01"),                                    # 22 no such date
    ]
    # when
    batch = upload(registration_workbook(rows))
    # then
    assert batch.status == BatchStatus.REJECTED
    assert _issues(batch) == sorted([
        (3, "统一社会信用代码", "R6", "error"),
        (4, "统一社会信用代码", "R6", "error"),
        (5, "所在市(州)", "R6", "error"),
        (6, "行业代码", "R8", "error"),
        (7, "行业代码", "R8", "error"),
        (8, "从业人员(人)", "R7", "error"),
        (9, "从业人员(人)", "R7", "error"),
        (10, "信用承诺", "R9", "error"),
        (11, "年利率(%)", "R12", "error"),
        (12, "到期日期", "R13", "error"),
        (13, "贷款用途", "R14", "error"),
        (14, "放款日期", "R15", "error"),
        (15, "担保机构", "R21", "error"),
        (15, "担保合同编号", "R21", "error"),
        (15, "担保费率(%)", "R21", "error"),
        (16, "担保机构", "R21", "error"),
        (17, "放款日期", "", "error"),
        (18, "贷款金额(元)", "R11", "error"),
        (19, "贷款金额(元)", "R11", "error"),
        (20, "借款合同编号", "R16", "error"),
        (21, "年利率(%)", "", "error"),
        (22, "合同签订日期", "", "error"),
    ])
    messages = {i["row"]: i["message"] for i in batch.issues if i["level"] == "error"}
    assert "个体工商户" in messages[4]
    assert "中型" in messages[8]
    assert "无法划型" in messages[9]
    assert "借新还旧" in messages[13]
    assert "特批" in messages[14]
    assert "贷款金额(元)" in messages[20]
    assert "4.35" in messages[21] or "百分数" in messages[21]
    assert Loan.objects.count() == 2  # the two set up above: nothing from the batch
    assert registered.principal == Loan.objects.get(contract_no="HTEXISTING").principal


def test_cell_quirks_of_real_workbooks_are_normalised(upload, world):
    # given: text dates in four formats, separators, full-width digits, percent text, stray spaces,
    # columns in another order, a title row above the header, empty trailing rows
    d = today() - timedelta(days=3)
    formats = [f"{d:%Y-%m-%d}", f"{d.year}/{d.month}/{d.day}", f"{d.year}年{d.month}月{d.day}日", f"{d:%Y%m%d}"]
    code = credit_code()
    spaced = " ".join([code[:6], code[6:12], code[12:]])
    rows = [
        registration_row(signed_on=text, disbursed_on=text, principal="1,250,000.00",
                         annual_rate=f"{valid_rate(d)}%", region=" 成都 ", industry_code="ｆ ５１２３",
                         employees="１２", credit_code=spaced if i == 0 else credit_code())
        for i, text in enumerate(formats)
    ]
    names = list(reversed(list(rows[0])))
    # when
    batch = upload(registration_workbook(rows, headers=names, title_rows=[["贷款备案表（某某银行）"]],
                                         blank_rows_after=3))
    # then
    assert batch.status == BatchStatus.APPLIED, batch.issues
    loans = Loan.objects.order_by("contract_no")
    assert {loan.signed_on for loan in loans} == {d}
    assert {loan.principal for loan in loans} == {Decimal("1250000.00")}
    assert {loan.annual_rate for loan in loans} == {valid_rate(d)}
    assert Enterprise.objects.filter(credit_code=code, region_id="510100", industry_code="F5123",
                                     employees=12).exists()


def test_percent_formatted_rate_cell_is_read_as_percent(upload, world):
    rows = [registration_row(annual_rate=float(valid_rate(today())) / 100)]
    batch = upload(registration_workbook(rows, number_formats={"annual_rate": "0.00%"}))
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert Loan.objects.get().annual_rate == valid_rate(today())


def test_bare_fraction_in_rate_column_is_refused_never_guessed(upload, world):
    batch = upload(registration_workbook([registration_row(annual_rate=0.0325)]))
    assert batch.status == BatchStatus.REJECTED
    assert _issues(batch) == [(2, "年利率(%)", "", "error")]
    assert "百分数" in batch.issues[0]["message"]


def test_a_batch_with_one_bad_row_stores_nothing(upload, world):
    rows = [registration_row() for _ in range(5)] + [registration_row(region="火星")]
    enterprises = Enterprise.objects.count()
    batch = upload(registration_workbook(rows))
    assert batch.status == BatchStatus.REJECTED
    assert batch.error_count == 1
    assert Loan.objects.count() == 0
    assert Enterprise.objects.count() == enterprises
    assert DomainEvent.objects.filter(object_id=str(batch.pk), event_type="intake.rejected").exists()


def test_same_file_again_changes_nothing_and_points_at_the_first_batch(upload, world):
    data = registration_workbook([registration_row(), registration_row()])
    first = upload(data)
    second = upload(data)
    assert first.status == BatchStatus.APPLIED
    assert second.status == BatchStatus.DUPLICATE
    assert second.duplicate_of_id == first.pk
    assert Loan.objects.count() == 2
    assert "完全相同" in second.issues[0]["message"]


def test_same_contract_again_is_skipped_not_counted_twice_r16(upload, world):
    rows = [registration_row(), registration_row()]
    upload(registration_workbook(rows))
    again = upload(registration_workbook([rows[1], rows[0], registration_row()]))  # other bytes
    assert again.status == BatchStatus.APPLIED, again.issues
    assert again.summary["loans_created"] == 1
    assert again.summary["skipped"] == 2
    assert _issues(again, "info") == [(2, "借款合同编号", "R16", "info"), (3, "借款合同编号", "R16", "info")]
    assert "已备案，未重复计入" in again.issues[0]["message"]
    assert Loan.objects.count() == 3


def test_same_contract_twice_in_one_file_with_different_content_is_an_error_r16(upload, world):
    row = registration_row()
    batch = upload(registration_workbook([row, {**row, "principal": 2_000_000}]))
    assert _issues(batch) == [(3, "借款合同编号", "R16", "error")]


def test_enterprise_name_differing_from_earlier_records_is_a_warning(upload, world):
    enterprise = EnterpriseFactory(credit_code=credit_code(), name="原名称有限公司")
    batch = upload(registration_workbook([registration_row(credit_code=enterprise.credit_code,
                                                           enterprise_name="新名称有限公司", employees=20)]))
    assert batch.status == BatchStatus.APPLIED
    assert _issues(batch, "warning") == [(2, "企业名称", "R6", "warning")]
    enterprise.refresh_from_db()
    assert enterprise.name == "原名称有限公司"  # the register keeps its name; the loan keeps the row's
    assert enterprise.employees == 20  # size inputs are updated
    assert Loan.objects.get().enterprise_name == "新名称有限公司"


def test_annual_cap_counts_rows_of_the_same_batch_r11(upload, world):
    code = credit_code()
    rows = [registration_row(credit_code=code, enterprise_name="同一企业有限公司", principal=6_000_000)
            for _ in range(2)]
    batch = upload(registration_workbook(rows))
    assert _issues(batch) == [(3, "贷款金额(元)", "R11", "error")]


def test_suspended_bank_is_refused_with_the_reason_r17(upload, world):
    from fund.services import partnership_set_state

    partnership = Partnership.objects.get(bank=world.bank)
    partnership_set_state(partnership=partnership, state=CooperationState.SUSPENDED,
                          reason="逾期率 6.20% 超过 5%", rule="R31")
    batch = upload(registration_workbook([registration_row()]))
    assert batch.status == BatchStatus.REJECTED
    assert "逾期率 6.20%" in batch.issues[0]["message"]
    assert batch.issues[0]["rule"] == "R17"
    assert Loan.objects.count() == 0


def test_pool_below_its_floor_stops_registrations_r33(upload, world, monkeypatch):
    from fund.selectors import suspension

    monkeypatch.setattr(suspension, "programme_stops",
                        lambda **kw: [("R33", "资金池余额低于出资额的 10%")])
    batch = upload(registration_workbook([registration_row()]))
    assert batch.status == BatchStatus.REJECTED
    assert "R33" in batch.issues[0]["message"] or "资金池余额" in batch.issues[0]["message"]
    assert Loan.objects.count() == 0


def test_late_registration_needs_a_staff_override_reason_r15(upload, world):
    late = today() - timedelta(days=45)
    row = registration_row(signed_on=late, disbursed_on=late, matures_on=late + timedelta(days=300))
    with pytest.raises(BusinessError, match="R15"):
        upload(registration_workbook([row]), override_reason="银行自己说的理由")
    handler = UserFactory(username="handler_r15", role=roles.HANDLER)
    batch = upload(registration_workbook([row]), user=handler, override_reason="系统故障补录，经处长同意")
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert _issues(batch, "warning") == [(2, "放款日期", "R15", "warning")]
    assert Loan.objects.get().late_override_reason == "系统故障补录，经处长同意"


def test_guarantor_is_matched_by_short_name_or_code_and_must_be_active_r21(upload, world):
    ok = upload(registration_workbook([guaranteed_row(world.guarantor, guarantor=world.guarantor.short_name),
                                       guaranteed_row(world.guarantor, guarantor=world.guarantor.code)]))
    assert ok.status == BatchStatus.APPLIED, ok.issues
    world.guarantor.partnerships.update(state=CooperationState.SUSPENDED)
    refused = upload(registration_workbook([guaranteed_row(world.guarantor)]))
    assert _issues(refused) == [(2, "担保机构", "R32", "error")]


def test_guarantee_fields_in_bank_mode_are_an_error_r21(upload, world):
    batch = upload(registration_workbook([registration_row(guarantee_contract_no="DB1")]))
    assert _issues(batch) == [(2, "担保合同编号", "R21", "error")]


def test_individual_businesses_accepted_when_the_parameter_allows_r6(upload, world):
    world.programme.parameter_sets.update(accept_individual_business=True)
    batch = upload(registration_workbook([registration_row(credit_code=make_uscc("92510100MA6123456"))]))
    assert batch.status == BatchStatus.APPLIED, batch.issues


def test_medium_enterprises_accepted_when_the_parameter_allows_r7(upload, world):
    world.programme.parameter_sets.update(allow_medium=True)
    batch = upload(registration_workbook([registration_row(employees=300, revenue_10k=10000)]))
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert Enterprise.objects.get(credit_code=Loan.objects.get().enterprise.credit_code).size_class == "medium"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_or_gbk_is_accepted(upload, world, encoding):
    data = csv_bytes(REG, [registration_row(), registration_row()], encoding=encoding)
    batch = upload(data, filename="备案.csv")
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert Loan.objects.count() == 2


def test_legacy_xls_is_accepted(upload, world):
    batch = upload(xls_bytes(REG, [registration_row(), registration_row()]), filename="备案.xls")
    assert batch.file_format == "xls"
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert Loan.objects.count() == 2


def test_another_banks_contract_number_is_its_own_key(upload, world):
    row = registration_row()
    upload(registration_workbook([row]))
    other = make_world(code="OB", guarantor_code="OG")
    batch = upload(registration_workbook([{**row, "credit_code": credit_code()}]), bank=other.bank, user=other.user)
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert Loan.objects.filter(contract_no=row["contract_no"]).count() == 2


def test_a_bank_user_cannot_upload_for_another_bank(upload, world):
    other = make_world(code="XB", guarantor_code="XG")
    with pytest.raises(BusinessError, match="本行"):
        upload(registration_workbook([registration_row()]), bank=other.bank)
