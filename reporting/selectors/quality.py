"""Bank data quality per bank per month (R42), for staff.

For each partner bank and each report month M:
- expected: the bank's loans disbursed by the end of M and not closed (结清/核销) in an earlier month;
- reported: of those, loans with a status report for M; on time: reported in a batch uploaded
  by the 10th of M+1 (``rules.report_due_date``); late = reported − on time; missing =
  expected − reported;
- rows rejected: rows with an error in the bank's batches uploaded during M (registrations and
  status reports); corrections: status-report rows for M sent as corrections;
- document completeness: of the bank's claims submitted during M, how many had every required
  document (R25) when looked at.
Shown beside the bank's leverage (R4) and overdue rate as of the page's date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q

from banks.models import IntakeBatch, IssueLevel, StatusReport
from fund.models import Loan, LoanStatus, Programme
from fund.models.claims import Claim, ClaimDocument
from fund.rules import required_document_kinds
from fund.selectors.leverage import leverage_by_bank
from fund.selectors.programme import parameters_in_force

from .. import rules


@dataclass
class MonthQuality:
    month: date
    expected: int = 0
    reported: int = 0
    on_time: int = 0
    corrections: int = 0
    rows_rejected: int = 0
    batches: int = 0
    claims_submitted: int = 0
    claims_complete: int = 0

    @property
    def late(self) -> int:
        return max(self.reported - self.on_time, 0)

    @property
    def missing(self) -> int:
        return max(self.expected - self.reported, 0)

    @property
    def on_time_rate(self) -> Decimal | None:
        return rules.percent(self.on_time, self.expected)

    @property
    def completeness_rate(self) -> Decimal | None:
        return rules.percent(self.claims_complete, self.claims_submitted)

    @property
    def due_on(self) -> date:
        return rules.report_due_date(self.month)


@dataclass
class BankQuality:
    bank_id: int
    code: str
    name: str
    leverage: Decimal | None = None
    leverage_target: Decimal | None = None
    overdue_rate: Decimal | None = None
    months: list[MonthQuality] = field(default_factory=list)

    @property
    def totals(self) -> MonthQuality:
        total = MonthQuality(month=self.months[-1].month if self.months else date.min)
        for m in self.months:
            for name in ("expected", "reported", "on_time", "corrections", "rows_rejected", "batches",
                         "claims_submitted", "claims_complete"):
                setattr(total, name, getattr(total, name) + getattr(m, name))
        return total


def report_months(*, programme: Programme, as_of: date, count: int = 12) -> list[date]:
    """The last ``count`` complete report months up to ``as_of`` (not before the programme start)."""
    months: list[date] = []
    month = rules.month_start(as_of)
    if rules.month_end(as_of) != as_of:
        month = rules.month_start(month - dt.timedelta(days=1))
    while len(months) < count and month >= rules.month_start(programme.start_date):
        months.append(month)
        month = rules.month_start(month - dt.timedelta(days=1))
    return sorted(months)


def _due_datetime(month: date) -> dt.datetime:
    due = rules.report_due_date(month) + dt.timedelta(days=1)
    return dt.datetime(due.year, due.month, due.day, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _closed_before(month: date) -> Q:
    return Q(status__in=(LoanStatus.SETTLED, LoanStatus.WRITTEN_OFF), last_report_month__lt=month)


def bank_quality(*, programme: Programme, as_of: date, months: list[date] | None = None,
                 overdue_rates: dict[str, Decimal | None] | None = None) -> list[BankQuality]:
    months = months or report_months(programme=programme, as_of=as_of)
    levs = {b.partnership.bank_id: b for b in leverage_by_bank(programme=programme, as_of=as_of)}
    banks = {
        b.partnership.bank_id: BankQuality(bank_id=b.partnership.bank_id, code=b.bank.code, name=b.bank.name,
                                           leverage=b.figures.multiple, leverage_target=b.figures.target_multiple)
        for b in levs.values()
    }
    grid: dict[tuple[int, date], MonthQuality] = defaultdict(lambda: MonthQuality(month=date.min))
    for bank_id in banks:
        for m in months:
            grid[(bank_id, m)] = MonthQuality(month=m)
    loans = Loan.objects.filter(programme=programme)
    expected = loans.values("bank_id").annotate(**{
        f"m{i}": Count("pk", filter=Q(disbursed_on__lte=rules.month_end(m)) & ~_closed_before(m))
        for i, m in enumerate(months)
    }).order_by()
    for row in expected:
        for i, m in enumerate(months):
            if (row["bank_id"], m) in grid:
                grid[(row["bank_id"], m)].expected = row[f"m{i}"]
    for m in months:
        reports = (
            StatusReport.objects.filter(loan__programme=programme, month=m).values("loan__bank_id")
            .annotate(reported=Count("loan_id", distinct=True),
                      on_time=Count("loan_id", distinct=True, filter=Q(batch__uploaded_at__lt=_due_datetime(m))),
                      corrections=Count("pk", filter=Q(is_correction=True)))
            .order_by()
        )
        for row in reports:
            cell = grid.get((row["loan__bank_id"], m))
            if cell is not None:
                cell.reported, cell.on_time, cell.corrections = row["reported"], row["on_time"], row["corrections"]
    _add_batches(grid, programme=programme, months=months)
    _add_claims(grid, programme=programme, months=months, as_of=as_of)
    for bank_id, bank in banks.items():
        bank.months = [grid[(bank_id, m)] for m in months]
        if overdue_rates is not None:
            bank.overdue_rate = overdue_rates.get(bank.code)
    return sorted(banks.values(), key=lambda b: b.code)


def _month_of(moment: dt.datetime) -> date:
    local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    return date(local.year, local.month, 1)


def _add_batches(grid, *, programme: Programme, months: list[date]) -> None:
    start = dt.datetime.combine(months[0], dt.time(), tzinfo=ZoneInfo(settings.TIME_ZONE))
    end = dt.datetime.combine(rules.month_end(months[-1]) + dt.timedelta(days=1), dt.time(),
                              tzinfo=ZoneInfo(settings.TIME_ZONE))
    batches = IntakeBatch.objects.filter(programme=programme, uploaded_at__gte=start, uploaded_at__lt=end).only(
        "bank_id", "uploaded_at", "issues")
    for batch in batches.iterator():
        cell = grid.get((batch.bank_id, _month_of(batch.uploaded_at)))
        if cell is None:
            continue
        cell.batches += 1
        rows = {(i.get("sheet"), i.get("row")) for i in (batch.issues or [])
                if i.get("level") == IssueLevel.ERROR and i.get("row") is not None}
        cell.rows_rejected += len(rows)


def _add_claims(grid, *, programme: Programme, months: list[date], as_of: date) -> None:
    require_court = parameters_in_force(programme=programme, on=as_of).require_court_notice
    claims = list(Claim.objects.filter(programme=programme, submitted_at__isnull=False)
                  .values("pk", "loan__bank_id", "loan__mode", "submitted_at"))
    kinds: dict[int, set[str]] = defaultdict(set)
    for claim_id, kind in ClaimDocument.objects.filter(claim__in=[c["pk"] for c in claims]).values_list(
            "claim_id", "kind"):
        kinds[claim_id].add(kind)
    for c in claims:
        cell = grid.get((c["loan__bank_id"], _month_of(c["submitted_at"])))
        if cell is None:
            continue
        cell.claims_submitted += 1
        required = set(required_document_kinds(mode=c["loan__mode"], require_court_notice=require_court))
        if required <= kinds[c["pk"]]:
            cell.claims_complete += 1
