"""Loan registration (贷款备案, bank-workbooks.md §1): every rule on every row, then the
cross-row and cross-bank checks, then — only for a clean batch — the bulk writes.

Row checks (no database beyond the :class:`IntakeContext`): R6 credit code and 市(州), R7 size
class, R8 service industry, R9 attestation, R12 rate cap, R13 term, R14 purpose, R15 registration
deadline, R21 guarantor fields, date order, principal > 0.
Cross checks (a few chunked queries): R16 same contract (identical → skipped, different →
error), R11 per-enterprise calendar-year cap across banks, enterprise name against earlier
records (warning).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import mul
from typing import Any

from django.db.models import Max, Sum
from django.db.models.functions import ExtractYear

from fund.models import CooperationState, Loan, LoanMode, LoanStatus
from registry import rules
from registry.bulk import bulk_insert, bulk_update_rows, reserve_ids
from registry.models import Enterprise

from . import fields as F
from .context import IntakeContext, chunks
from .issues import IssueLog
from .rows import INVALID

FIELDS = F.REGISTRATION_FIELDS
IDX = {f.name: i for i, f in enumerate(FIELDS)}
FORBIDDEN_PURPOSES = (
    "借新还旧", "还旧借新", "还款", "还贷", "偿还贷款", "归还贷款", "转贷", "房地产", "购房", "股票", "证券",
    "期货", "理财", "消费",
)
_FORBIDDEN = re.compile("|".join(FORBIDDEN_PURPOSES))
CENT = Decimal("0.01")
ROW_NAMES = ("contract_no", "credit_code", "enterprise_name", "region", "industry_code", "employees", "revenue_10k",
             "assets_10k", "is_private", "mode", "guarantor", "guarantee_contract_no", "guarantee_fee_rate",
             "signed_on", "disbursed_on", "matures_on", "principal", "annual_rate", "purpose", "credit_attested")
assert tuple(f.name for f in FIELDS) == ROW_NAMES, "check_row unpacks the fields in this order"  # noqa: S101
R16_COMPARED = (
    ("credit_code", "统一社会信用代码"), ("principal", "贷款金额(元)"), ("signed_on", "合同签订日期"),
    ("disbursed_on", "放款日期"), ("matures_on", "到期日期"), ("annual_rate", "年利率(%)"),
    ("mode", "担保模式"), ("guarantor_id", "担保机构"), ("guarantee_contract_no", "担保合同编号"),
    ("guarantee_fee_rate", "担保费率(%)"), ("purpose", "贷款用途"),
)


@dataclass(slots=True)
class RegRow:
    """A row that passed every row check, in the shape the writes need."""

    rowno: int
    contract_no: str
    credit_code: str
    name: str
    region: str
    industry_code: str
    division: str
    employees: int | None
    revenue: Decimal | None
    assets: Decimal | None
    size_class: str
    is_private: bool
    mode: str
    guarantor_id: int | None
    guarantee_contract_no: str
    guarantee_fee_rate: Decimal | None
    signed_on: date
    disbursed_on: date
    matures_on: date
    principal: Decimal
    annual_rate: Decimal
    purpose: str
    late_reason: str
    cap: Decimal
    skip: bool = False

    def compared(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name, _ in R16_COMPARED}


@dataclass
class RegistrationPlan:
    rows: list[RegRow] = field(default_factory=list)
    creates: dict[str, RegRow] = field(default_factory=dict)  # credit code → the row whose inputs it gets
    updates: dict[int, RegRow] = field(default_factory=dict)  # enterprise id → row
    enterprise_ids: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    snapshot: Any = None


class RegistrationValidator:
    """Checks registration rows; ``log`` gets every finding."""

    def __init__(self, ctx: IntakeContext, log: IssueLog, *, labels: list[str], override_reason: str) -> None:
        self.ctx = ctx
        self.log = log
        self.labels = labels
        self.override_reason = override_reason.strip()
        self.plan = RegistrationPlan()

    # helpers ---------------------------------------------------------------------------
    def _err(self, rowno: int, name: str, message: str, value: Any = None, rule: str = "", level: str = "error"):
        self.log.add(level, message, row=rowno, column=self.labels[IDX[name]], value=value, rule=rule)

    # row checks ------------------------------------------------------------------------
    def check_row(self, rowno: int, v: list[Any], clean: bool = True) -> None:
        """Every rule that one row can be judged on alone; a passing row joins the plan.

        (Written for speed: 100,000 rows go through here; the common case stays inline, the
        error messages live in the helpers.)"""
        (contract, code, name, region, industry_text, employees, revenue, assets, is_private, mode,
         guarantor, guarantee_no, fee, signed, disbursed, matures, principal, rate, purpose, attested) = v
        ctx, log = self.ctx, self.log
        errors = log.counts["error"]
        params = ctx.params_on(signed or None)
        if params is None:
            self._err(rowno, "signed_on", f"项目在 {signed or ctx.today} 没有生效的参数集，无法审核", signed)
            return
        code = self._credit_code(rowno, code, params)
        region = self._region(rowno, region)
        industry = self._industry(rowno, industry_text, params)
        size = self._size(rowno, employees, revenue, assets, industry, params) if industry else None
        guarantor_id = None
        if mode != LoanMode.BANK or guarantor is not None or guarantee_no is not None or fee is not None:
            guarantor_id = self._guarantee(rowno, mode, guarantor, guarantee_no, fee)
        if signed and disbursed and matures:
            if not (signed <= disbursed < matures <= ctx.add_months(disbursed, params.max_term_months)) \
                    or disbursed > ctx.today:
                self._dates(rowno, signed, disbursed, matures, params)
        else:
            self._dates(rowno, signed, disbursed, matures, params)
        if signed and not (ctx.programme.start_date <= signed <= ctx.programme.end_date):
            self._outside_programme(rowno, signed)
        late_reason = ""
        if disbursed and (ctx.today - disbursed).days > params.registration_days:
            late_reason = self._deadline(rowno, disbursed, params)
        if principal is not None and principal is not INVALID and principal <= 0:
            self._err(rowno, "principal", "贷款金额应大于 0", principal, "R11")
        if rate is not None and rate is not INVALID:
            rate = self._rate(rowno, rate, signed, params)
        if purpose and _FORBIDDEN.search(purpose):
            self._purpose(rowno, purpose)
        if attested is False:
            self._err(rowno, "credit_attested", "信用承诺须为“是”：银行须承诺借款企业无严重失信记录（R9）",
                      "否", "R9")
        if log.counts["error"] != errors or not clean:
            return
        self.plan.rows.append(RegRow(
            rowno, contract, code, name, region, industry.code, industry.division, employees, revenue, assets,
            size, is_private, mode, guarantor_id, guarantee_no or "", _two_places(fee), signed, disbursed,
            matures, principal, rate, purpose, late_reason, params.enterprise_annual_cap,
        ))

    def _credit_code(self, rowno: int, value: Any, params) -> str | None:
        if not value:
            return None
        if uscc_is_valid(value, accept_individual_business=params.accept_individual_business):
            return value
        try:
            return rules.validate_uscc(value, accept_individual_business=params.accept_individual_business)
        except rules.RuleError as exc:
            self._err(rowno, "credit_code", exc.message, value, "R6")
            return None

    def _region(self, rowno: int, value: Any) -> str | None:
        if not value:
            return None
        try:
            return self.ctx.region(value)
        except rules.RuleError as exc:
            self._err(rowno, "region", exc.message + "（R6）", value, "R6")
            return None

    def _industry(self, rowno: int, value: Any, params) -> rules.IndustryCode | None:
        if not value:
            return None
        try:
            industry = self.ctx.industry(value)
        except rules.RuleError as exc:
            self._err(rowno, "industry_code", exc.message, value, "R8")
            return None
        problem = self.ctx.service_problem(industry, self.ctx.excluded(params))
        if problem:
            self._err(rowno, "industry_code", problem, value, "R8")
            return None
        return industry

    def _size(self, rowno: int, employees: Any, revenue: Any, assets: Any, industry: rules.IndustryCode,
              params) -> str | None:
        if employees is INVALID or revenue is INVALID or assets is INVALID:
            return None
        try:
            size = self.ctx.size_class(industry, employees, revenue, assets)
        except rules.RuleError as exc:
            self._err(rowno, "employees", exc.message, employees, "R7")
            return None
        if size == "large" or (size == "medium" and not params.allow_medium):
            allowed = "小型、微型或中型" if params.allow_medium else "小型或微型"
            self._err(rowno, "employees", f"按 2011 年中小企业划型标准，该企业为{rules.SIZE_LABELS[size]}企业，"
                      f"本计划只支持{allowed}企业（R7）", employees, "R7")
            return None
        return size

    def _guarantee(self, rowno: int, mode: Any, name: Any, contract: Any, fee: Any) -> int | None:
        if mode == LoanMode.BANK:
            for key, value in (("guarantor", name), ("guarantee_contract_no", contract),
                               ("guarantee_fee_rate", fee)):
                if value is not None and value is not INVALID:
                    self._err(rowno, key, f"政银模式不应填写{F.REGISTRATION_FIELDS[IDX[key]].header}；"
                              "如有担保机构参与，担保模式应为政银担（R21）", value, "R21")
            return None
        if mode != LoanMode.BANK_GUARANTOR:
            return None
        for key, value in (("guarantor", name), ("guarantee_contract_no", contract), ("guarantee_fee_rate", fee)):
            if value is None:
                self._err(rowno, key, f"政银担模式必须填写{F.REGISTRATION_FIELDS[IDX[key]].header}（R21）", None, "R21")
        if not name:
            return None
        found = self.ctx.guarantor(name)
        if found is None:
            self._err(rowno, "guarantor", f"“{name}”不是本项目的合作担保机构（R21）", name, "R21")
            return None
        guarantor_id, state, full_name = found
        if state != CooperationState.ACTIVE:
            self._err(rowno, "guarantor", f"担保机构“{full_name}”目前{CooperationState(state).label}，"
                      "不能新增政银担备案（R32）", name, "R32")
            return None
        return guarantor_id

    def _dates(self, rowno: int, signed: Any, disbursed: Any, matures: Any, params) -> None:
        if signed and disbursed and signed > disbursed:
            self._err(rowno, "disbursed_on", f"放款日期 {disbursed} 早于合同签订日期 {signed}", disbursed)
        if disbursed and matures and matures <= disbursed:
            self._err(rowno, "matures_on", f"到期日期 {matures} 应晚于放款日期 {disbursed}", matures)
        elif disbursed and matures and matures > self.ctx.add_months(disbursed, params.max_term_months):
            self._err(rowno, "matures_on", f"贷款期限超过 {params.max_term_months} 个月：放款 {disbursed}，"
                      f"到期 {matures}（R13）", matures, "R13")
        if disbursed and disbursed > self.ctx.today:
            self._err(rowno, "disbursed_on", f"放款日期 {disbursed} 晚于今天，尚未放款的贷款不能备案", disbursed)

    def _outside_programme(self, rowno: int, signed: date) -> None:
        programme = self.ctx.programme
        self._err(rowno, "signed_on", f"合同签订日期 {signed} 不在项目期 {programme.start_date} 至 "
                  f"{programme.end_date} 内，请确认", signed, level="warning")

    def _deadline(self, rowno: int, disbursed: Any, params) -> str:
        if not disbursed or disbursed > self.ctx.today:
            return ""
        days = (self.ctx.today - disbursed).days
        if days <= params.registration_days:
            return ""
        if self.override_reason:
            self._err(rowno, "disbursed_on", f"放款后 {days} 天才备案，超过 {params.registration_days} 天期限，"
                      f"已按特批理由接受：{self.override_reason}（R15）", disbursed, "R15", level="warning")
            return self.override_reason
        self._err(rowno, "disbursed_on", f"放款后 {days} 天才备案，超过 {params.registration_days} 天期限；"
                  "逾期备案须由财政经办人员填写特批理由后提交（R15）", disbursed, "R15")
        return ""

    def _rate(self, rowno: int, rate: Decimal, signed: Any, params) -> Decimal | None:
        if signed:
            try:
                cap = self.ctx.rate_cap(signed, params.rate_cap_bp)
            except rules.RuleError as exc:
                self._err(rowno, "annual_rate", exc.message, rate, "R12")
                return None
            if rate > cap:
                lpr = cap - Decimal(params.rate_cap_bp) / 100
                self._err(rowno, "annual_rate", f"年利率 {rate.normalize():f}% 超过上限 {cap}%（签订日 {signed} "
                          f"一年期 LPR {lpr}% 加 {params.rate_cap_bp} 个基点，R12）", rate, "R12")
                return None
        rounded = rate.quantize(CENT, rounding=ROUND_HALF_UP)
        if rounded != rate:
            self._err(rowno, "annual_rate", f"年利率 {rate.normalize():f}% 按两位小数登记为 {rounded}%", rate,
                      level="warning")
        return rounded

    def _purpose(self, rowno: int, purpose: str) -> None:
        hit = _FORBIDDEN.search(purpose).group(0)
        if hit:
            self._err(rowno, "purpose", f"贷款用途含“{hit}”：按 R14，贷款只能用于流动资金或经营周转，不得用于"
                      "偿还其他债务、转贷、证券、房地产或消费", purpose, "R14")

    # cross checks ----------------------------------------------------------------------
    def cross_check(self, log: IssueLog) -> RegistrationPlan:
        """R16, R11 and name consistency against the database and the batch; findings go to ``log``."""
        self.log = log
        plan = self.plan
        for row in plan.rows:
            row.skip = False
        plan.skipped = 0
        plan.snapshot = registration_snapshot(self.ctx)
        self._duplicates(plan)
        enterprises = self._enterprises(plan)
        self._annual_cap(plan, {e["id"]: code for code, e in enterprises.items()})
        self._enterprise_plan(plan, enterprises)
        return plan

    def _duplicates(self, plan: RegistrationPlan) -> None:
        existing = existing_loans(self.ctx, [r.contract_no for r in plan.rows])
        seen: dict[str, RegRow] = {}
        for row in plan.rows:
            earlier = seen.get(row.contract_no)
            known = existing.get(row.contract_no)
            reference = known if known is not None else (earlier.compared() if earlier else None)
            if reference is None:
                seen[row.contract_no] = row
                continue
            diff = [label for name, label in R16_COMPARED if reference.get(name) != getattr(row, name)]
            where = "已备案" if known is not None else f"在本文件第 {earlier.rowno} 行已出现"
            if known is not None and known["programme_id"] != self.ctx.programme.pk:
                self._err(row.rowno, "contract_no", f"借款合同编号 {row.contract_no} 已在其他项目备案（R16）",
                          row.contract_no, "R16")
            elif diff:
                self._err(row.rowno, "contract_no", f"借款合同编号 {row.contract_no} {where}，但以下内容不同："
                          f"{'、'.join(diff)}；同一合同不能以不同内容重复备案（R16）", row.contract_no, "R16")
            else:
                row.skip = True
                plan.skipped += 1
                self._err(row.rowno, "contract_no", f"已备案，未重复计入（借款合同编号 {row.contract_no}，R16）",
                          row.contract_no, "R16", level="info")

    def _enterprises(self, plan: RegistrationPlan) -> dict[str, dict[str, Any]]:
        codes = {r.credit_code for r in plan.rows if not r.skip}
        found: dict[str, dict[str, Any]] = {}
        columns = ("id", "credit_code", "name", "region_id", "industry_code", "industry_id", "employees",
                   "revenue_10k", "assets_10k", "size_class", "is_private")
        for chunk in chunks(sorted(codes)):
            for values in Enterprise.objects.filter(credit_code__any_of=chunk).values_list(*columns):
                found[values[1]] = dict(zip(columns, values, strict=True))
        names: dict[str, str] = {code: e["name"] for code, e in found.items()}
        for row in plan.rows:
            if row.skip:
                continue
            earlier = names.setdefault(row.credit_code, row.name)
            if earlier != row.name and rules.normalize_text(earlier) != rules.normalize_text(row.name):
                self._err(row.rowno, "enterprise_name", f"企业名称“{row.name}”与该统一社会信用代码此前的记录"
                          f"“{earlier}”不一致，请核对", row.name, "R6", level="warning")
        return found

    def _annual_cap(self, plan: RegistrationPlan, codes_by_id: dict[int, str]) -> None:
        rows = [r for r in plan.rows if not r.skip]
        totals = annual_totals(self.ctx, codes_by_id)
        running: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
        for row in rows:
            key = (row.credit_code, row.signed_on.year)
            running[key] += row.principal
            total = totals.get(key, Decimal(0)) + running[key]
            if total > row.cap:
                self._err(row.rowno, "principal", f"企业 {row.credit_code} 在 {key[1]} 年的本项目贷款合计将达 "
                          f"{total:,.2f} 元（各合作银行已备案 {totals.get(key, Decimal(0)):,.2f} 元），超过单户年度"
                          f"上限 {row.cap:,.2f} 元（R11）", row.principal, "R11")

    def _enterprise_plan(self, plan: RegistrationPlan, found: dict[str, dict[str, Any]]) -> None:
        plan.creates, plan.updates, plan.enterprise_ids = {}, {}, {}
        for row in plan.rows:
            if row.skip:
                continue
            existing = found.get(row.credit_code)
            if existing is None:
                plan.creates.setdefault(row.credit_code, row)
                continue
            plan.enterprise_ids[row.credit_code] = existing["id"]
            if _enterprise_values(row) != {k: existing[k] for k in ENTERPRISE_INPUTS}:
                plan.updates[existing["id"]] = row
            else:
                plan.updates.pop(existing["id"], None)


ENTERPRISE_INPUTS = ("region_id", "industry_code", "industry_id", "employees", "revenue_10k", "assets_10k",
                     "size_class", "is_private")


def _enterprise_tuple(row: RegRow) -> tuple[Any, ...]:
    """The row's enterprise inputs in ENTERPRISE_INPUTS order."""
    return (row.region, row.industry_code, row.division, row.employees, row.revenue, row.assets, row.size_class,
            row.is_private)


def _enterprise_values(row: RegRow) -> dict[str, Any]:
    return dict(zip(ENTERPRISE_INPUTS, _enterprise_tuple(row), strict=True))


_USCC_VALUES = {char: i for i, char in enumerate(rules.USCC_CHARSET)}


def uscc_is_valid(code: str, *, accept_individual_business: bool) -> bool:
    """Fast yes for an already-normalised, valid credit code (the same answer as
    ``rules.validate_uscc`` — tested); a no sends the caller to ``validate_uscc`` for the reason."""
    if len(code) != 18 or code[0] != "9" or code[1] not in ("12" if accept_individual_business else "1"):
        return False
    try:
        values = [_USCC_VALUES[char] for char in code[:17]]
    except KeyError:
        return False
    total = sum(map(mul, values, rules.USCC_WEIGHTS))
    return code[17] == rules.USCC_CHARSET[(31 - total % 31) % 31]


def _two_places(value: Decimal | None) -> Decimal | None:
    if value is None or value is INVALID:
        return None
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- reads


def existing_loans(ctx: IntakeContext, contract_nos: list[str]) -> dict[str, dict[str, Any]]:
    """The bank's registered loans among ``contract_nos``, in the R16 comparison shape."""
    columns = ("contract_no", "programme_id", "enterprise__credit_code", "principal", "signed_on",
               "disbursed_on", "matures_on", "annual_rate", "mode", "guarantor_id", "guarantee_contract_no",
               "guarantee_fee_rate", "purpose")
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(sorted(set(contract_nos))):
        qs = Loan.objects.filter(bank=ctx.bank, contract_no__any_of=chunk)
        for values in qs.values_list(*columns):
            record = dict(zip(columns, values, strict=True))
            record["credit_code"] = record.pop("enterprise__credit_code")
            found[record["contract_no"]] = record
    return found


def annual_totals(ctx: IntakeContext, codes_by_id: dict[int, str]) -> dict[tuple[str, int], Decimal]:
    """R11: principal already registered in this programme per (credit code, signing year), across
    all banks, for the enterprises already in the register (by their index; programme compared here)."""
    totals: dict[tuple[str, int], Decimal] = {}
    programme_id = ctx.programme.pk
    for chunk in chunks(sorted(codes_by_id)):
        rows = (
            Loan.objects.filter(enterprise_id__any_of=chunk)
            .annotate(year=ExtractYear("signed_on"))
            .values_list("enterprise_id", "programme_id", "year")
            .annotate(total=Sum("principal"))
            .order_by()
        )
        for enterprise_id, loan_programme, year, total in rows:
            if loan_programme == programme_id:
                totals[(codes_by_id[enterprise_id], year)] = total
    return totals


def registration_snapshot(ctx: IntakeContext) -> tuple[Any, Any]:
    """Changes when loans or enterprises are added: a cross check older than this is re-done."""
    return (
        Loan.objects.aggregate(m=Max("id"))["m"],
        Enterprise.objects.aggregate(m=Max("id"))["m"],
    )


# --------------------------------------------------------------------------- writes


def apply_registration(plan: RegistrationPlan, *, ctx: IntakeContext, batch_id: str, actor_id: int | None) -> dict:
    """Create and update enterprises, create loans: bulk writes in chunks; caller holds the transaction."""
    ids = dict(plan.enterprise_ids)
    if plan.creates:
        columns = ["credit_code", "name", *ENTERPRISE_INPUTS]
        reserved = reserve_ids(Enterprise, len(plan.creates))
        if reserved is not None:  # PostgreSQL: copy the rows in with their ids
            ids.update(zip(plan.creates, reserved, strict=True))
            bulk_insert(Enterprise, ["id", *columns], (
                (ids[code], code, row.name, *_enterprise_tuple(row)) for code, row in plan.creates.items()
            ))
        else:
            bulk_insert(Enterprise, columns, (
                (code, row.name, *_enterprise_tuple(row)) for code, row in plan.creates.items()
            ))
            for chunk in chunks(plan.creates):
                ids.update(Enterprise.objects.filter(credit_code__any_of=chunk).values_list("credit_code", "id"))
    if plan.updates:
        bulk_update_rows(Enterprise, list(ENTERPRISE_INPUTS),
                         [(pk, *_enterprise_tuple(row)) for pk, row in plan.updates.items()])
    rows = [r for r in plan.rows if not r.skip]
    loan_columns = [
        "programme_id", "bank_id", "contract_no", "enterprise_id", "enterprise_name", "mode", "guarantor_id",
        "guarantee_contract_no", "guarantee_fee_rate", "signed_on", "disbursed_on", "matures_on", "principal",
        "annual_rate", "purpose", "credit_attested", "registered_by_id", "late_override_reason", "source_batch",
        "outstanding_principal", "overdue_days", "classification", "status", "interest_paid_total",
        "guarantee_fee_paid_total", "ever_overdue",
    ]
    programme_id, bank_id = ctx.programme.pk, ctx.bank.pk
    bulk_insert(Loan, loan_columns, (
        (programme_id, bank_id, r.contract_no, ids[r.credit_code], r.name, r.mode, r.guarantor_id,
         r.guarantee_contract_no, r.guarantee_fee_rate, r.signed_on, r.disbursed_on, r.matures_on, r.principal,
         r.annual_rate, r.purpose, True, actor_id, r.late_reason, batch_id, r.principal, 0, "normal",
         LoanStatus.CURRENT, Decimal(0), Decimal(0), False)
        for r in rows
    ))
    return {
        "loans_created": len(rows), "skipped": plan.skipped, "enterprises_created": len(plan.creates),
        "enterprises_updated": len(plan.updates), "principal_total": f"{sum((r.principal for r in rows), Decimal(0)):.2f}",
    }
