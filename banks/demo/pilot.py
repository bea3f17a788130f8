"""The 服保贷 pilot's demo data: a deterministic generator (pure Python, no database).

``build()`` returns plain records (enterprises, loans, monthly status reports, loan applications) that
the demo loader imports as bank workbooks (``PilotData.registration_rows`` / ``status_rows`` give rows
keyed by the exact Chinese headers of bank-workbooks.md §1 and §2).  ``PILOT_TARGETS`` is the data
set's design; the published figures are never stored, the system's statistics compute them from these
records as of the cut-off 2022-05-28.  Definitions the data is built for (R40):

- enterprises that applied = distinct credit codes with a loan application (意向申请) or a registered
  loan.  Every applicant without a loan has exactly one application; borrowers count through their loans.
- enterprises with loans = distinct credit codes with at least one registered loan.
- 市(州) covered = distinct 市(州) of enterprises with loans.  A few applicants without a loan come from
  other 市(州), so counting applicants instead of borrowers gives a wrong (larger) figure.
- industry = the GB/T 4754-2017 2-digit division (大类) of the borrower's industry code.  The borrowers
  cover exactly the divisions of ``PILOT_TARGETS.divisions``: 51 批发业 and 52 零售业 (the pilot's
  批发和零售业), 54 道路运输业, 58 and 59 (its 交通运输), 65 软件和信息技术服务业, and 61, 62, 64, 72, 74, 75.
  All are service divisions (R8) outside the excluded J, 7010, S and T; applicants stay inside them too.
- private share = private borrowers ÷ borrowers (R10).
- Every loan is priced at 4.35 % and signed 2021-06-01 … 2021-12-15, when the cap was LPR 3.85 + 50 bp
  (R12), so the amount-weighted contract rate is 4.35 %.  Every maturity is on or after 2022-01-20, so
  every settlement (and the cut-off) falls under LPR 3.70 and the R35 interest subsidy is 30 % × 3.70 %,
  giving an effective rate of 3.24 %.  The six troubled loans (never subsidised) are small enough
  (≤ 800,000 元 each) that the weighted effective rate rounds to 3.24 % whether or not they are projected.

Status reports: one row per loan per month from the disbursement month through 2022-04, the last complete
month before the cut-off, and none after a loan is closed (结清/核销).  Interest is paid at each month end
for the days the balance was outstanding in that month (contract rate × balance × days ÷ 360, to cents);
the day of disbursement counts, the day of repayment does not.  Loans maturing by 2022-04-30 settle at
maturity and are never overdue; about one loan in five repays part of its principal at a mid-term month end.
逾期天数 = report date − first unpaid due date (counting from the day after the due date).  五级分类 by
days overdue (2023 rules): 0 正常, 1–90 关注, 91–270 次级, 271–360 可疑, over 360 or written off 损失.
A written-off loan's last row is 核销 with balance 0.  The guarantee fee of a 政银担 loan (principal × fee
rate × term ÷ 12) is paid in the disbursement month.  Load order: a bank's registrations (each within 30
days of disbursement, ``Loan.registered_on``) before its status reports, month by month.
"""

from __future__ import annotations

import calendar
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from registry.rules import make_uscc, region_table

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PilotTargets:
    """What the generated data set is designed to contain (the pilot's published results)."""

    cutoff: date
    applicants: int
    borrowers: int
    private_borrowers: int
    principal: Decimal
    contract_rate: Decimal
    regions: tuple[str, ...]  # the 市(州) of the borrowers
    divisions: tuple[str, ...]  # the GB/T 4754 divisions of the borrowers


PILOT_TARGETS = PilotTargets(
    cutoff=date(2022, 5, 28),
    applicants=372,
    borrowers=204,
    private_borrowers=191,
    principal=Decimal("1246000000.00"),
    contract_rate=Decimal("4.35"),
    regions=("510100", "510300", "510500", "510600", "510700", "510900", "511000",
             "511100", "511300", "511400", "511500", "511700", "511800", "512000"),
    divisions=("51", "52", "54", "58", "59", "61", "62", "64", "65", "72", "74", "75"),
)

SIGNING_WINDOW = (date(2021, 6, 1), date(2021, 12, 15))
FIRST_MATURITY = date(2022, 1, 20)  # LPR 3.70 in force from here (R35 reference rate at settlement)
LAST_REPORT_DAY = date(2022, 4, 30)
ENTERPRISE_CAP = Decimal(10_000_000)  # R11, per enterprise per calendar year
TWO_LOAN_BORROWERS = 30
GUARANTOR_SHARE = 0.3

GUARANTORS = {"G01": "四川省融资担保有限公司", "G02": "成都小企业融资担保有限责任公司"}
MODE_LABELS = {"bank": "政银", "bank_guarantor": "政银担"}
# Relative lending weight of the 9 partner banks; the local banks lend only in their home 市(州).
BANK_WEIGHTS = {"B01": 25, "B02": 18, "B03": 14, "B04": 12, "B05": 9, "B06": 24, "B07": 7, "B08": 18, "B09": 18}
BANK_HOMES = {
    "B06": ("510100", "510600", "511400", "512000"),
    "B08": ("511100", "511400", "511500", "511800"),
    "B09": ("511300", "510900", "511700"),
}
REGION_WEIGHTS = {
    "510100": 40, "510700": 7, "510600": 6, "511100": 6, "510500": 6, "511500": 6, "511300": 5,
    "511400": 4, "511700": 4, "510900": 3, "511000": 3, "510300": 3, "512000": 3, "511800": 3,
}
OTHER_APPLICANT_REGIONS = {"510400": 1, "513400": 1, "510800": 1}  # applicants only, never borrowers
# 成都 districts for the registering authority in the credit code; other 市(州) use the city code.
CHENGDU_DISTRICTS = ("510100", "510104", "510105", "510106", "510107", "510108", "510112", "510116")


@dataclass(frozen=True)
class Division:
    weight: int
    scale: float  # relative loan size
    employees: tuple[int, int]  # ranges well inside the small band of the 2011 SME standard (R7)
    revenue: tuple[int, int]  # 万元
    assets: tuple[int, int]  # 万元
    classes: tuple[tuple[str, str], ...]  # (GB/T 4754 class, word used in company names)


DIVISIONS = {
    "51": Division(16, 1.3, (5, 19), (600, 4800), (300, 3500), (
        ("F5121", "粮油贸易"), ("F5123", "农产品贸易"), ("F5127", "茶业"), ("F5132", "服饰贸易"),
        ("F5151", "医药"), ("F5165", "建材"), ("F5174", "五金机电"), ("F5176", "数码科技"))),
    "52": Division(12, 0.6, (10, 48), (120, 480), (80, 600), (
        ("F5212", "超市"), ("F5223", "果蔬"), ("F5226", "酒业"), ("F5232", "服饰"), ("F5251", "大药房"),
        ("F5273", "电脑"))),
    "54": Division(8, 1.1, (20, 160), (300, 2800), (400, 5000), (
        ("G5431", "物流"), ("G5432", "冷链运输"), ("G5437", "城市配送"), ("G5422", "旅游客运"))),
    "58": Division(5, 1.1, (20, 160), (300, 2800), (300, 4000), (("G5810", "多式联运"), ("G5821", "货运代理"))),
    "59": Division(5, 1.0, (20, 95), (120, 950), (300, 4000), (
        ("G5910", "装卸服务"), ("G5920", "仓储"), ("G5930", "冷链仓储"), ("G5990", "仓储服务"))),
    "61": Division(5, 0.9, (10, 95), (150, 1800), (500, 6000), (
        ("H6110", "酒店"), ("H6121", "酒店管理"), ("H6130", "民宿"))),
    "62": Division(8, 0.6, (10, 95), (120, 1800), (100, 1500), (
        ("H6210", "餐饮管理"), ("H6220", "快餐"), ("H6231", "茶馆"), ("H6241", "餐饮配送"), ("H6291", "小吃"))),
    "64": Division(8, 1.0, (10, 95), (120, 950), (100, 2000), (
        ("I6429", "网络科技"), ("I6432", "互联网服务"), ("I6440", "网络安全"), ("I6450", "数据科技"))),
    "65": Division(14, 1.1, (10, 95), (60, 950), (100, 2000), (
        ("I6513", "软件"), ("I6531", "信息技术"), ("I6532", "物联网科技"), ("I6540", "信息系统运维"),
        ("I6572", "数字动漫"))),
    "72": Division(9, 1.0, (10, 95), (100, 3000), (120, 7500), (
        ("L7243", "企业管理咨询"), ("L7259", "广告"), ("L7269", "人力资源"), ("L7284", "会展服务"),
        ("L7291", "旅行社"))),
    "74": Division(6, 1.0, (10, 95), (100, 3000), (100, 3000), (
        ("M7452", "检测技术"), ("M7484", "工程设计"), ("M7491", "工业设计"), ("M7492", "创意设计"))),
    "75": Division(4, 1.0, (10, 95), (100, 3000), (100, 3000), (
        ("M7514", "节能科技"), ("M7516", "环保科技"), ("M7520", "知识产权服务"), ("M7530", "科技服务"))),
}
TRADE_NAMES = (
    "锦程", "嘉禾", "蜀韵", "川信", "恒达", "鑫源", "瑞丰", "博远", "宏泰", "聚力", "华越", "启航", "众诚",
    "安泰", "德润", "汇川", "盛鼎", "同裕", "云帆", "青岚", "蓉晟", "远景", "致和", "鸿运", "兴邦", "乐业",
    "长桥", "金穗", "银杉", "明川", "君宜", "弘毅", "达观", "和煦", "朗逸", "翰墨", "星辰", "驰远", "祥瑞",
    "丰泽", "立信", "凯晟", "卓远", "正元", "新禾", "文澜", "知行", "百川", "润民", "宜达", "佳信", "信和",
)
PURPOSES = ("流动资金周转", "采购原材料", "采购商品", "支付房租及人工", "支付货款", "日常经营周转")
PURPOSES_BY_DIVISION = {
    "54": ("支付燃油及车辆维修费用",), "58": ("垫付运费",), "59": ("支付仓储租金",),
    "61": ("支付房租及人工",), "62": ("采购食材",), "64": ("支付研发人员工资",), "65": ("支付研发人员工资",),
}


@dataclass(frozen=True)
class Trouble:
    """A loan that goes wrong: its first unpaid due date (None: principal unpaid at maturity)."""

    mode: str
    bank: str
    signed_from: date
    signed_to: date
    term_months: int
    default_on: date | None
    written_off_month: str | None = None


TROUBLES = (
    Trouble("bank", "B01", date(2021, 6, 1), date(2021, 6, 20), 12, date(2021, 7, 31)),  # 可疑 by 2022-04
    Trouble("bank_guarantor", "B02", date(2021, 8, 2), date(2021, 8, 31), 12, date(2021, 11, 30)),  # 次级
    Trouble("bank", "B03", date(2021, 6, 15), date(2021, 7, 15), 12, date(2021, 9, 30), "2022-04"),  # 核销
    Trouble("bank", "B04", date(2021, 9, 1), date(2021, 9, 24), 6, None),  # unpaid at maturity, 关注
    Trouble("bank_guarantor", "B05", date(2021, 10, 8), date(2021, 10, 29), 12, date(2022, 3, 31)),  # 关注
    Trouble("bank", "B02", date(2021, 7, 1), date(2021, 7, 30), 12, date(2022, 1, 31)),  # 89 days, 关注
)
TROUBLE_AMOUNTS = tuple(Decimal(n * 100_000).quantize(CENT) for n in range(4, 9))

REGISTRATION_HEADERS = (
    "借款合同编号", "统一社会信用代码", "企业名称", "所在市(州)", "行业代码", "从业人员(人)",
    "上年营业收入(万元)", "资产总额(万元)", "是否民营", "担保模式", "担保机构", "担保合同编号",
    "担保费率(%)", "合同签订日期", "放款日期", "到期日期", "贷款金额(元)", "年利率(%)", "贷款用途", "信用承诺",
)
STATUS_HEADERS = (
    "借款合同编号", "报告月份", "贷款余额(元)", "本月归还本金(元)", "本月支付利息(元)", "逾期天数",
    "五级分类", "贷款状态", "结清日期", "累计实付利息(元)", "累计实付担保费(元)",
)


@dataclass(frozen=True)
class Enterprise:
    uscc: str
    name: str
    region_code: str
    industry_code: str  # section letter + 4-digit class, e.g. F5123
    employees: int
    revenue_10k: Decimal
    assets_10k: Decimal
    is_private: bool

    @property
    def division(self) -> str:
        return self.industry_code[1:3]


@dataclass(frozen=True)
class Loan:
    bank_code: str
    contract_no: str
    uscc: str
    mode: str  # "bank" (政银) or "bank_guarantor" (政银担)
    guarantor_code: str | None
    guarantee_contract_no: str | None
    guarantee_fee_rate: Decimal | None  # percent a year
    guarantee_fee: Decimal  # paid upfront, 0 in 政银 mode
    signed_on: date
    disbursed_on: date
    matures_on: date
    term_months: int
    principal: Decimal
    rate: Decimal
    purpose: str
    registered_on: date
    repayments: tuple[tuple[date, Decimal], ...]  # scheduled principal repayments, the last at maturity
    trouble: Trouble | None = None


@dataclass(frozen=True)
class MonthlyReport:
    bank_code: str
    contract_no: str
    month: str  # YYYY-MM
    balance: Decimal
    principal_repaid: Decimal
    interest_paid: Decimal
    overdue_days: int
    classification: str
    status: str
    settled_on: date | None
    cumulative_interest: Decimal
    cumulative_guarantee_fee: Decimal


@dataclass(frozen=True)
class Application:
    uscc: str
    applied_on: date
    amount: Decimal
    purpose: str
    bank_code: str


@dataclass
class PilotData:
    enterprises: list[Enterprise]
    loans: list[Loan]
    monthly_reports: list[MonthlyReport]
    applications: list[Application]

    @cached_property
    def _enterprise_by_uscc(self) -> dict[str, Enterprise]:
        return {e.uscc: e for e in self.enterprises}

    def enterprise(self, uscc: str) -> Enterprise:
        return self._enterprise_by_uscc[uscc]

    def bank_codes(self) -> list[str]:
        return sorted({loan.bank_code for loan in self.loans})

    def months(self) -> list[str]:
        return sorted({row.month for row in self.monthly_reports})

    def registration_rows(self, bank_code: str) -> list[dict]:
        """贷款备案 rows of one bank (bank-workbooks.md §1), in contract order."""
        loans = sorted((x for x in self.loans if x.bank_code == bank_code), key=lambda x: x.contract_no)
        return [_registration_row(loan, self.enterprise(loan.uscc)) for loan in loans]

    def status_rows(self, bank_code: str, month: str) -> list[dict]:
        """月度贷款状态报告 rows of one bank for one month ``YYYY-MM`` (bank-workbooks.md §2)."""
        rows = [r for r in self.monthly_reports if r.bank_code == bank_code and r.month == month]
        return [_status_row(r) for r in sorted(rows, key=lambda r: r.contract_no)]


def _registration_row(loan: Loan, ent: Enterprise) -> dict:
    guarantor = GUARANTORS[loan.guarantor_code] if loan.guarantor_code else None
    values = (
        loan.contract_no, ent.uscc, ent.name, ent.region_code, ent.industry_code, ent.employees,
        ent.revenue_10k, ent.assets_10k, "是" if ent.is_private else "否", MODE_LABELS[loan.mode], guarantor,
        loan.guarantee_contract_no, loan.guarantee_fee_rate, loan.signed_on, loan.disbursed_on,
        loan.matures_on, loan.principal, loan.rate, loan.purpose, "是",
    )
    return dict(zip(REGISTRATION_HEADERS, values, strict=True))


def _status_row(r: MonthlyReport) -> dict:
    values = (
        r.contract_no, r.month, r.balance, r.principal_repaid, r.interest_paid, r.overdue_days,
        r.classification, r.status, r.settled_on, r.cumulative_interest, r.cumulative_guarantee_fee,
    )
    return dict(zip(STATUS_HEADERS, values, strict=True))


# --------------------------------------------------------------------------- dates and money


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (a term of n months ends on it)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def _random_day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _figure(rng: random.Random, bounds: tuple[int, int]) -> Decimal:
    return (Decimal(rng.randint(bounds[0] * 100, bounds[1] * 100)) / 100).quantize(CENT)


# --------------------------------------------------------------------------- enterprises


def _covering(rng: random.Random, weights: dict[str, int], n: int) -> list[str]:
    """n draws by weight in which every key occurs at least once."""
    keys = list(weights)
    picks = keys + rng.choices(keys, weights=list(weights.values()), k=n - len(keys))
    rng.shuffle(picks)
    return picks


def _org_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714: 8 characters and a mod-11 check character)."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "MA6" + "".join(rng.choices(chars, k=5)) if rng.random() < 0.7 else f"{rng.randint(0, 99_999_999):08d}"
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def _short_region_name(code: str) -> str:
    name = next(r.name for r in region_table() if r.code == code)
    return name[:2] if name.endswith("自治州") else name.removesuffix("市")


def _enterprise(rng: random.Random, region: str, division: str, private: bool, taken: set[str]) -> Enterprise:
    spec = DIVISIONS[division]
    industry, word = rng.choice(spec.classes)
    area = rng.choice(CHENGDU_DISTRICTS) if region == "510100" else region
    uscc = name = ""
    while not uscc or uscc in taken:
        uscc = make_uscc(f"91{area}{_org_code(rng)}")
    while not name or name in taken:
        suffix = "有限责任公司" if rng.random() < 0.2 else "有限公司"
        name = f"{_short_region_name(region)}{rng.choice(TRADE_NAMES)}{word}{suffix}"
    taken.update((uscc, name))
    return Enterprise(
        uscc=uscc, name=name, region_code=region, industry_code=industry,
        employees=rng.randint(*spec.employees), revenue_10k=_figure(rng, spec.revenue),
        assets_10k=_figure(rng, spec.assets), is_private=private,
    )


def _enterprises(rng: random.Random) -> tuple[list[Enterprise], list[Enterprise]]:
    """(borrowers, applicants without a loan)."""
    n = PILOT_TARGETS.borrowers
    regions = _covering(rng, REGION_WEIGHTS, n)
    divisions = _covering(rng, {d: DIVISIONS[d].weight for d in PILOT_TARGETS.divisions}, n)
    public = set(rng.sample(range(n), n - PILOT_TARGETS.private_borrowers))
    taken: set[str] = set()
    borrowers = [_enterprise(rng, regions[i], divisions[i], i not in public, taken) for i in range(n)]
    other_regions = REGION_WEIGHTS | OTHER_APPLICANT_REGIONS
    others = []
    for _ in range(PILOT_TARGETS.applicants - n):
        region = rng.choices(list(other_regions), weights=list(other_regions.values()))[0]
        division = rng.choices(list(DIVISIONS), weights=[d.weight for d in DIVISIONS.values()])[0]
        others.append(_enterprise(rng, region, division, rng.random() < 0.92, taken))
    return borrowers, others


# --------------------------------------------------------------------------- loans


def _fit_total(rng: random.Random, amounts: list[Decimal], low: list[Decimal], target: Decimal) -> None:
    """Move amounts by 100,000 元 steps, within [low, R11 cap], until they sum to ``target``."""
    step = Decimal(100_000)
    diff = target - sum(amounts)
    while diff:
        i = rng.randrange(len(amounts))
        delta = step if diff > 0 else -step
        if low[i] <= amounts[i] + delta <= ENTERPRISE_CAP:
            amounts[i] += delta
            diff -= delta


def _enterprise_totals(
    rng: random.Random, borrowers: list[Enterprise], two: set[int], troubled: dict[int, Trouble]
) -> list[Decimal]:
    """Each borrower's total principal: troubled ones small, the rest summing to the pilot's principal."""
    totals = [Decimal(0)] * len(borrowers)
    for i in troubled:
        totals[i] = rng.choice(TROUBLE_AMOUNTS)
    rest = [i for i in range(len(borrowers)) if i not in troubled]
    raw = [rng.triangular(1.0, 10.0, 7.0) * DIVISIONS[borrowers[i].division].scale for i in rest]
    remaining = PILOT_TARGETS.principal - sum(totals)
    scale = float(remaining) / sum(raw) / 100_000
    amounts = [min(ENTERPRISE_CAP, max(Decimal(1_000_000), Decimal(round(r * scale) * 100_000))) for r in raw]
    lows = [Decimal(2_000_000) if i in two else Decimal(1_000_000) for i in rest]
    amounts = [max(a, lo) for a, lo in zip(amounts, lows, strict=True)]
    _fit_total(rng, amounts, lows, remaining)
    for i, amount in zip(rest, amounts, strict=True):
        totals[i] = amount.quantize(CENT)
    return totals


def _pick_bank(rng: random.Random, region: str, exclude: str = "") -> str:
    banks = [b for b in BANK_WEIGHTS if b != exclude and region in BANK_HOMES.get(b, (region,))]
    return rng.choices(banks, weights=[BANK_WEIGHTS[b] for b in banks])[0]


def _term(rng: random.Random, disbursed: date) -> int:
    """6–12 months, maturing on or after FIRST_MATURITY."""
    terms = [m for m in range(6, 13) if add_months(disbursed, m) >= FIRST_MATURITY]
    weights = [{6: 3, 9: 3, 12: 8}.get(m, 1) for m in terms]
    return rng.choices(terms, weights=weights)[0]


def _repayments(
    rng: random.Random, principal: Decimal, disbursed: date, term: int
) -> tuple[tuple[date, Decimal], ...]:
    """Bullet repayment at maturity; one loan in five of 9+ months also repays 30–50 % at mid-term."""
    maturity = add_months(disbursed, term)
    if term < 9 or rng.random() >= 0.2:
        return ((maturity, principal),)
    part = ((principal * rng.choice((3, 4, 5)) / 10 / 10_000).quantize(Decimal(1)) * 10_000).quantize(CENT)
    return ((month_end(add_months(disbursed, term // 2)), part), (maturity, principal - part))


def _draft(rng: random.Random, ent: Enterprise, principal: Decimal, signed_from: date, signed_to: date,
           bank: str, mode: str, term: int | None = None, trouble: Trouble | None = None) -> dict:
    signed = _random_day(rng, signed_from, signed_to)
    disbursed = signed + timedelta(days=rng.randint(0, 5))
    term = term or _term(rng, disbursed)
    guarantor = None
    if mode == "bank_guarantor":
        guarantor = "G02" if ent.region_code == "510100" and rng.random() < 0.6 else "G01"
    purposes = PURPOSES + PURPOSES_BY_DIVISION.get(ent.division, ())
    repayments = ((add_months(disbursed, term), principal),) if trouble else (
        _repayments(rng, principal, disbursed, term))
    return {
        "bank_code": bank, "uscc": ent.uscc, "mode": mode, "guarantor_code": guarantor, "signed_on": signed,
        "disbursed_on": disbursed, "matures_on": add_months(disbursed, term), "term_months": term,
        "principal": principal, "rate": PILOT_TARGETS.contract_rate, "purpose": rng.choice(purposes),
        "registered_on": disbursed + timedelta(days=rng.randint(1, 20)), "repayments": repayments,
        "trouble": trouble,
    }


def _mode(rng: random.Random) -> str:
    return "bank_guarantor" if rng.random() < GUARANTOR_SHARE else "bank"


def _borrower_drafts(rng: random.Random, borrowers: list[Enterprise]) -> list[dict]:
    n = len(borrowers)
    picks = rng.sample(range(n), len(TROUBLES) + TWO_LOAN_BORROWERS)
    troubled = dict(zip(picks[: len(TROUBLES)], TROUBLES, strict=True))
    two = set(picks[len(TROUBLES):])
    totals = _enterprise_totals(rng, borrowers, two, troubled)
    start, end = SIGNING_WINDOW
    drafts = []
    for i, ent in enumerate(borrowers):
        if t := troubled.get(i):
            drafts.append(_draft(rng, ent, totals[i], t.signed_from, t.signed_to, t.bank, t.mode, t.term_months, t))
            continue
        bank = _pick_bank(rng, ent.region_code)
        if i not in two:
            drafts.append(_draft(rng, ent, totals[i], start, end, bank, _mode(rng)))
            continue
        first = ((totals[i] * Decimal(rng.uniform(0.4, 0.7)) / 50_000).quantize(Decimal(1)) * 50_000).quantize(CENT)
        one = _draft(rng, ent, first, start, date(2021, 11, 15), bank, _mode(rng))
        later = one["signed_on"] + timedelta(days=20)
        second_bank = _pick_bank(rng, ent.region_code, exclude=bank)
        drafts += [one, _draft(rng, ent, totals[i] - first, later, min(later + timedelta(days=60), end),
                               second_bank, _mode(rng))]
    return drafts


def _fee_rate(rng: random.Random) -> Decimal:
    """1.0–2.5 % a year; a few above 2 % to exercise the R36 review flag."""
    rates = ("1.00", "1.20", "1.50", "1.80", "2.00", "2.20", "2.50")
    return Decimal(rng.choices(rates, weights=(2, 2, 4, 2, 3, 0.4, 0.4))[0])


def _number(rng: random.Random, drafts: list[dict]) -> list[Loan]:
    """Contract numbers in signing order per bank (R16) and guarantee contracts per guarantor."""
    seq: dict[str, int] = defaultdict(int)
    loans = []
    for d in sorted(drafts, key=lambda d: (d["signed_on"], d["bank_code"], d["uscc"])):
        seq[d["bank_code"]] += 1
        fee_rate, fee, g_contract = None, Decimal("0.00"), None
        if g := d["guarantor_code"]:
            seq[g] += 1
            g_contract = f"{g}-BZ-2021-{seq[g]:04d}"
            fee_rate = _fee_rate(rng)
            fee = (d["principal"] * fee_rate / 100 * d["term_months"] / 12).quantize(CENT, ROUND_HALF_UP)
        contract = f"FBD-{d['bank_code']}-2021-{seq[d['bank_code']]:05d}"
        loans.append(Loan(contract_no=contract, guarantee_contract_no=g_contract, guarantee_fee_rate=fee_rate,
                          guarantee_fee=fee, **d))
    return loans


# --------------------------------------------------------------------------- monthly status reports


def classify(overdue_days: int) -> str:
    """五级分类 by days overdue (2023 asset classification rules; 次级 beyond 90 days, R23)."""
    for limit, label in ((0, "正常"), (90, "关注"), (270, "次级"), (360, "可疑")):
        if overdue_days <= limit:
            return label
    return "损失"


def _interest(loan: Loan, first: date, stop: date) -> Decimal:
    """Interest on the day-by-day balance for the days in [first, stop)."""
    balance, total, day = loan.principal, Decimal(0), first
    for when, amount in loan.repayments:
        if when < first:
            balance -= amount
        elif when < stop:
            total += balance * (when - day).days
            balance, day = balance - amount, when
    total += balance * (stop - day).days
    return (total * loan.rate / 100 / 360).quantize(CENT, ROUND_HALF_UP)


def _month_firsts(loan: Loan) -> list[date]:
    firsts, day = [], loan.disbursed_on.replace(day=1)
    while day <= LAST_REPORT_DAY:
        firsts.append(day)
        day = add_months(day, 1)
    return firsts


def _reports(loan: Loan) -> list[MonthlyReport]:
    rows, cumulative = [], Decimal("0.00")
    t = loan.trouble
    due = (t.default_on or loan.matures_on) if t else None
    for first in _month_firsts(loan):
        last, month = month_end(first), first.strftime("%Y-%m")
        stop = min(last + timedelta(days=1), loan.matures_on)
        repaid = sum((a for d, a in loan.repayments if first <= d <= last), Decimal("0.00"))
        balance = loan.principal - sum((a for d, a in loan.repayments if d <= last), Decimal(0))
        paid = due is None or last < due  # a troubled loan pays nothing from its first unpaid due date
        interest = _interest(loan, max(first, loan.disbursed_on), stop) if paid else Decimal("0.00")
        overdue, status, settled = 0, "正常", None
        if due is not None:
            repaid, balance = Decimal("0.00"), loan.principal
            overdue = max(0, (last - due).days)
            status = "逾期" if overdue else "正常"
        elif balance == 0:
            status, settled = "结清", loan.matures_on
        cumulative += interest
        classification = classify(overdue)
        if t and t.written_off_month == month:
            balance, status, classification = Decimal("0.00"), "核销", "损失"
        rows.append(MonthlyReport(
            bank_code=loan.bank_code, contract_no=loan.contract_no, month=month, balance=balance,
            principal_repaid=repaid, interest_paid=interest, overdue_days=overdue,
            classification=classification, status=status, settled_on=settled, cumulative_interest=cumulative,
            cumulative_guarantee_fee=loan.guarantee_fee,
        ))
        if status in ("结清", "核销"):
            break
    return rows


# --------------------------------------------------------------------------- applications and build


def _applications(rng: random.Random, applicants: list[Enterprise]) -> list[Application]:
    apps = []
    for ent in applicants:
        purposes = PURPOSES + PURPOSES_BY_DIVISION.get(ent.division, ())
        apps.append(Application(
            uscc=ent.uscc, applied_on=_random_day(rng, SIGNING_WINDOW[0], date(2022, 5, 20)),
            amount=Decimal(rng.randint(5, 80) * 100_000).quantize(CENT), purpose=rng.choice(purposes),
            bank_code=_pick_bank(rng, ent.region_code),
        ))
    return sorted(apps, key=lambda a: (a.applied_on, a.uscc))


def build(seed: int = 20220528) -> PilotData:
    """The pilot's demo data, identical for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    borrowers, others = _enterprises(rng)
    loans = _number(rng, _borrower_drafts(rng, borrowers))
    enterprises = borrowers + others
    rng.shuffle(enterprises)
    return PilotData(
        enterprises=enterprises,
        loans=loans,
        monthly_reports=[row for loan in loans for row in _reports(loan)],
        applications=_applications(rng, others),
    )
