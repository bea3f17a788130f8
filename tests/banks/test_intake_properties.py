"""Properties of the intake: k bad cells anywhere → exactly those k cells reported; the fast paths
(credit code, size class, cell parsers) agree with ``registry.rules``; the sheet scan finds
formulas and error values wherever the stream is cut."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banks.intake import cells, reader
from banks.intake.context import IntakeContext
from banks.intake.fields import REGISTRATION_FIELDS
from banks.intake.registration import uscc_is_valid
from banks.models import BatchStatus
from fund.models import Loan
from registry import rules
from tests.banks.factories import registration_row
from tests.banks.workbooks import registration_workbook

HEADERS = {f.name: f.header for f in REGISTRATION_FIELDS}


def _wrong_check_char(code: str) -> str:
    last = code[-1]
    return code[:-1] + next(c for c in "0123456789ABC" if c != last)


# A value per column that is wrong on its own, whatever else is wrong in the row.
BAD = {
    "contract_no": lambda row: "",
    "credit_code": lambda row: _wrong_check_char(row["credit_code"]),
    "enterprise_name": lambda row: "",
    "region": lambda row: "火星市",
    "industry_code": lambda row: "J6621",
    "employees": lambda row: -5,
    "revenue_10k": lambda row: "很多",
    "assets_10k": lambda row: "很多",
    "is_private": lambda row: "可能",
    "mode": lambda row: "政府",
    "signed_on": lambda row: "2021-02-30",
    "disbursed_on": lambda row: "上周",
    "matures_on": lambda row: "明年",
    "principal": lambda row: "一百万",
    "annual_rate": lambda row: 0.0325,
    "purpose": lambda row: "炒股票",
    "credit_attested": lambda row: "否",
}
ROWS = 6


@pytest.fixture
def base_rows(world):
    return [registration_row() for _ in range(ROWS)]


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells_to_break=st.sets(st.tuples(st.integers(0, ROWS - 1), st.sampled_from(sorted(BAD))), min_size=1,
                              max_size=8))
def test_k_broken_cells_are_exactly_the_k_cells_reported(upload, base_rows, cells_to_break):
    # given: a valid workbook with k cells made invalid
    rows = [dict(r) for r in base_rows]
    for index, name in cells_to_break:
        rows[index][name] = BAD[name](base_rows[index])
    # when
    batch = upload(registration_workbook(rows))
    # then
    reported = {(i["row"], i["column"]) for i in batch.issues if i["level"] == "error"}
    assert reported == {(index + 2, HEADERS[name]) for index, name in cells_to_break}
    assert batch.status == BatchStatus.REJECTED
    assert not Loan.objects.exists()


USCC_CHARS = st.sampled_from(rules.USCC_CHARSET)


@given(body=st.text(alphabet=rules.USCC_CHARSET, min_size=16, max_size=16), individual=st.booleans(),
       prefix=st.sampled_from(["91", "92", "93", "11", "Y1"]), corrupt=st.booleans(), last=USCC_CHARS)
def test_fast_credit_code_check_agrees_with_validate_uscc(body, individual, prefix, corrupt, last):
    code = rules.make_uscc(prefix + body[:15])
    if corrupt:
        code = code[:-1] + last
    try:
        expected = rules.validate_uscc(code, accept_individual_business=individual) == code
    except rules.RuleError:
        expected = False
    assert uscc_is_valid(code, accept_individual_business=individual) == expected


INDUSTRIES = ["F5123", "F5211", "H6210", "I6510", "L7212", "M7320", "O8011", "G5438", "K7040", "N7721", "R8710",
              "P8310", "Q8421", "G5910", "E4700", "K7010", "I6420", "F51", "H61"]
FIGURE = st.one_of(st.none(), st.decimals(min_value=0, max_value=200_000, places=2))


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.sampled_from(INDUSTRIES), employees=st.one_of(st.none(), st.integers(0, 5000)),
       revenue=FIGURE, assets=FIGURE)
def test_cached_size_class_agrees_with_sme_size_class(world, code, employees, revenue, assets):
    ctx = IntakeContext(programme=world.programme, bank=world.bank, today=timezone.localdate())
    industry = rules.normalize_industry(code)

    def outcome(fn):
        try:
            return fn()
        except rules.RuleError as exc:
            return exc.code

    ours = outcome(lambda: ctx.size_class(industry, employees, revenue, assets))
    theirs = outcome(lambda: rules.sme_size_class(industry=industry, employees=employees, revenue_10k=revenue,
                                                  assets_10k=assets, thresholds=ctx.thresholds))
    assert ours == theirs


@given(value=st.floats(min_value=0, max_value=1e13, allow_nan=False))
def test_fast_amount_parser_agrees_with_parse_money(value):
    assert cells.parse_amount(value) == rules.parse_money(value)


@given(value=st.floats(min_value=1, max_value=99.99, allow_nan=False))
def test_fast_rate_parser_agrees_with_parse_rate_percent(value):
    assert cells.parse_rate(value) == rules.parse_rate_percent(value)


def test_parsers_accept_the_formats_of_spec_section_3():
    assert cells.parse_amount("１，２３４，５６７.８９") == Decimal("1234567.89")
    assert cells.parse_amount("¥1,000元") == Decimal("1000.00")
    assert cells.parse_code(" ９１５１ ０１００\u3000ma ") == "91510100MA"
    assert cells.parse_code(12345.0) == "12345"
    assert cells.parse_month("2021年6月") == date(2021, 6, 1)
    assert cells.parse_month(date(2021, 6, 30)) == date(2021, 6, 1)
    assert cells.parse_rate("4.35%") == Decimal("4.35")
    assert cells.parse_rate(0.0435, percent_cell=True) == Decimal("4.35")
    assert cells.parse_fee_rate(0.8) == Decimal("0.8")
    assert cells.parse_bool("Y") is True
    with pytest.raises(rules.RuleError):
        cells.parse_rate(0.0435)
    with pytest.raises(rules.RuleError):
        cells.parse_fee_rate(0.015)
    with pytest.raises(rules.RuleError):
        cells.parse_amount(-1.0)


def _sheet(cells_xml: str) -> bytes:
    return (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{cells_xml}</sheetData></worksheet>"
    ).encode()


@pytest.mark.parametrize("chunk", [7, 16, 64, 1 << 20])
def test_sheet_scan_finds_formulas_and_errors_wherever_the_stream_is_cut(monkeypatch, chunk):
    monkeypatch.setattr(reader, "_CHUNK", chunk)
    filler = "".join(f'<row r="{r}"><c r="A{r}" t="n"><v>{r}</v></c></row>' for r in range(2, 40))
    xml = _sheet(
        '<row r="1"><c r="B1"><f>1/0</f><v /></c><c r="C1"><f>A1</f><v>3</v></c></row>' + filler
        + '<row r="40"><c r="D40" t="e"><v>#REF!</v></c><c r="E40" s="1" t="n"><v>0.0435</v></c>'
        + '<c r="F40"><f t="shared" si="0"/></c></row>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(buffer) as z:
        found = reader.scan_sheet_xml(z, "xl/worksheets/sheet1.xml", frozenset({1}))
    assert found == {
        (0, 1): reader.FORMULA_MISSING,
        (39, 3): reader.ERROR_PREFIX + "#REF!",
        (39, 4): reader.PERCENT,
        (39, 5): reader.FORMULA_MISSING,
    }
