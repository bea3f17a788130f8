"""Tests for registry.rules: pure rule helpers (R6, R7, R8, R12 and the cell parsers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from registry import rules
from registry.rules import (
    SIZE_LABELS,
    USCC_CHARSET,
    IndustryCode,
    RuleError,
    check_service_industry,
    is_service_industry,
    lpr_in_force,
    make_uscc,
    normalize_industry,
    normalize_region,
    normalize_text,
    parse_date,
    parse_money,
    parse_rate_percent,
    rate_cap,
    sme_size_class,
    sme_size_group,
    uscc_check_char,
    validate_uscc,
)

uscc_chars = st.sampled_from(USCC_CHARSET)
uscc_bodies = st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17)
enterprise_bodies = st.text(alphabet=USCC_CHARSET, min_size=15, max_size=15).map(lambda s: "91" + s)


@contextmanager
def raises_rule(code: str, *fragments: str) -> Iterator[None]:
    """Expect a RuleError with this code whose Chinese message contains every fragment."""
    with pytest.raises(RuleError) as info:
        yield
    error = info.value
    assert error.code == code, f"{error.code}: {error.message}"
    assert str(error) == error.message
    for fragment in fragments:
        assert fragment in error.message, f"{fragment!r} not in {error.message!r}"


# --------------------------------------------------------------------------- RuleError / text


def test_rule_error_is_value_error_with_code_and_chinese_message():
    error = RuleError("uscc_check", "统一社会信用代码校验位错误：应为 3，实际为 4")
    assert isinstance(error, ValueError)
    assert error.code == "uscc_check"
    assert str(error) == error.message == "统一社会信用代码校验位错误：应为 3，实际为 4"


def test_normalize_text_strips_ideographic_space_and_folds_full_width():
    assert normalize_text("\u3000９１ ａｂ\tc\n") == "91ABC"


@settings(max_examples=2000)
@given(st.text())
def test_normalize_text_is_idempotent_and_has_no_whitespace(value):
    once = normalize_text(value)
    assert normalize_text(once) == once
    assert not any(ch.isspace() for ch in once)


# --------------------------------------------------------------------------- USCC (R6)


def test_uscc_weights_are_powers_of_three_mod_31():
    assert rules.USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91130600738737199K"])
def test_uscc_accepts_reference_vectors(code):
    assert validate_uscc(code) == code


def test_uscc_rejects_wrong_check_character_naming_expected_and_actual():
    with raises_rule("uscc_check", "校验位", "应为 3", "实际为 4"):
        validate_uscc("91350100M000100Y44")


def test_uscc_rejects_17_characters_as_length_error():
    with raises_rule("uscc_length", "18 位", "17 位"):
        validate_uscc("91350100M000100Y4")


def test_uscc_rejects_letter_o_with_position():
    with raises_rule("uscc_char", "第 14 位", "“O”", "I、O、S、V、Z"):
        validate_uscc("91350100M0001O0Y43")


def test_uscc_normalizes_spaces_full_width_and_lower_case():
    assert validate_uscc(" ９１３５０１００ｍ０００１００ｙ４３\u3000") == "91350100M000100Y43"
    assert validate_uscc("9113 0600 7387 3719 9k") == "91130600738737199K"


def test_uscc_rejects_empty_value():
    with raises_rule("uscc_empty", "未填写"):
        validate_uscc("  ")


def test_uscc_requires_market_regulation_authority_9():
    code = make_uscc("51510100MJ0000001")
    with raises_rule("uscc_authority", "第 1 位", "应为 9", "实际为 5", "R6"):
        validate_uscc(code)


def test_uscc_requires_enterprise_type_1_not_cooperative():
    code = make_uscc("93510100MA6000001")
    with raises_rule("uscc_org_type", "第 2 位", "应为 1", "实际为 3"):
        validate_uscc(code)


def test_uscc_refuses_individual_business_by_default():
    code = make_uscc("92510100MA6000001")
    with raises_rule("uscc_org_type", "实际为 2", "个体工商户"):
        validate_uscc(code)


def test_uscc_accepts_individual_business_when_parameter_allows():
    code = make_uscc("92510100MA6000001")
    assert validate_uscc(code, accept_individual_business=True) == code


def test_uscc_check_char_needs_17_valid_characters():
    with raises_rule("uscc_length", "17 位", "16 位"):
        uscc_check_char("91350100M000100Y")
    with raises_rule("uscc_char", "第 9 位", "“I”", "是否应为 1"):
        uscc_check_char("91350100I000100Y4")


@given(uscc_bodies)
def test_uscc_check_char_agrees_with_python_stdnum(body):
    assert uscc_check_char(body) == stdnum_uscc.calc_check_digit(body)


@given(enterprise_bodies)
def test_uscc_make_uscc_always_validates(body):
    code = make_uscc(body)
    assert len(code) == 18
    assert code.startswith(body)
    assert validate_uscc(code) == code


@given(enterprise_bodies, st.integers(min_value=0, max_value=17), uscc_chars)
def test_uscc_detects_every_single_character_substitution(body, position, replacement):
    code = make_uscc(body)
    assume(code[position] != replacement)
    changed = code[:position] + replacement + code[position + 1 :]
    with raises_rule("uscc_check", "校验位错误"):
        validate_uscc(changed)


# --------------------------------------------------------------------------- regions (R6)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("510100", "510100"),
        (510100, "510100"),
        (510100.0, "510100"),
        ("５１０１００", "510100"),
        ("510104", "510100"),  # 锦江区 → 成都市
        (511702, "511700"),  # 通川区 → 达州市
        ("成都市", "510100"),
        ("成都", "510100"),
        (" 成 都 市 ", "510100"),
        ("四川省成都市", "510100"),
        ("攀枝花", "510400"),
        ("阿坝藏族羌族自治州", "513200"),
        ("阿坝", "513200"),
        ("阿坝州", "513200"),
        ("甘孜州", "513300"),
        ("凉山彝族自治州", "513400"),
    ],
)
def test_region_accepts_code_county_full_and_short_names(value, code):
    assert normalize_region(value) == code


@pytest.mark.parametrize("value", ["510200", "512100", "500100", "北京市", "成", "", None, 5101])
def test_region_rejects_places_outside_the_21_prefectures(value):
    with raises_rule("region_unknown", f"“{value}”", "21 个市(州)", "510100 或 成都市"):
        normalize_region(value)


def test_region_table_has_21_prefectures_and_every_one_round_trips():
    table = rules.region_table()
    assert len(table) == 21
    for region in table:
        assert normalize_region(region.code) == region.code
        assert normalize_region(region.name) == region.code


def test_region_uses_table_passed_by_caller():
    table = [("510100", "成都市", "市")]
    assert normalize_region("成都", table=table) == "510100"
    with raises_rule("region_unknown", "1 个市(州)"):
        normalize_region("绵阳市", table=table)


# --------------------------------------------------------------------------- industries (R8)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("F5123", "F5123"),
        ("5123", "F5123"),
        (5123, "F5123"),
        (5123.0, "F5123"),
        ("f 5123", "F5123"),
        ("Ｆ５１２３", "F5123"),
        ("I65", "I65"),
        ("65", "I65"),
        (65.0, "I65"),
        ("K7010", "K7010"),
        ("591", "G591"),
        (5, "A05"),  # Excel drops the leading zero of division 05
        ("05", "A05"),
    ],
)
def test_industry_canonical_form_is_section_letter_plus_given_digits(value, code):
    industry = normalize_industry(value)
    assert industry.code == code
    assert industry.section == code[0]
    assert industry.division == code[1:3]


def test_industry_keeps_group_and_class_digits():
    industry = normalize_industry("F5123")
    assert industry == IndustryCode(section="F", division="51", code="F5123")
    assert (industry.digits, industry.group, industry.class_code) == ("5123", "512", "5123")
    assert normalize_industry("I65").group == ""
    assert str(industry) == "F5123"


def test_industry_rejects_section_letter_that_does_not_match_the_digits():
    with raises_rule("industry_section_mismatch", "门类字母 G", "大类 51", "批发业", "门类 F"):
        normalize_industry("G5123")


def test_industry_rejects_unknown_division():
    with raises_rule("industry_unknown", "大类 98", "01–97"):
        normalize_industry("98")


@pytest.mark.parametrize(("value", "digits"), [("5", "1 位"), ("F51234", "5 位"), ("512345", "6 位")])
def test_industry_requires_two_to_four_digits(value, digits):
    with raises_rule("industry_length", "2、3 或 4 位", digits):
        normalize_industry(value)


@pytest.mark.parametrize("value", ["", None, "F", "F51A", "批发", 65.5, True])
def test_industry_rejects_garbage_with_format_hint(value):
    with raises_rule("industry_format", "F5123", "I65"):
        normalize_industry(value)


def test_industry_division_table_has_97_divisions_with_r8_service_flags():
    table = rules.division_table()
    assert [d.code for d in table] == [f"{i:02d}" for i in range(1, 98)]
    service = {d.code for d in table if d.service}
    assert service == {"05", "11", "43"} | {f"{i:02d}" for i in range(51, 98)}
    names = {d.code: (d.section, d.name) for d in table}
    assert names["51"] == ("F", "批发业")
    assert names["65"] == ("I", "软件和信息技术服务业")
    assert names["43"] == ("C", "金属制品、机械和设备修理业")


@given(st.sampled_from(rules.division_table()), st.text(alphabet="0123456789", max_size=2))
def test_industry_with_and_without_letter_give_the_same_code(division, extra):
    digits = division.code + extra
    plain = normalize_industry(digits)
    lettered = normalize_industry(division.section.lower() + digits)
    assert plain == lettered
    assert plain.code == division.section + digits


@pytest.mark.parametrize(
    "value", ["F51", "F5123", "G5910", "I65", "K7020", "L72", "A05", "B11", "C43", "R90"]
)
def test_service_industry_is_sections_f_to_t_plus_05_11_43(value):
    industry = normalize_industry(value)
    assert is_service_industry(industry)
    check_service_industry(industry)


@pytest.mark.parametrize("value", ["A01", "B06", "C33", "C4210", "D44", "E47"])
def test_service_industry_rejects_primary_and_secondary_industry(value):
    industry = normalize_industry(value)
    assert not is_service_industry(industry)
    with raises_rule("industry_not_service", industry.code, "不属于服务业", "R8", "F–T"):
        check_service_industry(industry)


@pytest.mark.parametrize(
    ("value", "exclusion"), [("J66", "J"), ("K7010", "7010"), ("S91", "S"), ("T97", "T")]
)
def test_service_industry_excludes_finance_real_estate_development_s_and_t(value, exclusion):
    industry = normalize_industry(value)
    assert not is_service_industry(industry)
    with raises_rule("industry_excluded", industry.code, exclusion, "R8"):
        check_service_industry(industry)


def test_service_industry_refuses_division_70_that_may_hide_real_estate_development():
    industry = normalize_industry("K70")
    assert not is_service_industry(industry)
    with raises_rule("industry_too_coarse", "K70", "7010", "R8", "小类"):
        check_service_industry(industry)


def test_service_industry_group_701_counts_as_class_7010():
    assert not is_service_industry(normalize_industry("701"))


def test_service_industry_exclusions_are_a_parameter():
    assert is_service_industry(normalize_industry("J66"), excluded=())
    assert not is_service_industry(normalize_industry("K7020"), excluded=("70",))
    assert not is_service_industry(normalize_industry("I6511"), excluded=("I65",))
    with raises_rule("industry_exclusion", "“7-0”"):
        is_service_industry(normalize_industry("I65"), excluded=("7-0",))


# --------------------------------------------------------------------------- SME size class (R7)


def size(
    code: str, employees: int | None = None, revenue: str | None = None, assets: str | None = None
) -> str:
    return sme_size_class(
        industry=normalize_industry(code),
        employees=employees,
        revenue_10k=None if revenue is None else Decimal(revenue),
        assets_10k=None if assets is None else Decimal(assets),
    )


@pytest.mark.parametrize(
    ("code", "employees", "revenue", "assets", "expected"),
    [
        # 农林牧渔业: revenue only
        ("A01", None, "20000", None, "large"),
        ("A0111", None, "500", None, "medium"),
        ("A05", 3, "50", None, "small"),
        ("A04", None, "49.99", None, "micro"),
        # 工业: employees and revenue
        ("C33", 1000, "40000", None, "large"),
        ("C33", 1000, "39999", None, "medium"),
        ("B06", 300, "2000", None, "medium"),
        ("D44", 299, "2000", None, "small"),
        ("C13", 20, "300", None, "small"),
        ("C13", 19, "300", None, "micro"),
        ("C13", 500, "299", None, "micro"),
        # 建筑业: revenue and assets
        ("E47", None, "80000", "80000", "large"),
        ("E48", None, "6000", "5000", "medium"),
        ("E49", None, "300", "300", "small"),
        ("E50", None, "300", "299", "micro"),
        # 批发业 / 零售业
        ("F51", 200, "40000", None, "large"),
        ("F5123", 20, "5000", None, "medium"),
        ("F51", 5, "1000", None, "small"),
        ("F51", 4, "1000", None, "micro"),
        ("F52", 300, "20000", None, "large"),
        ("F52", 50, "500", None, "medium"),
        ("F5211", 10, "100", None, "small"),
        ("F52", 10, "99", None, "micro"),
        # 交通运输业 (incl. 装卸搬运 G591), 仓储业, 邮政业
        ("G54", 300, "3000", None, "medium"),
        ("G58", 20, "200", None, "small"),
        ("G5910", 20, "200", None, "small"),
        ("G592", 100, "1000", None, "medium"),
        ("G5920", 20, "100", None, "small"),
        ("G60", 300, "2000", None, "medium"),
        ("G60", 20, "100", None, "small"),
        # 住宿业 / 餐饮业
        ("H61", 100, "2000", None, "medium"),
        ("H62", 10, "100", None, "small"),
        ("H62", 9, "5000", None, "micro"),
        # 信息传输业 / 软件和信息技术服务业
        ("I63", 2000, "100000", None, "large"),
        ("I64", 100, "1000", None, "medium"),
        ("I64", 10, "100", None, "small"),
        ("I65", 300, "10000", None, "large"),
        ("I65", 100, "1000", None, "medium"),
        ("I65", 50, "500", None, "small"),
        ("I6510", 10, "50", None, "small"),
        ("I65", 9, "500", None, "micro"),
        # 房地产开发经营 (revenue, assets) / 物业管理 (employees, revenue)
        ("K7010", None, "200000", "10000", "large"),
        ("K7010", 5000, "1000", "5000", "medium"),
        ("K701", None, "100", "2000", "small"),
        ("K7010", None, "100", "1999", "micro"),
        ("K7020", 300, "1000", None, "medium"),
        ("K7020", 100, "500", None, "small"),
        ("K7020", 99, "500", None, "micro"),
        # 租赁和商务服务业: employees and assets
        ("L71", 300, None, "120000", "large"),
        ("L72", 100, None, "8000", "medium"),
        ("L7211", 10, None, "100", "small"),
        ("L72", 10, None, "99", "micro"),
        # 其他未列明行业: employees only (incl. 铁路运输 G53, 房地产中介 K7030)
        ("M73", 300, None, None, "large"),
        ("N78", 100, None, None, "medium"),
        ("G53", 10, "1", "1", "small"),
        ("K7030", 9, None, None, "micro"),
    ],
)
def test_sme_size_class_needs_both_indicators_at_each_level(code, employees, revenue, assets, expected):
    assert size(code, employees, revenue, assets) == expected


def test_sme_software_firm_with_50_staff_and_5_million_revenue_is_small():
    assert size("I65", 50, "500") == "small"
    assert SIZE_LABELS[size("I65", 50, "500")] == "小型"


def test_sme_missing_revenue_is_an_error_not_micro():
    with raises_rule("sme_missing", "无法划型", "缺少营业收入", "R7"):
        size("I65", 50, None)


def test_sme_missing_employees_for_employee_only_group_is_an_error():
    with raises_rule("sme_missing", "缺少从业人员"):
        size("M73", None, "100", "100")


def test_sme_missing_assets_for_construction_is_an_error():
    with raises_rule("sme_missing", "缺少资产总额", "建筑业"):
        size("E47", 10, "500", None)


def test_sme_ignores_figures_the_group_does_not_use():
    assert size("I65", 50, "500", None) == "small"
    assert size("A01", None, "60", None) == "small"


def test_sme_rejects_negative_figures():
    with raises_rule("sme_negative", "从业人员", "不能为负数", "-1"):
        size("I65", -1, "500")
    with raises_rule("sme_negative", "资产总额", "-5"):
        size("I65", 10, "500", "-5")


@pytest.mark.parametrize(
    ("code", "groups"), [("G59", "交通运输业、仓储业"), ("K70", "房地产开发经营、物业管理")]
)
def test_sme_refuses_codes_too_coarse_to_pick_a_threshold_group(code, groups):
    with raises_rule("sme_industry_ambiguous", "无法划型", code, groups, "R7"):
        size(code, 10, "100", "100")


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("A03", "农林牧渔业"),
        ("C4210", "工业"),
        ("G5910", "交通运输业"),
        ("G5951", "仓储业"),
        ("G53", "其他未列明行业"),
        ("K7010", "房地产开发经营"),
        ("K7090", "其他未列明行业"),
        ("O80", "其他未列明行业"),
    ],
)
def test_sme_size_group_matches_the_most_specific_row(code, group):
    assert sme_size_group(normalize_industry(code)).name == group


def test_sme_uses_thresholds_passed_by_caller():
    thresholds = [
        {
            "group": "全部",
            "gbt4754_codes": "everything else",
            "indicator_1": "revenue",
            "indicator_2": "",
            "medium_min_1": 10,
            "medium_min_2": None,
            "small_min_1": Decimal(5),
            "small_min_2": None,
            "large_min_1": "100",
            "large_min_2": None,
        }
    ]
    industry = normalize_industry("I65")
    kwargs = {"industry": industry, "employees": None, "assets_10k": None, "thresholds": thresholds}
    assert sme_size_class(revenue_10k=Decimal(7), **kwargs) == "small"
    assert sme_size_class(revenue_10k=Decimal(4), **kwargs) == "micro"


def test_sme_threshold_table_has_16_groups():
    assert len(rules.sme_threshold_table()) == 16
    assert SIZE_LABELS == {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}


_RANK = {"micro": 0, "small": 1, "medium": 2, "large": 3}
_SIZED_CODES = ["A01", "C33", "E47", "F51", "F52", "G54", "G592", "G60", "H61", "I63", "I65", "K7010"]
_SIZED_CODES += ["K7020", "L72", "M73"]
figures = st.decimals(min_value=0, max_value=300000, places=2)


@given(
    st.sampled_from(_SIZED_CODES),
    st.integers(min_value=0, max_value=5000),
    figures,
    figures,
    st.integers(min_value=0, max_value=5000),
    figures,
    figures,
)
def test_sme_size_class_never_falls_when_figures_grow(code, emp, rev, ast, d_emp, d_rev, d_ast):
    industry = normalize_industry(code)
    lower = sme_size_class(industry=industry, employees=emp, revenue_10k=rev, assets_10k=ast)
    higher = sme_size_class(
        industry=industry, employees=emp + d_emp, revenue_10k=rev + d_rev, assets_10k=ast + d_ast
    )
    assert _RANK[lower] <= _RANK[higher]


# --------------------------------------------------------------------------- LPR and rate cap (R12)


@pytest.mark.parametrize(
    ("on", "rate"),
    [
        (date(2019, 8, 20), "4.25"),
        (date(2021, 6, 1), "3.85"),
        (date(2021, 12, 19), "3.85"),
        (date(2021, 12, 20), "3.80"),
        (date(2022, 1, 19), "3.80"),
        (date(2022, 1, 20), "3.70"),
        (date(2022, 5, 28), "3.70"),
        (date(2025, 5, 20), "3.00"),
        (date(2030, 1, 1), "3.00"),
    ],
)
def test_lpr_in_force_is_latest_rate_effective_on_or_before_the_date(on, rate):
    result = lpr_in_force(on)
    assert result == Decimal(rate)
    assert result.as_tuple().exponent == -2


def test_lpr_before_first_published_rate_is_an_error():
    with raises_rule("lpr_unknown", "2019-08-19", "LPR", "2019-08-20"):
        lpr_in_force(date(2019, 8, 19))


def test_rate_cap_is_lpr_plus_50_bp():
    assert rate_cap(date(2021, 6, 1)) == Decimal("4.35")
    assert rate_cap(date(2021, 12, 20)) == Decimal("4.30")
    assert rate_cap(date(2021, 6, 1), cap_bp=0) == Decimal("3.85")
    assert rate_cap(date(2021, 6, 1), cap_bp=125) == Decimal("5.10")


def test_lpr_uses_table_passed_by_caller_in_any_order():
    table = [(date(2024, 1, 1), Decimal("2.5")), (date(2023, 1, 1), Decimal("3"))]
    assert lpr_in_force(date(2023, 6, 1), table=table) == Decimal("3.00")
    assert rate_cap(date(2024, 1, 1), table=table) == Decimal("3.00")
    with raises_rule("lpr_unknown", "2022-12-31"):
        lpr_in_force(date(2022, 12, 31), table=table)


@given(st.dates(min_value=date(2019, 8, 20), max_value=date(2035, 12, 31)))
def test_lpr_in_force_matches_a_linear_scan(on):
    expected = [rate for start, rate in rules.lpr_table() if start <= on][-1]
    assert lpr_in_force(on) == expected
    assert rate_cap(on) == expected + Decimal("0.50")


# --------------------------------------------------------------------------- rates


@pytest.mark.parametrize("value", [4.35, "4.35", "4.35%", "４.３５％", " 4.35 % ", Decimal("4.35"), "4.3500"])
def test_parse_rate_accepts_percent_figures(value):
    assert parse_rate_percent(value) == Decimal("4.35")


def test_parse_rate_percent_cell_fraction_means_percent():
    assert parse_rate_percent(0.0435, from_percent_cell=True) == Decimal("4.35")
    assert parse_rate_percent("4.35%", from_percent_cell=True) == Decimal("4.35")


def test_parse_rate_explicit_percent_below_one_is_accepted():
    assert parse_rate_percent("0.5%") == Decimal("0.5")


@pytest.mark.parametrize("value", [0.0435, "0.0435", Decimal("0.0435")])
def test_parse_rate_bare_fraction_asks_for_the_percent_figure(value):
    with raises_rule("rate_fraction", "百分数", "4.35", "0.0435"):
        parse_rate_percent(value)


@pytest.mark.parametrize("value", [0, "-4.35", "0%"])
def test_parse_rate_must_be_positive(value):
    with raises_rule("rate_range", "大于 0"):
        parse_rate_percent(value)


def test_parse_rate_rejects_percent_cell_holding_a_percent_figure():
    with raises_rule("rate_range", "435", "不合理"):
        parse_rate_percent(4.35, from_percent_cell=True)


@pytest.mark.parametrize("value", ["abc", "", None, "4,35", "4.35‰", True, float("nan")])
def test_parse_rate_rejects_garbage(value):
    with raises_rule("rate_format", "无法识别", "4.35"):
        parse_rate_percent(value)


@given(st.decimals(min_value=1, max_value=Decimal("99.99"), places=2))
def test_parse_rate_text_percent_and_number_forms_agree(rate):
    expected = rate.quantize(Decimal("0.0001"))
    assert parse_rate_percent(str(rate)) == expected
    assert parse_rate_percent(f"{rate}%") == expected
    assert parse_rate_percent(float(rate)) == expected
    assert parse_rate_percent(float(rate) / 100, from_percent_cell=True) == expected


# --------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234, "1234.00"),
        (1234.5, "1234.50"),
        (0.1 + 0.2, "0.30"),
        (Decimal("12.345"), "12.35"),
        ("1,234,567.89", "1234567.89"),
        ("１,２３４,５６７.８９", "1234567.89"),
        ("１，２３４元", "1234.00"),
        ("￥1,000", "1000.00"),
        (" 1 000 000 ", "1000000.00"),
        ("-500", "-500.00"),
    ],
)
def test_parse_money_accepts_what_bank_staff_type(value, expected):
    result = parse_money(value)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "value", ["abc", "", None, "1,23", "12,3456", "100万元", "1.2.3", True, float("inf")]
)
def test_parse_money_rejects_garbage_naming_the_value(value):
    with raises_rule("money_format", f"“{value}”", "无法识别", "1,234,567.89"):
        parse_money(value)


_FULL_WIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")


@given(st.decimals(min_value=0, max_value=Decimal("1e12"), places=2))
def test_parse_money_round_trips_formatted_amounts(amount):
    text = f"{amount:,.2f}"
    assert parse_money(text) == amount
    assert parse_money(text.translate(_FULL_WIDTH) + "元") == amount
    assert parse_money(str(amount)) == amount


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "value",
    [
        date(2021, 6, 30),
        datetime(2021, 6, 30, 15, 30, tzinfo=UTC),
        "2021-06-30",
        "2021/6/30",
        "2021.6.30",
        "2021年6月30日",
        "2021 年 6 月 30 日",
        "２０２１年６月３０日",
        "20210630",
        20210630,
        "2021-06-30 00:00:00",
        "2021-06-30T08:00:00",
        44377,
        44377.0,
        44377.75,
    ],
)
def test_parse_date_accepts_text_excel_and_date_objects(value):
    assert parse_date(value) == date(2021, 6, 30)


@pytest.mark.parametrize("value", ["2021-02-30", "20210631", 20211301])
def test_parse_date_rejects_days_that_do_not_exist(value):
    with raises_rule("date_invalid", f"“{value}”", "不存在"):
        parse_date(value)


@pytest.mark.parametrize(
    "value", ["30/06/2021", "21-6-30", "2021-6/30", "明天", "", None, 2021, 60, True, 1e9]
)
def test_parse_date_rejects_garbage_listing_the_accepted_formats(value):
    with raises_rule("date_format", f"“{value}”", "2021-06-30", "2021/6/30", "2021年6月30日", "20210630"):
        parse_date(value)


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)))
def test_parse_date_round_trips_every_supported_form(day):
    serial = (day - date(1899, 12, 30)).days
    forms = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        day.strftime("%Y%m%d"),
        int(day.strftime("%Y%m%d")),
        serial,
        serial + 0.5,
    ]
    for form in forms:
        assert parse_date(form) == day, form


def test_parse_date_excel_serial_uses_1900_system():
    assert parse_date(18264) == date(1950, 1, 1)
    assert parse_date(45658) == date(2025, 1, 1)
    assert parse_date(45658) - parse_date(45657) == timedelta(days=1)
