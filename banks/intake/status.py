"""Monthly status reports (月度贷款状态报告, bank-workbooks.md §2) and their cross-checks (R43).

Row checks: a month not in the future, 结清 with 结清日期 and a zero balance, 逾期 with overdue
days (and 正常 without), a settlement date not after the month's end.
Cross checks against the register: unknown or already-closed loan, a month before disbursement,
a balance above the last reported one (loans here are disbursed once), a settlement before the
disbursement, a month already reported (same figures → no-op; different → error unless the upload
is an explicit correction, which keeps the previous row).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

from django.db import connection
from django.db.models import Max

from fund.models import Loan, LoanMode, LoanStatus
from registry.bulk import bulk_insert, bulk_update_rows

from ..models import StatusReport
from . import fields as F
from .context import IntakeContext, chunks, month_end
from .issues import IssueLog
from .rows import INVALID

FIELDS = F.STATUS_FIELDS
IDX = {f.name: i for i, f in enumerate(FIELDS)}
CLOSED = (LoanStatus.SETTLED, LoanStatus.WRITTEN_OFF)
FIGURES = ("outstanding_principal", "principal_repaid", "interest_paid", "overdue_days", "classification",
           "status", "settled_on", "interest_paid_total", "guarantee_fee_paid_total")
FIGURE_LABELS = {f.name: f.header for f in FIELDS}
LOAN_COLUMNS = ("id", "contract_no", "programme_id", "disbursed_on", "principal", "status", "outstanding_principal",
                "last_report_month", "ever_overdue", "nonperforming_since", "mode", "interest_paid_total")


@dataclass(slots=True)
class LoanInfo:
    """What the checks and the state update need of a registered loan (one per row: kept small)."""

    id: int
    contract_no: str
    programme_id: int
    disbursed_on: date
    principal: Decimal
    status: str
    outstanding_principal: Decimal
    last_report_month: date | None
    ever_overdue: bool
    nonperforming_since: date | None
    mode: str
    interest_paid_total: Decimal
LOAN_STATE = ("outstanding_principal", "overdue_days", "classification", "status", "settled_on",
              "interest_paid_total", "guarantee_fee_paid_total", "last_report_month", "ever_overdue",
              "nonperforming_since")


@dataclass(slots=True)
class StatusRow:
    rowno: int
    contract_no: str
    month: date
    outstanding_principal: Decimal
    principal_repaid: Decimal
    interest_paid: Decimal
    overdue_days: int
    classification: str
    status: str
    settled_on: date | None
    interest_paid_total: Decimal
    guarantee_fee_paid_total: Decimal
    loan_id: int = 0
    supersedes_id: int | None = None
    skip: bool = False

    def figures(self) -> tuple[Any, ...]:
        return _figures_of(self)


_figures_of = attrgetter(*FIGURES)
_contract_of = attrgetter("contract_no")
_loan_and_month = attrgetter("loan_id", "month")
_CLOSED = frozenset(s.value for s in CLOSED)
_BANK_MODE = LoanMode.BANK.value
_ZERO = Decimal(0)
_SETTLED, _CURRENT, _OVERDUE = LoanStatus.SETTLED.value, LoanStatus.CURRENT.value, LoanStatus.OVERDUE.value
(_CONTRACT, _MONTH, _BALANCE, _REPAID, _INTEREST, _OVERDUE_DAYS, _CLASSIFICATION, _STATUS, _SETTLED_ON,
 _INTEREST_TOTAL, _FEE_TOTAL) = (IDX[n] for n in (
    "contract_no", "report_month", "outstanding_principal", "principal_repaid", "interest_paid", "overdue_days",
    "classification", "status", "settled_on", "interest_paid_total", "guarantee_fee_paid_total"))


@dataclass
class StatusPlan:
    rows: list[StatusRow] = field(default_factory=list)
    loans: dict[int, LoanInfo] = field(default_factory=dict)
    skipped: int = 0
    corrections: int = 0
    snapshot: Any = None


PREFETCH_MIN_BYTES = 1024 * 1024  # a smaller sheet (≈ 3,000 rows or fewer) is looked up by contract quickly
PREFETCH_BYTES_PER_ROW = 300  # sheet XML per status row, roughly (Excel ≈ 250–350, inline strings ≈ 450)
PREFETCH_LOANS_PER_ROW = 2  # read the open loans only if there are at most this many per expected row


class OpenLoans:
    """The bank's open loans in the programme, read while a large status sheet is being parsed
    (``reader.open_file(meanwhile=…)``): a monthly report lists them all, so the cross check then
    looks up by contract only the rows' contracts that are not among them (closed loans, unknown
    contracts).  Skipped for small sheets and for banks with many more open loans than the sheet
    has rows.  Used only if nothing was written since (the same ``status_snapshot``), so the
    cross check sees what its own look-up would have seen."""

    def __init__(self, ctx: IntakeContext) -> None:
        self.ctx = ctx
        self.snapshot: Any = None
        self.by_contract: dict[str, LoanInfo] | None = None

    def __call__(self, sheet_bytes: int) -> None:
        if sheet_bytes < PREFETCH_MIN_BYTES:
            return
        limit = PREFETCH_LOANS_PER_ROW * sheet_bytes // PREFETCH_BYTES_PER_ROW
        self.snapshot = status_snapshot(self.ctx)
        qs = (Loan.objects.filter(programme=self.ctx.programme, bank=self.ctx.bank)
              .exclude(status__in=CLOSED).order_by().values_list(*LOAN_COLUMNS))
        rows = list(qs[:limit + 1])
        if len(rows) <= limit:  # else far more open loans than rows: each row's contract is looked up
            self.by_contract = {values[1]: LoanInfo(*values) for values in rows}

    def take(self, snapshot: Any) -> dict[str, LoanInfo] | None:
        """Contract → open loan; None when there is no read or it is older than ``snapshot``.
        Once only (the caller keeps what it needs)."""
        by_contract, self.by_contract = self.by_contract, None
        if by_contract is None or snapshot != self.snapshot:
            return None
        return by_contract


class StatusValidator:
    def __init__(self, ctx: IntakeContext, log: IssueLog, *, labels: list[str], is_correction: bool,
                 open_loans: OpenLoans | None = None) -> None:
        self.ctx = ctx
        self.log = log
        self.labels = labels
        self.is_correction = is_correction
        self.open_loans = open_loans
        self.plan = StatusPlan()
        self.this_month = ctx.today.replace(day=1)

    def _err(self, rowno: int, name: str, message: str, value: Any = None, rule: str = "R43", level: str = "error"):
        self.log.add(level, message, row=rowno, column=self.labels[IDX[name]], value=value, rule=rule)

    # row checks ------------------------------------------------------------------------
    def check_row(self, rowno: int, v: list[Any], clean: bool = True) -> None:
        counts = self.log.counts
        errors = counts["error"]
        month, status = v[_MONTH], v[_STATUS]
        balance, settled_on, overdue = v[_BALANCE], v[_SETTLED_ON], v[_OVERDUE_DAYS]
        if month and month > self.this_month:
            self._err(rowno, "report_month", f"报告月份 {month:%Y-%m} 尚未到来", month, "")
        if status == _SETTLED:
            if settled_on is None:
                self._err(rowno, "settled_on", "贷款状态为结清时必须填写结清日期", None)
            if balance is not None and balance is not INVALID and balance != 0:
                self._err(rowno, "outstanding_principal", f"贷款状态为结清时贷款余额应为 0，实际为 {balance:,.2f}",
                          balance)
            if settled_on and month and settled_on > month_end(month):
                self._err(rowno, "settled_on", f"结清日期 {settled_on} 晚于报告月份 {month:%Y-%m} 的月末", settled_on)
        elif status is not None and status is not INVALID and settled_on:
            self._err(rowno, "settled_on", "只有结清的贷款才填写结清日期", settled_on)
        if status == _CURRENT and overdue is not None and overdue is not INVALID and overdue > 0:
            self._err(rowno, "overdue_days", f"贷款状态为正常，但逾期天数为 {overdue}；逾期的贷款状态应填“逾期”",
                      overdue)
        if status == _OVERDUE and overdue == 0:
            self._err(rowno, "overdue_days", "贷款状态为逾期时逾期天数应大于 0", overdue)
        if counts["error"] != errors or not clean:
            return
        self.plan.rows.append(StatusRow(  # positional, in the field order: rowno, contract_no, month, figures…
            rowno, v[_CONTRACT], month, balance, v[_REPAID] or _ZERO, v[_INTEREST] or _ZERO, overdue,
            v[_CLASSIFICATION], status, settled_on, v[_INTEREST_TOTAL], v[_FEE_TOTAL] or _ZERO,
        ))

    # cross checks ----------------------------------------------------------------------
    def cross_check(self, log: IssueLog) -> StatusPlan:
        self.log = log
        plan = self.plan
        plan.skipped = plan.corrections = 0
        plan.snapshot = status_snapshot(self.ctx)
        by_contract = self._registered(set(map(_contract_of, plan.rows)), plan.snapshot)
        plan.loans = loans = {}
        find = by_contract.get
        rows = []
        for row in plan.rows:
            row.skip, row.supersedes_id = False, None
            loan = find(row.contract_no)
            if loan is None:
                self._err(row.rowno, "contract_no", f"借款合同编号 {row.contract_no} 未在本项目备案，不能报送状态",
                          row.contract_no)
                continue
            loans[loan.id] = loan
            row.loan_id = loan.id
            rows.append(row)
        rows.sort(key=_loan_and_month)  # stable: rows of one loan and month stay in row order
        # Stored reports matter only for months up to the loan's latest (its last_report_month is the
        # month of its latest current report): late months and corrections, not a new month.
        back = [r for r in rows if (last := loans[r.loan_id].last_report_month) is not None and r.month <= last]
        existing = current_reports(back)
        earlier = earlier_balances(back, loans)
        previous: StatusRow | None = None
        for row in rows:
            before = previous if previous is not None and previous.loan_id == row.loan_id else None
            self._check_against_loan(row, loans[row.loan_id], before, existing, earlier)
            if not row.skip:
                previous = row
        return plan

    def _registered(self, contract_nos: set[str], snapshot: Any) -> dict[str, LoanInfo]:
        """Contract → registered loan (of this bank and programme), for at least ``contract_nos``."""
        found = self.open_loans.take(snapshot) if self.open_loans is not None else None
        if found is None:
            found, missing = {}, contract_nos
        else:
            missing = contract_nos - found.keys()
        if missing:
            found.update((loan.contract_no, loan) for loan in loans_by_contract(self.ctx, missing).values())
        return found

    def _check_against_loan(self, row: StatusRow, loan: LoanInfo, before: StatusRow | None,
                            existing: dict[tuple[int, date], tuple[int, tuple]], earlier: dict) -> None:
        month, disbursed = row.month, loan.disbursed_on
        if month < disbursed and month < disbursed.replace(day=1):
            self._err(row.rowno, "report_month", f"报告月份 {row.month:%Y-%m} 早于放款月份 "
                      f"{loan.disbursed_on:%Y-%m}", row.month)
            return
        if row.settled_on and row.settled_on < disbursed:
            self._err(row.rowno, "settled_on", f"结清日期 {row.settled_on} 早于放款日期 {loan.disbursed_on}",
                      row.settled_on)
            return
        # (the guards only skip calls that would find nothing: no earlier row, not closed, nothing stored)
        if (before is not None or loan.status in _CLOSED) and self._closed(row, loan, before):
            return
        if (before is not None or existing) and self._repeated(row, before, existing):
            return
        self._balance(row, loan, before, earlier)
        if row.guarantee_fee_paid_total > 0 and loan.mode == _BANK_MODE:
            self._err(row.rowno, "guarantee_fee_paid_total", "政银模式贷款没有担保费，累计实付担保费应为 0",
                      row.guarantee_fee_paid_total, "R36", level="warning")

    def _closed(self, row: StatusRow, loan: LoanInfo, before: StatusRow | None) -> bool:
        last = loan.last_report_month
        if before is not None and before.status in CLOSED and not before.skip:
            closed_in, label = before.month, LoanStatus(before.status).label
        elif loan.status in CLOSED and last is not None and row.month > last:
            closed_in, label = last, LoanStatus(loan.status).label
        else:
            return False
        self._err(row.rowno, "contract_no", f"借款合同编号 {row.contract_no} 已于 {closed_in:%Y-%m} 报告{label}，"
                  "不能再报送之后月份的状态", row.contract_no)
        return True

    def _repeated(self, row: StatusRow, before: StatusRow | None,
                  existing: dict[tuple[int, date], tuple[int, tuple]]) -> bool:
        """Same loan and month again: in this file, or already stored."""
        if before is not None and before.month == row.month:
            if before.figures() == row.figures():
                row.skip = True
                self.plan.skipped += 1
                self._err(row.rowno, "report_month", f"与本文件第 {before.rowno} 行重复，未重复计入", row.month,
                          level="info")
            else:
                self._err(row.rowno, "report_month", f"借款合同编号 {row.contract_no} 的 {row.month:%Y-%m} 状态在本文件"
                          f"第 {before.rowno} 行已出现且数据不同", row.month)
            return True
        stored = existing.get((row.loan_id, row.month))
        if stored is None:
            return False
        report_id, figures = stored
        if figures == row.figures():
            row.skip = True
            self.plan.skipped += 1
            self._err(row.rowno, "report_month", f"{row.month:%Y-%m} 的状态已报送，数据相同，未重复计入", row.month,
                      level="info")
            return True
        changed = "、".join(FIGURE_LABELS[n] for n, a, b in zip(FIGURES, figures, row.figures(), strict=True) if a != b)
        if not self.is_correction:
            self._err(row.rowno, "report_month", f"{row.month:%Y-%m} 的状态已报送且数据不同（{changed}）；"
                      "如需更正，请勾选“更正报送”后重新上传", row.month)
            return True
        row.supersedes_id = report_id
        self.plan.corrections += 1
        self._err(row.rowno, "report_month", f"更正 {row.month:%Y-%m} 的状态（{changed}），原报送数据已保留",
                  row.month, level="info")
        return False

    def _balance(self, row: StatusRow, loan: LoanInfo, before: StatusRow | None, earlier: dict) -> None:
        last = loan.last_report_month
        if before is not None:
            previous, when = before.outstanding_principal, before.month
        elif last is None:
            previous, when = loan.principal, None
        elif row.month > last:
            previous, when = loan.outstanding_principal, last
        else:  # a month at or before the loan's latest: from the stored reports
            previous, when = earlier.get((row.loan_id, row.month), (loan.principal, None))
        if row.outstanding_principal > previous:
            if before is not None:
                source = f"本文件 {before.month:%Y-%m}"
            else:
                source = f"{when:%Y-%m} 报告" if when else "贷款金额"
            self._err(row.rowno, "outstanding_principal", f"贷款余额 {row.outstanding_principal:,.2f} 元高于{source}的"
                      f" {previous:,.2f} 元；本项目贷款一次放款，余额不应增加", row.outstanding_principal)
        if before is None and last is not None and row.month > last and \
                row.interest_paid_total < loan.interest_paid_total:
            self._err(row.rowno, "interest_paid_total", f"累计实付利息 {row.interest_paid_total:,.2f} 元少于上次报告的 "
                      f"{loan.interest_paid_total:,.2f} 元，请核对", row.interest_paid_total, "R35", level="warning")


# --------------------------------------------------------------------------- reads


def loans_by_contract(ctx: IntakeContext, contract_nos: set[str]) -> dict[int, LoanInfo]:
    """The bank's loans of this programme among ``contract_nos`` (by the (bank, contract) key's
    index; the programme is compared here so no database picks a worse index)."""
    loans: dict[int, LoanInfo] = {}
    programme_id = ctx.programme.pk
    for chunk in chunks(sorted(contract_nos)):
        qs = Loan.objects.filter(bank=ctx.bank, contract_no__any_of=chunk).order_by()
        for values in qs.values_list(*LOAN_COLUMNS):
            if values[2] == programme_id:
                loans[values[0]] = LoanInfo(*values)
    return loans


def current_reports(rows: list[StatusRow]) -> dict[tuple[int, date], tuple[int, tuple]]:
    """Stored current reports for the (loan, month) pairs of ``rows``: → (report id, figures)."""
    months = {r.month for r in rows}
    found: dict[tuple[int, date], tuple[int, tuple]] = {}
    for chunk in chunks(sorted({r.loan_id for r in rows})):
        qs = StatusReport.objects.filter(loan_id__any_of=chunk, month__in=months, is_current=True).order_by()
        for values in qs.values_list("id", "loan_id", "month", *FIGURES):
            found[(values[1], values[2])] = (values[0], tuple(values[3:]))
    return found


def earlier_balances(rows: list[StatusRow], loans: dict[int, LoanInfo]) -> dict[tuple[int, date], tuple]:
    """(loan, month) → (balance, month) of the latest stored report before that month, for the rows
    that go back in time (a month at or before the loan's latest: late months and corrections),
    in one query.  Other rows take it from the loan's latest state (``_balance``)."""
    result: dict[tuple[int, date], tuple] = {}
    back: list[StatusRow] = []
    for row in rows:
        last = loans[row.loan_id].last_report_month
        if last is not None and row.month <= last:
            back.append(row)
    if back:
        history: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        latest = max(r.month for r in back)
        for chunk in chunks(sorted({r.loan_id for r in back})):
            qs = StatusReport.objects.filter(loan_id__any_of=chunk, month__lt=latest, is_current=True)
            for loan_id, month, balance in qs.values_list("loan_id", "month", "outstanding_principal"):
                history[loan_id].append((month, balance))
        for row in back:
            prior = [h for h in history[row.loan_id] if h[0] < row.month]
            result[(row.loan_id, row.month)] = (
                (max(prior)[1], max(prior)[0]) if prior else (loans[row.loan_id].principal, None)
            )
    return result


def status_snapshot(ctx: IntakeContext) -> tuple[Any, Any]:
    """Changes when reports or loans are added anywhere (two index-only look-ups): a cross check
    older than this is redone inside the apply lock."""
    return (
        StatusReport.objects.aggregate(m=Max("id"))["m"],
        Loan.objects.aggregate(m=Max("id"))["m"],
    )


# --------------------------------------------------------------------------- writes


def nonperforming_start(month: date, overdue_days: int, threshold: int) -> date | None:
    """R23/R24: the first day the loan was overdue more than ``threshold`` days, from a month-end
    figure: month end − (overdue days − threshold − 1)."""
    if overdue_days <= threshold:
        return None
    return month_end(month) - timedelta(days=overdue_days - threshold - 1)


_STATUS_AT = LOAN_STATE.index("status")


def _new_state(loan: LoanInfo, rows: list[StatusRow] | tuple[StatusRow, ...], ctx: IntakeContext) -> tuple[Any, ...]:
    """The loan's new state: all of LOAN_STATE (when a row is its latest month), else only
    (ever_overdue, nonperforming_since)."""
    latest = rows[0] if len(rows) == 1 else max(rows, key=_month_of)
    ever, since = loan.ever_overdue, loan.nonperforming_since
    for r in rows:
        if r.overdue_days:
            ever = True
            params = ctx.params_on(month_end(r.month))
            start = nonperforming_start(r.month, r.overdue_days, params.claim_overdue_days if params else 90)
            if start and (since is None or start < since):
                since = start
        elif r.status == _OVERDUE:
            ever = True
    last = loan.last_report_month
    if last is None or latest.month >= last:
        return (latest.outstanding_principal, latest.overdue_days, latest.classification, latest.status,
                latest.settled_on, latest.interest_paid_total, latest.guarantee_fee_paid_total, latest.month,
                ever, since)
    return (ever, since)


_month_of = attrgetter("month")
_REPORT_HEAD = attrgetter("loan_id", "month", *FIGURES)


def apply_status(plan: StatusPlan, *, ctx: IntakeContext, batch_id: Any,
                 timings: dict[str, float] | None = None) -> dict[str, Any]:
    """Store the reports (corrections keep the previous row) and update each loan's latest state."""
    started = time.perf_counter()
    rows = [r for r in plan.rows if not r.skip and r.loan_id]
    corrected = [(r.supersedes_id, False) for r in rows if r.supersedes_id]
    bulk_update_rows(StatusReport, ["is_current"], corrected)
    batch = str(batch_id)  # as text: psycopg's UUID dumper is Python code, called per row
    bulk_insert(StatusReport, ["loan_id", "month", *FIGURES, "batch_id", "is_correction", "is_current",
                               "supersedes_id"], (
        (*_REPORT_HEAD(r), batch, r.supersedes_id is not None, True, r.supersedes_id) for r in rows
    ))
    reports_stored = time.perf_counter()
    first: dict[int, StatusRow] = {}  # loan → its first row; the (rare) loans with several rows also in `several`
    several: dict[int, list[StatusRow]] = {}
    for r in rows:
        seen = first.setdefault(r.loan_id, r)
        if seen is not r:
            several.setdefault(r.loan_id, [seen]).append(r)
    loans = plan.loans
    corrected_loans = {r.loan_id for r in rows if r.supersedes_id}
    from_reports = _state_from_report(first, several, corrected_loans, loans)
    states = {loan_id: _new_state(loans[loan_id], several.get(loan_id) or (row,), ctx)
              for loan_id, row in first.items() if loan_id not in from_reports}
    if corrected:
        _recompute_history(states, corrected_loans, ctx)
    settled = []
    for loan_id, row in first.items():
        state = states.get(loan_id)  # None: its one row is its new state
        status = row.status if state is None else (state[_STATUS_AT] if len(state) > _STATUS_AT else None)
        if status == _SETTLED and (loans[loan_id].status != _SETTLED or loan_id in corrected_loans):
            settled.append(loan_id)
    states_computed = time.perf_counter()
    _write_states(states)
    if from_reports:
        _write_states_from_reports(batch, first.keys() - from_reports, {first[i].month for i in from_reports}, ctx,
                                   expected=len(from_reports))
    if timings is not None:
        timings.update(apply_reports=round(reports_stored - started, 3),
                       apply_states=round(states_computed - reports_stored, 3),
                       apply_loans=round(time.perf_counter() - states_computed, 3))
    return {
        "reports_created": len(rows), "corrections": len(corrected), "skipped": plan.skipped,
        "loans_updated": len(first), "settled": len(settled), "settled_loan_ids": settled,
    }


FROM_REPORTS_MAX_OTHERS = 1000  # loans of the batch left to the Python path, listed in the UPDATE


def _state_from_report(first: dict[int, StatusRow], several: dict[int, list[StatusRow]], corrected: set[int],
                       loans: dict[int, LoanInfo]) -> set[int]:
    """PostgreSQL: the loans whose new state is simply their one row of this batch (not a late
    month, not a correction) — nearly all of a monthly report.  :func:`_write_states_from_reports`
    sets them in one UPDATE from the reports just stored, instead of sending every loan's state
    again; the others go through :func:`_new_state`.  Empty elsewhere (and when the others are many)."""
    if connection.vendor != "postgresql":
        return set()
    simple = set()
    for loan_id, row in first.items():
        if loan_id in several or loan_id in corrected:
            continue
        last = loans[loan_id].last_report_month
        if last is None or row.month >= last:
            simple.add(loan_id)
    return simple if len(first) - len(simple) <= FROM_REPORTS_MAX_OTHERS else set()


def _write_states_from_reports(batch: str, others: set[int] | Any, months: set[date], ctx: IntakeContext, *,
                               expected: int) -> None:
    """``_new_state`` for a loan with one row, in SQL: the row's figures and month become the loan's
    latest state; ever overdue if it was or the row is; the non-performing start (R23) is the
    earlier of the loan's and the row's (month end − (overdue days − threshold − 1), the threshold
    of the parameter set in force at the month's end)."""
    qn = connection.ops.quote_name
    col = {f.attname: qn(f.column) for f in Loan._meta.concrete_fields}
    rep = {f.attname: qn(f.column) for f in StatusReport._meta.concrete_fields}
    copied = ("outstanding_principal", "overdue_days", "classification", "status", "settled_on", "interest_paid_total",
              "guarantee_fee_paid_total")
    thresholds, params = [], []
    for month in sorted(months):
        found = ctx.params_on(month_end(month))
        thresholds.append("(%s::date, %s::date, %s::integer)")
        params += [month, month_end(month), found.claim_overdue_days if found else 90]
    since, overdue, days = col["nonperforming_since"], rep["overdue_days"], "r." + rep["overdue_days"]
    sql = (
        f"UPDATE {qn(Loan._meta.db_table)} AS t SET "  # noqa: S608 (quoted model names)
        + ", ".join(f"{col[n]} = r.{rep[n]}" for n in copied)
        + f", {col['last_report_month']} = r.{rep['month']}"
        + f", {col['ever_overdue']} = t.{col['ever_overdue']} OR r.{overdue} > 0 OR r.{rep['status']} = %s"
        + f", {since} = CASE WHEN {days} > 0 AND {days} > m.threshold"
          f" THEN LEAST(t.{since}, m.month_end - ({days} - m.threshold - 1)) ELSE t.{since} END"
        + f" FROM {qn(StatusReport._meta.db_table)} AS r"
        + f" JOIN (VALUES {', '.join(thresholds)}) AS m (month, month_end, threshold) ON m.month = r.{rep['month']}"
        + f" WHERE r.{rep['batch_id']} = %s AND r.{rep['is_current']} AND t.{col['id']} = r.{rep['loan_id']}"
        + f" AND r.{rep['loan_id']} <> ALL(string_to_array(%s, ',')::bigint[])"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_OVERDUE, *params, batch, ",".join(map(str, sorted(others)))])
        if cursor.rowcount != expected:  # every such loan has exactly one stored row of this batch
            raise RuntimeError(f"status apply: {cursor.rowcount} loans updated from their reports, {expected} expected")


def _recompute_history(states: dict[int, tuple], loan_ids: set[int], ctx: IntakeContext) -> None:
    """After a correction: the latest state, ever-overdue and non-performing start from all current reports."""
    history: dict[int, list[tuple]] = defaultdict(list)
    for chunk in chunks(sorted(loan_ids)):
        qs = StatusReport.objects.filter(loan_id__any_of=chunk, is_current=True).order_by("month")
        for values in qs.values_list("loan_id", "month", *FIGURES):
            history[values[0]].append(values[1:])
    overdue_at, status_at = 1 + FIGURES.index("overdue_days"), 1 + FIGURES.index("status")
    for loan_id, reports in history.items():
        month, *figures = reports[-1]
        latest = dict(zip(FIGURES, figures, strict=True))
        starts = []
        for r in reports:
            params = ctx.params_on(month_end(r[0]))
            start = nonperforming_start(r[0], r[overdue_at], params.claim_overdue_days if params else 90)
            if start:
                starts.append(start)
        states[loan_id] = (
            *(latest[n] for n in LOAN_STATE[:7]), month,
            any(r[overdue_at] > 0 or r[status_at] == LoanStatus.OVERDUE for r in reports),
            min(starts) if starts else None,
        )


def _write_states(states: dict[int, tuple]) -> None:
    full = [(pk, *state) for pk, state in states.items() if len(state) == len(LOAN_STATE)]
    flags = [(pk, *state) for pk, state in states.items() if len(state) != len(LOAN_STATE)]
    bulk_update_rows(Loan, list(LOAN_STATE), full)
    bulk_update_rows(Loan, ["ever_overdue", "nonperforming_since"], flags)
