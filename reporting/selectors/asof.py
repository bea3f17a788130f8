"""Per-loan expressions "as of a cut-off date" (R40), for aggregate queries over ``fund.Loan``.

A loan counts when it was signed on or before the cut-off.  Its state (balance, days overdue,
classification, status, settlement date) is the one of its latest current status report whose
month is on or before the cut-off month (``banks.StatusReport``).  When the loan's latest
reported month is already on or before the cut-off month, the loan's own latest-state fields
are that report, so the SQL reads them directly (``CASE`` short-circuits the correlated
subquery); only loans reported after the cut-off month look the older report up.  A loan with
no report by then is in its registration state (balance = principal, 正常).

The effective rate after subsidies (R35, R40) is contract rate − share × reference rate:
- settled by the cut-off, never overdue and never compensated: the parameter set and the
  reference rate in force on the settlement date (default the 1-year LPR then);
- still open, never overdue and never compensated: projected with the parameter set and
  reference rate in force on the cut-off date;
- ever overdue, compensated, written off or overdue now: the contract rate (no subsidy, R28/R35).
The guarantee-fee subsidy (R36) does not lower the rate; the cap (R35) is not applied to the rate.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from banks.models import StatusReport
from fund.models import (
    NON_PERFORMING,
    Classification,
    Loan,
    LoanStatus,
    ParameterSet,
    Programme,
    ReferenceRate,
)
from fund.models.claims import COMPENSATED_STATUSES, Claim
from registry.selectors import lpr_rows

from ..rules import month_start

RATE_OUT = DecimalField(max_digits=20, decimal_places=8)
MONEY_OUT = DecimalField(max_digits=24, decimal_places=2)
WEIGHTED_OUT = DecimalField(max_digits=30, decimal_places=8)
ZERO_RATE = Value(Decimal("0"), output_field=RATE_OUT)


def _reports_until(cutoff_month: date):
    return StatusReport.objects.filter(loan=OuterRef("pk"), is_current=True, month__lte=cutoff_month)


def has_stale_loans(*, programme: Programme, as_of: date) -> bool:
    """Whether any loan signed by ``as_of`` was reported after the cut-off month (a past snapshot)."""
    return Loan.objects.filter(programme=programme, signed_on__lte=as_of,
                               last_report_month__gt=month_start(as_of)).exists()


def state_annotations(*, as_of: date, stale: bool = True) -> dict:
    """``s_*`` annotations: the loan's state as of ``as_of`` (see the module docstring).

    With ``stale=False`` (no loan was reported after the cut-off month) the loan's own latest
    state is the state as of the cut-off, and the expressions are plain columns: no correlated
    subquery, so PostgreSQL may scan in parallel.
    """
    if not stale:
        return {
            "s_outstanding": F("outstanding_principal"), "s_overdue_days": F("overdue_days"),
            "s_classification": F("classification"), "s_status": F("status"), "s_settled_on": F("settled_on"),
            "s_ever_overdue": F("ever_overdue"),
        }
    cutoff_month = month_start(as_of)
    fresh = Q(last_report_month__isnull=True) | Q(last_report_month__lte=cutoff_month)
    latest = _reports_until(cutoff_month).order_by("-month", "-id")

    def pick(field: str, default, output):
        return Case(
            When(fresh, then=F(field)),
            default=Coalesce(Subquery(latest.values(field)[:1]), default, output_field=output),
            output_field=output,
        )

    overdue_report = _reports_until(cutoff_month).filter(
        Q(overdue_days__gt=0) | Q(status__in=(LoanStatus.OVERDUE, LoanStatus.WRITTEN_OFF))
    )
    return {
        "s_outstanding": pick("outstanding_principal", F("principal"), MONEY_OUT),
        "s_overdue_days": pick("overdue_days", Value(0), IntegerField()),
        "s_classification": pick("classification", Value(Classification.NORMAL), CharField()),
        "s_status": pick("status", Value(LoanStatus.CURRENT), CharField()),
        "s_settled_on": Case(
            When(fresh, then=F("settled_on")), default=Subquery(latest.values("settled_on")[:1]),
        ),
        "s_ever_overdue": Case(
            When(fresh, then=F("ever_overdue")), default=Exists(overdue_report), output_field=BooleanField(),
        ),
    }


def compensated_loan_ids(*, programme: Programme, as_of: date):
    """Loans whose claim was approved (and possibly paid) by ``as_of``: never subsidised (R28).

    A list when there are few (the usual case: a literal list keeps the loan scan parallel-safe),
    else a subquery.
    """
    qs = Claim.objects.filter(
        programme=programme, status__in=COMPENSATED_STATUSES, approved_at__date__lte=as_of
    ).values_list("loan_id", flat=True)
    ids = list(qs[:5001])
    return ids if len(ids) <= 5000 else qs


def _lpr_window(rows, *, start: date, end: date):
    """The LPR rows that can be in force between ``start`` and ``end`` (the one in force at ``start`` and later)."""
    before = [r for r in rows if r[0] <= start]
    return tuple(before[-1:] + [r for r in rows if start < r[0] <= end])


def _lpr_case(field: str, rows: tuple[tuple[date, Decimal], ...]):
    """The 1-year LPR in force on the date in ``field`` (a CASE over the effective-dated table)."""
    whens = [When(**{f"{field}__gte": start}, then=Value(rate)) for start, rate in reversed(rows)]
    return Case(*whens, default=ZERO_RATE, output_field=RATE_OUT)


def _lpr_on(day: date, rows) -> Decimal:
    rate = Decimal("0")
    for start, value in rows:
        if start <= day:
            rate = value
    return rate


def _subsidy_expr(params: ParameterSet, *, date_field: str | None, as_of: date, rows):
    """share × reference rate under one parameter set; ``date_field`` None means projected to ``as_of``."""
    share = Value(params.interest_subsidy_percent / Decimal(100), output_field=RATE_OUT)
    kind = params.interest_reference_rate
    if kind == ReferenceRate.CONTRACT:
        reference = F("annual_rate")
    elif kind == ReferenceRate.LPR_AT_SIGNING:
        reference = _lpr_case("signed_on", rows)
    elif date_field is None:
        reference = Value(_lpr_on(as_of, rows), output_field=RATE_OUT)
    else:
        reference = _lpr_case(date_field, rows)
    return ExpressionWrapper(share * reference, output_field=RATE_OUT)


def subsidy_rate_annotation(*, programme: Programme, as_of: date) -> Case:
    """``s_subsidy_rate``: the interest-subsidy rate (percentage points) to subtract from the contract rate."""
    first_signed = Loan.objects.filter(programme=programme).order_by("signed_on").values_list(
        "signed_on", flat=True).first() or programme.start_date
    rows = _lpr_window(lpr_rows(), start=min(first_signed, programme.start_date), end=as_of)
    sets = list(ParameterSet.objects.filter(programme=programme).order_by("effective_from"))
    compensated = compensated_loan_ids(programme=programme, as_of=as_of)
    eligible = Q(s_ever_overdue=False)
    if not isinstance(compensated, list) or compensated:
        eligible &= ~Q(pk__in=compensated)
    in_force = [p for p in sets if p.effective_from <= as_of]
    if not in_force:
        return ZERO_RATE
    if len(in_force) == 1:
        settled = _subsidy_expr(in_force[0], date_field="s_settled_on", as_of=as_of, rows=rows)
    else:
        settled = Case(
            *[When(s_settled_on__gte=p.effective_from,
                   then=_subsidy_expr(p, date_field="s_settled_on", as_of=as_of, rows=rows))
              for p in reversed(in_force)],
            default=ZERO_RATE, output_field=RATE_OUT,
        )
    projected = _subsidy_expr(in_force[-1], date_field=None, as_of=as_of, rows=rows)
    return Case(
        When(eligible & Q(s_status=LoanStatus.SETTLED, s_settled_on__lte=as_of), then=settled),
        When(eligible & Q(s_status=LoanStatus.CURRENT), then=projected),
        When(eligible & Q(s_status=LoanStatus.SETTLED), then=projected),
        default=ZERO_RATE, output_field=RATE_OUT,
    )


OPEN = ~Q(s_status__in=(LoanStatus.SETTLED, LoanStatus.WRITTEN_OFF))
OVERDUE = OPEN & (Q(s_status=LoanStatus.OVERDUE) | Q(s_overdue_days__gt=0))
NONPERFORMING = OPEN & Q(s_classification__in=NON_PERFORMING)
