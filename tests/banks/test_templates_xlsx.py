"""The downloadable templates (bank-workbooks.md: "The system serves each workbook as a template").

Headers come from banks.intake.fields — the definitions the validator reads — so a template and
the validator cannot disagree.
"""

import io

import pytest
from openpyxl import load_workbook

from banks import xlsx
from banks.intake import fields as F
from registry.models import Region
from tests.factories import GuarantorPartnershipFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db


def _load(content: bytes):
    return load_workbook(io.BytesIO(content))


@pytest.fixture
def partner_guarantor():
    programme = ProgrammeFactory(code="FBD")
    return GuarantorPartnershipFactory(programme=programme, guarantor__name="四川省融资担保有限公司").guarantor


@pytest.mark.parametrize("kind", F.KINDS)
def test_template_headers_equal_the_validators_fields_in_order(kind):
    wb = _load(xlsx.template_workbook(kind=kind))

    ws = wb[F.SHEET_NAMES[kind]]
    headers = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]

    assert headers == [f.header for f in F.fields_for(kind)]
    assert wb.sheetnames[0] == F.SHEET_NAMES[kind]
    assert ws.max_row == 1  # no example rows that would be imported as data


@pytest.mark.parametrize("kind", F.KINDS)
def test_template_carries_its_kind_and_version_in_the_file_properties(kind):
    wb = _load(xlsx.template_workbook(kind=kind))

    assert wb.properties.keywords == f"fundpool-template:{kind}:{F.TEMPLATE_VERSION}"
    assert wb.properties.version == F.TEMPLATE_VERSION
    assert xlsx.KIND_TITLES[kind] in wb.properties.title


@pytest.mark.parametrize("kind", F.KINDS)
def test_template_freezes_the_header_and_formats_date_and_code_columns(kind):
    wb = _load(xlsx.template_workbook(kind=kind))
    ws = wb[F.SHEET_NAMES[kind]]

    assert ws.freeze_panes == "A2"
    for column, field in enumerate(F.fields_for(kind), start=1):
        dim = ws.column_dimensions[ws.cell(row=1, column=column).column_letter]
        assert dim.width >= 10
        if field.type == F.DATE:
            assert dim.number_format == "yyyy-mm-dd"
        if field.type in (F.CODE, F.MONTH):
            assert dim.number_format == "@"


def test_lookup_sheet_is_hidden_and_holds_every_dropdown_list(partner_guarantor):
    wb = _load(xlsx.template_workbook(kind=F.REGISTRATION))

    lookup = wb[F.LOOKUP_SHEET]
    assert lookup.sheet_state == "hidden"
    columns = {col[0].value: [c.value for c in col[1:] if c.value is not None] for col in lookup.iter_cols()}
    assert columns["所在市(州)"] == list(Region.objects.order_by("code").values_list("name", flat=True))
    assert len(columns["所在市(州)"]) == 21
    assert columns["担保模式"] == ["政银", "政银担"]
    assert columns["五级分类"] == ["正常", "关注", "次级", "可疑", "损失"]
    assert columns["贷款状态"] == ["正常", "逾期", "结清", "核销"]
    assert columns["是/否"] == ["是", "否"]
    assert columns["合作担保机构"] == [partner_guarantor.name]
    industries = columns["行业大类代码"]
    assert "F51" in industries
    assert "I65" in industries
    # R8: not a service industry, or excluded by the programme (J finance, S, T, and K70 contains 7010)
    assert not {"C13", "J66", "S94", "T97", "K70"} & set(industries)
    assert len(columns["行业大类代码名称"]) == len(industries)


def test_dropdowns_point_at_the_lookup_sheet_for_every_list_column(partner_guarantor):
    wb = _load(xlsx.template_workbook(kind=F.REGISTRATION))
    ws = wb[F.SHEET_NAMES[F.REGISTRATION]]
    header_letter = {c.value: c.column_letter for c in ws[1]}

    validations = {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv for dv in ws.data_validations.dataValidation}

    for header in ("所在市(州)", "行业代码", "是否民营", "担保模式", "担保机构", "信用承诺"):
        dv = validations[header_letter[header]]
        assert dv.type == "list"
        assert F.LOOKUP_SHEET in dv.formula1
    assert validations[header_letter["担保模式"]].errorStyle == "stop"
    assert header_letter["借款合同编号"] not in validations


def test_status_template_offers_classification_and_status_dropdowns():
    wb = _load(xlsx.template_workbook(kind=F.STATUS))
    ws = wb[F.SHEET_NAMES[F.STATUS]]
    header_letter = {c.value: c.column_letter for c in ws[1]}
    covered = {str(dv.sqref).split(":")[0].rstrip("0123456789") for dv in ws.data_validations.dataValidation}

    assert {header_letter["五级分类"], header_letter["贷款状态"]} <= covered


@pytest.mark.parametrize("kind", F.KINDS)
def test_notes_sheet_is_the_data_dictionary_of_the_fields(kind):
    wb = _load(xlsx.template_workbook(kind=kind))
    ws = wb[F.NOTES_SHEET]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    title_row = next(i for i, r in enumerate(rows) if r[0] == "列名")

    assert rows[title_row][:7] == ["列名", "含义与填写要求", "类型", "是否必填", "可选值", "规则", "示例"]
    dictionary = rows[title_row + 1: title_row + 1 + len(F.fields_for(kind))]
    expected = F.data_dictionary(kind)
    assert [r[0] for r in dictionary] == [d["header"] for d in expected]
    assert [r[3] for r in dictionary] == [d["required"] for d in expected]
    assert [r[5] or "" for r in dictionary] == [d["rule"] for d in expected]


def test_rows_workbook_fills_the_template_by_header():
    from datetime import date
    from decimal import Decimal

    content = xlsx.rows_workbook(kind=F.STATUS, rows=[{
        "借款合同编号": "HT-1", "报告月份": "2021-06", "贷款余额(元)": Decimal("1000000.00"), "逾期天数": 0,
        "五级分类": "正常", "贷款状态": "正常", "结清日期": None, "累计实付利息(元)": Decimal("1234.56"),
        "本月支付利息(元)": Decimal("1234.56"), "其他": "ignored", "合同签订日期": date(2021, 6, 1),
    }])
    ws = _load(content)[F.SHEET_NAMES[F.STATUS]]
    values = {ws.cell(row=1, column=c).value: ws.cell(row=2, column=c).value for c in range(1, ws.max_column + 1)}

    assert values["借款合同编号"] == "HT-1"
    assert values["报告月份"] == "2021-06"
    assert values["贷款余额(元)"] == 1000000
    assert values["累计实付利息(元)"] == pytest.approx(1234.56)
    assert values["结清日期"] is None


@pytest.mark.parametrize("kind", F.KINDS)
def test_template_download_serves_the_xlsx_to_a_bank_user(client, kind):
    from tests.factories import BankFactory, UserFactory

    user = UserFactory(bank=BankFactory())
    client.force_login(user)

    response = client.get(f"/bank/templates/{kind}.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == xlsx.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    assert _load(response.content).properties.keywords.startswith(f"fundpool-template:{kind}:")


def test_template_download_of_an_unknown_kind_is_404(client):
    from tests.factories import BankFactory, UserFactory

    client.force_login(UserFactory(bank=BankFactory()))

    assert client.get("/bank/templates/claims.xlsx").status_code == 404
