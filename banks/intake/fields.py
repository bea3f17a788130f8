"""The columns of the two workbooks (bank-workbooks.md §1, §2): the single source that the
validator, the template generator, the annotated-workbook writer and the API serializers read.

- ``fields_for(kind)`` → the ordered tuple of :class:`Field` for ``"registration"`` or ``"status"``.
- ``SHEET_NAMES[kind]`` → the sheet the data is read from (``贷款备案`` / ``月度状态``);
  ``SHEET_ALIASES[kind]`` the other names accepted on upload.
- ``header_lookup(kind)`` → normalised header text → Field (what the reader matches against).
- ``data_dictionary(kind)`` → one dict per column for the template's notes sheet.
- ``TEMPLATE_VERSION``: written into the template's properties by the template generator.

API records use ``Field.name`` as keys; workbooks use ``Field.header``.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from fund.models import Classification, LoanMode, LoanStatus

TEMPLATE_VERSION = "2025.1"
REGISTRATION = "registration"
STATUS = "status"
KINDS = (REGISTRATION, STATUS)

SHEET_NAMES = {REGISTRATION: "贷款备案", STATUS: "月度状态"}
SHEET_ALIASES = {
    REGISTRATION: ("贷款备案", "贷款备案表", "贷款备案信息"),
    STATUS: ("月度状态", "月度状态报告", "月度贷款状态报告", "贷款状态报告"),
}
LOOKUP_SHEET = "选项"  # hidden sheet with the dropdown lists (template)
NOTES_SHEET = "填写说明"  # the data dictionary (template)
# Columns the annotated workbook appends; ignored when such a workbook is uploaded again.
ANNOTATION_HEADERS = ("处理结果", "问题说明")
HEADER_SEARCH_ROWS = 20  # the header row is looked for in the first rows of the sheet

# Field types
TEXT = "text"
CODE = "code"  # spaces removed, full-width folded, upper-cased
DATE = "date"
MONTH = "month"
MONEY = "money"
INT = "int"
RATE = "rate"  # percent: 4.35, "4.35%", or a percent-formatted cell
CHOICE = "choice"
BOOL = "bool"
TYPES = (TEXT, CODE, DATE, MONTH, MONEY, INT, RATE, CHOICE, BOOL)

TYPE_LABELS = {
    TEXT: "文本", CODE: "代码", DATE: "日期", MONTH: "年月", MONEY: "金额", INT: "整数",
    RATE: "百分数", CHOICE: "下拉选项", BOOL: "是/否",
}
BOOL_CHOICES = ((True, "是"), (False, "否"))


@dataclass(frozen=True)
class Field:
    """One column: Chinese header, internal (API) name, type and the rule it serves."""

    name: str
    header: str
    type: str
    required: bool = False
    choices: tuple[tuple[object, str], ...] = ()  # (internal value, label shown in the workbook)
    help: str = ""
    rule: str = ""
    example: str = ""
    lookup: str = ""  # a list the template fills from the database: "region", "industry", "guarantor"
    max_length: int = 0

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for _, label in self.choices)


def _choices(text_choices) -> tuple[tuple[str, str], ...]:
    return tuple((value, str(label)) for value, label in text_choices.choices)


MODE_CHOICES = _choices(LoanMode)
CLASSIFICATION_CHOICES = _choices(Classification)
STATUS_CHOICES = _choices(LoanStatus)

REGISTRATION_FIELDS: tuple[Field, ...] = (
    Field("contract_no", "借款合同编号", CODE, True, help="银行借款合同编号，同一银行内唯一；重复报送同一合同不会重复计入",
          rule="R16", example="HT2021060001", max_length=64),
    Field("credit_code", "统一社会信用代码", CODE, True, help="借款企业 18 位统一社会信用代码，校验位须正确",
          rule="R6", example="91510100MA61234567"),
    Field("enterprise_name", "企业名称", TEXT, True, help="借款企业登记名称；与该代码此前备案的名称不一致时提示",
          example="成都某某商贸有限公司", max_length=200),
    Field("region", "所在市(州)", CODE, True, help="四川省 21 个市(州)之一：代码(510100)或名称(成都市/成都)",
          rule="R6", example="成都市", lookup="region"),
    Field("industry_code", "行业代码", CODE, True,
          help="GB/T 4754-2017 行业代码，如 F5123、5123、I65、65；须为服务业且不属于排除行业", rule="R8",
          example="F5123", lookup="industry"),
    Field("employees", "从业人员(人)", INT, False, help="划型用；不能为负数，缺少划型所需指标时无法划型",
          rule="R7", example="25"),
    Field("revenue_10k", "上年营业收入(万元)", MONEY, False, help="划型用，单位万元", rule="R7", example="1200"),
    Field("assets_10k", "资产总额(万元)", MONEY, False, help="划型用，单位万元", rule="R7", example="800"),
    Field("is_private", "是否民营", BOOL, True, choices=BOOL_CHOICES, help="是 / 否", rule="R10", example="是"),
    Field("mode", "担保模式", CHOICE, True, choices=MODE_CHOICES, help="政银 / 政银担；备案后不可更改",
          rule="R21", example="政银"),
    Field("guarantor", "担保机构", TEXT, False, help="政银担模式必填：本项目合作担保机构的名称、简称或机构代码",
          rule="R21", example="四川省融资担保有限公司", lookup="guarantor", max_length=100),
    Field("guarantee_contract_no", "担保合同编号", CODE, False, help="政银担模式必填", rule="R21",
          example="DB2021060001", max_length=64),
    Field("guarantee_fee_rate", "担保费率(%)", RATE, False, help="政银担模式必填，年化百分数，如 1.5 或 1.5%",
          rule="R21", example="1.5"),
    Field("signed_on", "合同签订日期", DATE, True, help="2021-06-30、2021/6/30、2021年6月30日、20210630 或 Excel 日期",
          rule="R12", example="2021-06-01"),
    Field("disbursed_on", "放款日期", DATE, True, help="不早于签订日期；放款后 30 天内备案", rule="R15",
          example="2021-06-03"),
    Field("matures_on", "到期日期", DATE, True, help="晚于放款日期；期限不超过 12 个月", rule="R13",
          example="2022-06-02"),
    Field("principal", "贷款金额(元)", MONEY, True, help="大于 0；同一企业每自然年在各银行合计不超过上限",
          rule="R11", example="1,000,000.00"),
    Field("annual_rate", "年利率(%)", RATE, True, help="百分数，如 4.35 或 4.35%；不超过签订日一年期 LPR 加点上限",
          rule="R12", example="4.35"),
    Field("purpose", "贷款用途", TEXT, True, help="流动资金或经营周转；不得用于还旧借新、房地产、证券、理财、消费等",
          rule="R14", example="流动资金周转", max_length=200),
    Field("credit_attested", "信用承诺", BOOL, True, choices=BOOL_CHOICES,
          help="银行承诺借款企业无严重失信记录，须填“是”", rule="R9", example="是"),
)

STATUS_FIELDS: tuple[Field, ...] = (
    Field("contract_no", "借款合同编号", CODE, True, help="已备案的借款合同编号", rule="R43", example="HT2021060001",
          max_length=64),
    Field("report_month", "报告月份", MONTH, True, help="YYYY-MM，如 2021-06", rule="R43", example="2021-06"),
    Field("outstanding_principal", "贷款余额(元)", MONEY, True, help="月末贷款余额；不得高于上次报告的余额",
          rule="R43", example="800,000.00"),
    Field("principal_repaid", "本月归还本金(元)", MONEY, False, help="本月归还的本金，没有填 0", example="200,000.00"),
    Field("interest_paid", "本月支付利息(元)", MONEY, False, help="本月支付的利息（不含罚息），没有填 0",
          example="3,625.00"),
    Field("overdue_days", "逾期天数", INT, True, help="月末逾期天数，未逾期填 0", rule="R23", example="0"),
    Field("classification", "五级分类", CHOICE, True, choices=CLASSIFICATION_CHOICES,
          help="正常 / 关注 / 次级 / 可疑 / 损失", example="正常"),
    Field("status", "贷款状态", CHOICE, True, choices=STATUS_CHOICES, help="正常 / 逾期 / 结清 / 核销",
          rule="R43", example="正常"),
    Field("settled_on", "结清日期", DATE, False, help="贷款状态为结清时必填，且余额为 0", rule="R43",
          example="2022-05-30"),
    Field("interest_paid_total", "累计实付利息(元)", MONEY, True, help="自放款起累计实际支付的利息（贴息依据）",
          rule="R35", example="21,750.00"),
    Field("guarantee_fee_paid_total", "累计实付担保费(元)", MONEY, False,
          help="政银担贷款累计实际支付的担保费（担保费补贴依据）", rule="R36", example="15,000.00"),
)

_FIELDS = {REGISTRATION: REGISTRATION_FIELDS, STATUS: STATUS_FIELDS}


def fields_for(kind: str) -> tuple[Field, ...]:
    """The ordered columns of a workbook kind (``"registration"`` or ``"status"``)."""
    try:
        return _FIELDS[kind]
    except KeyError:
        raise ValueError(f"未知的报送类型：{kind}") from None


def field_names(kind: str) -> tuple[str, ...]:
    return tuple(f.name for f in fields_for(kind))


def normalize_header(text: object) -> str:
    """Header text as matched: NFKC (full-width brackets → ASCII), no whitespace."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


@functools.cache
def header_lookup(kind: str) -> dict[str, Field]:
    """Normalised header → Field (``年利率（%）`` and ``年利率(%)`` both match)."""
    return {normalize_header(f.header): f for f in fields_for(kind)}


@functools.cache
def annotation_headers() -> frozenset[str]:
    return frozenset(normalize_header(h) for h in ANNOTATION_HEADERS)


def data_dictionary(kind: str) -> list[dict[str, str]]:
    """One row per column for the template's notes sheet (填写说明)."""
    return [
        {
            "header": f.header,
            "name": f.name,
            "type": TYPE_LABELS[f.type],
            "required": "必填" if f.required else "选填",
            "choices": "、".join(f.labels),
            "help": f.help,
            "rule": f.rule,
            "example": f.example,
        }
        for f in fields_for(kind)
    ]
