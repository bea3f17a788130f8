"""The R40 indicators over the live data, overall and by every dimension, as of a cut-off date.

Every figure comes from aggregate queries, never a Python loop over loans:
- the loan figures: on PostgreSQL two statements run side by side (``grouping.py``); elsewhere
  (the portable path) one query over loans grouped by the borrower's (市(州), industry division,
  size, private flag) — each enterprise has exactly one such cell, so its distinct-enterprise
  counts add up to the overall, 市(州), section, division and size figures in Python — and one
  query each grouped by bank, mode and signing month (distinct counts per group);
- one query each for applicants, claims, recoveries and subsidies at the full grain, added
  up in Python (those tables are small);
- leverage (R4) from ``fund.selectors.leverage`` given the principal disbursed per bank (added up with the
  loan figures on PostgreSQL, ``fund.selectors.leverage.disbursed_by_bank`` elsewhere), the pool
  balance (R2) from ``fund.selectors``.
All in one transaction (REPEATABLE READ on PostgreSQL when it is ours to start).
Definitions: docs/statistics.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth

from fund.models import Loan, LoanMode, Partnership, Programme
from fund.models.claims import Claim, Recovery
from fund.selectors.ledger import pool_balance
from fund.selectors.leverage import disbursed_by_bank, leverage_by_bank, leverage_overall
from fund.selectors.programme import parameters_in_force
from registry.models import Bank, Enterprise, IndustryDivision, IndustrySection, Region, SizeClass
from subsidies.models import LoanApplication, Subsidy, SubsidyKind

from .. import rules
from . import grouping
from .asof import (
    MONEY_OUT,
    NONPERFORMING,
    OVERDUE,
    WEIGHTED_OUT,
    has_stale_loans,
    state_annotations,
    subsidy_rate_annotation,
)

DIMENSIONS = ("overall", "region", "section", "division", "bank", "mode", "month", "size")
ENTERPRISE_DIMENSIONS = ("overall", "region", "section", "division", "size")
ALL = "all"

# Paths from Loan to each dimension's key.
LOAN_PATHS = {
    "region": "enterprise__region_id",
    "division": "enterprise__industry_id",
    "section": "enterprise__industry__section_id",
    "size": "enterprise__size_class",
    "bank": "bank_id",
    "mode": "mode",
}


@dataclass(frozen=True)
class Filters:
    """The staff dashboard's filters; empty means no filter."""

    region: str = ""
    section: str = ""
    division: str = ""
    bank_id: int | None = None
    mode: str = ""

    def q(self, prefix: str = "") -> Q:
        q = Q()
        for name, value in (("region", self.region), ("section", self.section), ("division", self.division),
                            ("bank", self.bank_id), ("mode", self.mode)):
            if value:
                q &= Q(**{prefix + LOAN_PATHS[name]: value})
        return q

    @property
    def is_empty(self) -> bool:
        return not (self.region or self.section or self.division or self.bank_id or self.mode)

    def as_params(self) -> dict[str, Any]:
        return {k: v for k, v in (("region", self.region), ("section", self.section), ("division", self.division),
                                   ("bank", self.bank_id), ("mode", self.mode)) if v}


NO_FILTERS = Filters()


def loans_as_of(*, programme: Programme, as_of: date, filters: Filters = NO_FILTERS, stale: bool | None = None
                ) -> QuerySet[Loan]:
    """Loans signed by ``as_of`` with their state then (``s_*``) and their interest-subsidy rate.

    ``stale``: whether any of these loans was reported after the cut-off month (looked up when None).
    """
    if stale is None:
        stale = has_stale_loans(programme=programme, as_of=as_of)
    return (
        Loan.objects.filter(programme=programme, signed_on__lte=as_of)
        .filter(filters.q())
        .annotate(**state_annotations(as_of=as_of, stale=stale))
        .annotate(s_subsidy_rate=subsidy_rate_annotation(programme=programme, as_of=as_of))
    )


def _loan_sums(with_private: bool = False) -> dict:
    sums = {
        "loans": Count("pk"),
        "principal_sum": Sum("principal"),
        "outstanding": Sum("s_outstanding", output_field=MONEY_OUT),
        "overdue": Sum(Case(When(OVERDUE, then=F("s_outstanding")), default=Value(0), output_field=MONEY_OUT)),
        "npl": Sum(Case(When(NONPERFORMING, then=F("s_outstanding")), default=Value(0), output_field=MONEY_OUT)),
        "rate_x": Sum(F("principal") * F("annual_rate"), output_field=WEIGHTED_OUT),
        "eff_x": Sum(F("principal") * (F("annual_rate") - F("s_subsidy_rate")), output_field=WEIGHTED_OUT),
        "borrowers": Count("enterprise_id", distinct=True),
    }
    if with_private:
        sums["private_borrowers"] = Count("enterprise_id", distinct=True, filter=Q(enterprise__is_private=True))
    return sums


LOAN_SUM_FIELDS = ("loans", "principal_sum", "outstanding", "overdue", "npl", "rate_x", "eff_x", "borrowers",
                   "private_borrowers")
CLAIM_FIELDS = ("claims_filed", "claims_filed_amount", "claims_paid", "claims_paid_amount")
RECOVERY_FIELDS = ("recoveries", "recoveries_gross", "recoveries_net", "refunds_to_pool")
SUBSIDY_FIELDS = ("subsidies_approved", "subsidies_approved_amount", "subsidies_paid", "subsidies_paid_amount",
                  "interest_subsidies_paid_amount", "fee_subsidies_paid_amount")


def _fine_keys(prefix: str = "") -> dict:
    """The full grain of the small tables (claims, recoveries, subsidies), as ``k_*`` aliases."""
    return {
        "k_region": F(prefix + "enterprise__region_id"),
        "k_division": F(prefix + "enterprise__industry_id"),
        "k_size": F(prefix + "enterprise__size_class"),
        "k_private": F(prefix + "enterprise__is_private"),
        "k_bank": F(prefix + "bank_id"),
        "k_mode": F(prefix + "mode"),
        "k_month": TruncMonth(prefix + "signed_on"),
    }


def _unalias(rows: Iterable[dict]) -> list[dict]:
    """``k_region`` → ``region`` … (aliases avoid clashing with model field names)."""
    return [{(k[2:] if k.startswith("k_") else k): v for k, v in row.items()} for row in rows]


@dataclass
class Labels:
    """Names of the keys of every dimension."""

    regions: dict[str, str] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)
    divisions: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (section, name)
    banks: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (code, name)

    @classmethod
    def load(cls) -> Labels:
        return cls(
            regions=dict(Region.objects.values_list("code", "name")),
            sections=dict(IndustrySection.objects.values_list("code", "name")),
            divisions={c: (s, n) for c, s, n in IndustryDivision.objects.values_list("code", "section_id", "name")},
            banks={i: (c, n) for i, c, n in Bank.objects.values_list("id", "code", "name")},
        )

    def section_of(self, division: str | None) -> str | None:
        return self.divisions.get(division, (None, ""))[0] if division else None


def _month_key(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value[:7]
    return rules.month_key(value)


def _key_fn(dimension: str, labels: Labels):
    if dimension == "overall":
        return lambda r: ALL
    if dimension == "section":
        return lambda r: labels.section_of(r.get("division"))
    if dimension == "month":
        return lambda r: _month_key(r.get("month"))
    return lambda r: r.get(dimension)


def _rollup_all(rows: list[dict], dims: Iterable[str], labels: Labels, sums: tuple[str, ...]) -> dict:
    return {d: rules.rollup(rows, key=_key_fn(d, labels), sums=sums) for d in dims}


def _loan_figures_grouped(*, programme: Programme, as_of: date, filters: Filters, labels: Labels
                          ) -> tuple[dict[str, dict], dict[int, Decimal]]:
    """PostgreSQL: the same figures from two statements run side by side (``grouping.py``), and the
    principal disbursed by ``as_of`` per bank (for the leverage, R4) from the same scan.

    The sums first assume that no loan was reported after the cut-off month (the loans' own state
    columns are then their state as of the cut-off, ``asof.state_annotations``); the scan checks
    it, and when a loan was, the sums run again with the look-up of the older report.
    """
    light = Loan.objects.filter(programme=programme, signed_on__lte=as_of).filter(filters.q())
    first = light.order_by("signed_on").values_list("signed_on", flat=True).first() or as_of
    cutoff = rules.month_start(as_of)
    masks = grouping.BorrowerMasks(light, bank_ids=sorted(labels.banks), modes=list(LoanMode.values),
                                   first=first, last=as_of)

    def sums(stale: bool) -> grouping.Statement:
        qs = loans_as_of(programme=programme, as_of=as_of, filters=filters, stale=stale)
        return grouping.sums_statement(qs, first=first, last=as_of, as_of=as_of, cutoff_month=cutoff)

    with grouping.tuned():
        rows = grouping.run_together({"masks": masks.statement(), "sums": sums(False)})
        if any(r["stale"] for r in rows["sums"]):
            rows.update(grouping.run_together({"sums": sums(True)}))
    counts = masks.decode(rows["masks"])
    ent, loan_rows = [], []
    for row in rows["sums"]:
        if row["g_ent"] != 0:
            row["month"] = grouping.month_of(row["month"])
            loan_rows.append(row)
            continue
        key = (row["region"], row["division"], row["size"], bool(row["private"]))
        found = counts.cells.get(key, {})
        ent.append({"region": key[0], "division": key[1], "size": key[2], "private": key[3],
                    **{f: row[f] for f in grouping.SUM_FIELDS},
                    "borrowers": found.get("borrowers", 0), "private_borrowers": found.get("private_borrowers", 0)})
    out = _rollup_all(ent, ENTERPRISE_DIMENSIONS, labels, LOAN_SUM_FIELDS)
    for dim in ("bank", "mode", "month"):
        key_of = _key_fn(dim, labels)
        out[dim] = rules.rollup(loan_rows, key=key_of, sums=grouping.SUM_FIELDS)
        for acc in out[dim].values():
            acc.update(borrowers=0, private_borrowers=0)
        for value, found in counts.by_dim[dim].items():
            acc = out[dim].get(key_of({dim: value}))
            if acc is not None:
                acc.update(borrowers=found["borrowers"], private_borrowers=found["private_borrowers"])
    disbursed: dict[int, Decimal] = {}
    for row in loan_rows:
        disbursed[row["bank"]] = disbursed.get(row["bank"], rules.ZERO) + row["principal_sum"] - (row["undisbursed"] or 0)
    return out, disbursed


def _loan_figures(qs: QuerySet[Loan], labels: Labels) -> dict[str, dict]:
    """Portable: one query over the enterprise cells, one each by bank, mode and month."""
    fine = _unalias(
        qs.values(k_region=F("enterprise__region_id"), k_division=F("enterprise__industry_id"),
                  k_size=F("enterprise__size_class"), k_private=F("enterprise__is_private"))
        .annotate(**_loan_sums()).order_by()
    )
    for row in fine:
        row["private_borrowers"] = row["borrowers"] if row["private"] else 0
    out = _rollup_all(fine, ENTERPRISE_DIMENSIONS, labels, LOAN_SUM_FIELDS)
    by_loan = {"bank": F("bank_id"), "mode": F("mode"), "month": TruncMonth("signed_on")}
    for dim, expr in by_loan.items():
        rows = list(qs.values(k=expr).annotate(**_loan_sums(with_private=True)).order_by())
        for row in rows:
            row[dim] = row.pop("k")
        out[dim] = rules.rollup(rows, key=_key_fn(dim, labels), sums=LOAN_SUM_FIELDS)
    return out


def _applicant_ids(*, programme: Programme, as_of: date) -> QuerySet:
    """Enterprises that applied (R40): a loan application by ``as_of`` (local date) or a loan signed
    by then — ``subsidies.selectors.applicant_enterprise_ids``'s definition, as a query (used by the
    tests to check that both agree)."""
    applied = LoanApplication.objects.filter(programme=programme, created_at__date__lte=as_of).values("enterprise_id")
    borrowed = Loan.objects.filter(programme=programme, signed_on__lte=as_of).values("enterprise_id")
    return Enterprise.objects.filter(Q(pk__in=applied) | Q(pk__in=borrowed)).values("pk")


def _applied_only_figures(*, programme: Programme, as_of: date, filters: Filters, labels: Labels) -> dict:
    """Enterprises that applied by ``as_of`` but have no loan signed by then, per enterprise cell.

    Applicants = enterprises with loans + these (each enterprise once): the loans side is already
    counted exactly, and applications are few, so this never scans the loans but by index.
    """
    borrowed = Loan.objects.filter(programme=programme, signed_on__lte=as_of, enterprise=OuterRef("enterprise"))
    apps = LoanApplication.objects.filter(programme=programme, created_at__date__lte=as_of).filter(~Exists(borrowed))
    for name, value in (("region_id", filters.region), ("industry_id", filters.division),
                        ("industry__section_id", filters.section)):
        if value:
            apps = apps.filter(**{f"enterprise__{name}": value})
    rows = _unalias(
        apps.values(k_region=F("enterprise__region_id"), k_division=F("enterprise__industry_id"),
                    k_size=F("enterprise__size_class"))
        .annotate(applied_only=Count("enterprise_id", distinct=True)).order_by()
    )
    return _rollup_all(rows, ENTERPRISE_DIMENSIONS, labels, ("applied_only",))


def _claim_figures(*, programme: Programme, as_of: date, filters: Filters, labels: Labels) -> dict:
    filed = Q(submitted_at__isnull=False, claim_date__lte=as_of)
    paid = Q(paid_on__isnull=False, paid_on__lte=as_of)
    rows = _unalias(
        Claim.objects.filter(programme=programme, loan__signed_on__lte=as_of).filter(filters.q("loan__"))
        .values(**_fine_keys("loan__"))
        .annotate(
            claims_filed=Count("pk", filter=filed),
            claims_filed_amount=Sum(Coalesce("claim_amount", "unpaid_principal"), filter=filed),
            claims_paid=Count("pk", filter=paid),
            claims_paid_amount=Sum("paid_amount", filter=paid),
        ).order_by()
    )
    return _rollup_all(rows, DIMENSIONS, labels, CLAIM_FIELDS)


def _recovery_figures(*, programme: Programme, as_of: date, filters: Filters, labels: Labels) -> dict:
    received = Q(refund_received_on__isnull=False, refund_received_on__lte=as_of)
    rows = _unalias(
        Recovery.objects.filter(claim__programme=programme, recovered_on__lte=as_of)
        .filter(filters.q("claim__loan__"))
        .values(**_fine_keys("claim__loan__"))
        .annotate(
            recoveries=Count("pk"), recoveries_gross=Sum("gross_amount"), recoveries_net=Sum("net_amount"),
            refunds_to_pool=Sum("refund_due", filter=received),
        ).order_by()
    )
    return _rollup_all(rows, DIMENSIONS, labels, RECOVERY_FIELDS)


def _subsidy_figures(*, programme: Programme, as_of: date, filters: Filters, labels: Labels) -> dict:
    approved = Q(approved_at__isnull=False, approved_at__date__lte=as_of)
    paid = Q(paid_on__isnull=False, paid_on__lte=as_of)
    rows = _unalias(
        Subsidy.objects.filter(programme=programme, loan__signed_on__lte=as_of).filter(filters.q("loan__"))
        .values(**_fine_keys("loan__"))
        .annotate(
            subsidies_approved=Count("pk", filter=approved),
            subsidies_approved_amount=Sum("amount", filter=approved),
            subsidies_paid=Count("pk", filter=paid),
            subsidies_paid_amount=Sum("amount", filter=paid),
            interest_subsidies_paid_amount=Sum("amount", filter=paid & Q(kind=SubsidyKind.INTEREST)),
            fee_subsidies_paid_amount=Sum("amount", filter=paid & Q(kind=SubsidyKind.GUARANTEE_FEE)),
        ).order_by()
    )
    return _rollup_all(rows, DIMENSIONS, labels, SUBSIDY_FIELDS)


def _count(value) -> int:
    return int(value or 0)


def row_metrics(loans: dict | None, others: dict) -> dict[str, Any]:
    """The published metrics of one cell from its added-up sums (see docs/statistics.md)."""
    loans = loans or {}
    principal = rules.money(loans.get("principal_sum"))
    outstanding = rules.money(loans.get("outstanding"))
    overdue = rules.money(loans.get("overdue"))
    npl = rules.money(loans.get("npl"))
    borrowers = _count(loans.get("borrowers"))
    private = _count(loans.get("private_borrowers"))
    paid_amount = rules.money(others.get("claims_paid_amount"))
    metrics: dict[str, Any] = {
        "applicants": None if others.get("applicants") is None else _count(others["applicants"]),
        "borrowers": borrowers,
        "private_borrowers": private,
        "private_share": rules.percent(private, borrowers),
        "loans": _count(loans.get("loans")),
        "principal": principal,
        "outstanding_principal": outstanding,
        "avg_rate": rules.weighted_rate(loans.get("rate_x"), principal),
        "effective_rate": rules.weighted_rate(loans.get("eff_x"), principal),
        "overdue_principal": overdue,
        "overdue_rate": rules.percent(overdue, outstanding),
        "npl_principal": npl,
        "npl_rate": rules.percent(npl, outstanding),
        "claims_filed": _count(others.get("claims_filed")),
        "claims_filed_amount": rules.money(others.get("claims_filed_amount")),
        "claims_paid": _count(others.get("claims_paid")),
        "claims_paid_amount": paid_amount,
        "compensation_rate": rules.percent(paid_amount, principal),
        "recoveries": _count(others.get("recoveries")),
        "recoveries_gross": rules.money(others.get("recoveries_gross")),
        "recoveries_net": rules.money(others.get("recoveries_net")),
        "refunds_to_pool": rules.money(others.get("refunds_to_pool")),
        "subsidies_approved": _count(others.get("subsidies_approved")),
        "subsidies_approved_amount": rules.money(others.get("subsidies_approved_amount")),
        "subsidies_paid": _count(others.get("subsidies_paid")),
        "subsidies_paid_amount": rules.money(others.get("subsidies_paid_amount")),
        "interest_subsidies_paid_amount": rules.money(others.get("interest_subsidies_paid_amount")),
        "fee_subsidies_paid_amount": rules.money(others.get("fee_subsidies_paid_amount")),
    }
    return metrics


def _name(dimension: str, key, labels: Labels) -> tuple[str, str | None]:
    """(display name, parent key) of a key."""
    if dimension == "overall":
        return "合计", None
    if dimension == "region":
        return labels.regions.get(key, str(key)), None
    if dimension == "section":
        return f"{key} {labels.sections.get(key, '')}".strip(), None
    if dimension == "division":
        section, name = labels.divisions.get(key, ("", ""))
        return f"{key} {name}".strip(), section
    if dimension == "bank":
        return labels.banks.get(key, ("", str(key)))[1], None
    if dimension == "mode":
        return str(LoanMode(key).label) if key in LoanMode.values else str(key), None
    if dimension == "size":
        return str(SizeClass(key).label) if key in SizeClass.values else str(key), None
    return str(key), None


def _public_key(dimension: str, key, labels: Labels) -> str:
    if dimension == "bank":
        return labels.banks.get(key, (str(key), ""))[0]
    return str(key)


_SIZE_ORDER = {v: i for i, v in enumerate(SizeClass.values)}
_MODE_ORDER = {v: i for i, v in enumerate(LoanMode.values)}


def _sort_key(dimension: str, key):
    if dimension == "size":
        return _SIZE_ORDER.get(key, 99)
    if dimension == "mode":
        return _MODE_ORDER.get(key, 99)
    return str(key)


@dataclass
class Indicators:
    """Every dimension's rows: ``{"key", "name", "parent", "metrics"}`` (metrics as Python values)."""

    as_of: date
    breakdowns: dict[str, list[dict]]

    def overall(self) -> dict[str, Any]:
        return self.breakdowns["overall"][0]["metrics"]

    def rows(self, dimension: str) -> list[dict]:
        return self.breakdowns.get(dimension, [])


def _leverage_metrics(figures) -> dict[str, Any]:
    return {
        "leverage": figures.multiple,
        "leverage_target": figures.target_multiple,
        "leverage_disbursed": figures.disbursed,
        "leverage_base": figures.base,
        "leverage_target_amount": figures.target_amount,
        "leverage_expected": figures.expected_to_date,
        "leverage_expected_multiple": rules.multiple(figures.expected_to_date, figures.base),
        "leverage_shortfall": figures.shortfall,
        "leverage_progress": figures.progress_percent,
    }


def _add_programme_figures(
    breakdowns: dict[str, list[dict]], *, programme: Programme, as_of: date, filters: Filters,
    disbursed: dict[int, Decimal] | None = None,
) -> None:
    """Leverage (R4) overall and per bank, the pool balance (R2) and the coverage counts.

    ``disbursed``: principal disbursed by ``as_of`` per bank id, when the loan figures already
    added it up (PostgreSQL, same filters); else ``fund.selectors.leverage.disbursed_by_bank``.
    """
    overall = breakdowns["overall"][0]["metrics"]
    bank_only = filters.bank_id and not (filters.region or filters.section or filters.division or filters.mode)
    if (filters.is_empty or bank_only) and disbursed is None:
        disbursed = disbursed_by_bank(programme=programme, as_of=as_of)
    if filters.is_empty or bank_only:
        by_bank = {b.partnership.bank_id: b for b in leverage_by_bank(programme=programme, as_of=as_of,
                                                                      disbursed=disbursed)}
        for row in breakdowns.get("bank", []):
            found = by_bank.get(row["_key"])
            if found is not None:
                row["metrics"].update(_leverage_metrics(found.figures))
                row["metrics"]["committed_lending"] = found.partnership.committed_lending
    if filters.is_empty:
        overall.update(_leverage_metrics(leverage_overall(programme=programme, as_of=as_of, disbursed=disbursed)))
        overall["pool_balance"] = pool_balance(programme=programme, as_of=as_of)
        overall["treasury_contribution"] = parameters_in_force(programme=programme, on=as_of).treasury_contribution
    overall["regions_covered"] = sum(1 for r in breakdowns.get("region", []) if r["metrics"]["borrowers"])
    overall["sections_covered"] = sum(1 for r in breakdowns.get("section", []) if r["metrics"]["borrowers"])
    overall["industries_covered"] = sum(1 for r in breakdowns.get("division", []) if r["metrics"]["borrowers"])
    overall["banks_covered"] = sum(1 for r in breakdowns.get("bank", []) if r["metrics"]["loans"])


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """Every read of the indicators in one transaction; on PostgreSQL, when it is ours to start,
    REPEATABLE READ, so that all the queries see the same data (a published figure must add up).
    Inside a caller's transaction the caller's isolation applies."""
    nested = connection.in_atomic_block
    with transaction.atomic():
        if not nested and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def indicators(*, programme: Programme, as_of: date, filters: Filters = NO_FILTERS) -> Indicators:
    """All R40 indicators as of ``as_of``, overall and by every dimension."""
    with _one_snapshot():
        return _indicators(programme=programme, as_of=as_of, filters=filters)


def _indicators(*, programme: Programme, as_of: date, filters: Filters) -> Indicators:
    labels = Labels.load()
    disbursed = None
    if connection.vendor == "postgresql":
        loans, disbursed = _loan_figures_grouped(programme=programme, as_of=as_of, filters=filters, labels=labels)
    else:
        loans = _loan_figures(loans_as_of(programme=programme, as_of=as_of, filters=filters), labels)
    # Applicants are enterprises, not loans: they have no bank or mode (docs/statistics.md).
    with_applicants = not (filters.bank_id or filters.mode)
    others = [
        _applied_only_figures(programme=programme, as_of=as_of, filters=filters, labels=labels)
        if with_applicants else {},
        _claim_figures(programme=programme, as_of=as_of, filters=filters, labels=labels),
        _recovery_figures(programme=programme, as_of=as_of, filters=filters, labels=labels),
        _subsidy_figures(programme=programme, as_of=as_of, filters=filters, labels=labels),
    ]
    breakdowns: dict[str, list[dict]] = {}
    for dim in DIMENSIONS:
        keys = set(loans.get(dim, {})) | {k for part in others for k in part.get(dim, {})}
        if dim == "overall":
            keys = {ALL}
        rows = []
        for key in sorted(keys, key=lambda k: _sort_key(dim, k)):
            merged: dict[str, Any] = {}
            for part in others:
                merged.update(part.get(dim, {}).get(key, {}))
            if with_applicants and dim in ENTERPRISE_DIMENSIONS:
                borrowers = loans.get(dim, {}).get(key, {}).get("borrowers") or 0
                merged["applicants"] = int(borrowers) + int(merged.pop("applied_only", 0) or 0)
            name, parent = _name(dim, key, labels)
            rows.append({"key": _public_key(dim, key, labels), "_key": key, "name": name, "parent": parent,
                         "metrics": row_metrics(loans.get(dim, {}).get(key), merged)})
        breakdowns[dim] = rows
    _add_programme_figures(breakdowns, programme=programme, as_of=as_of, filters=filters, disbursed=disbursed)
    for rows in breakdowns.values():
        for row in rows:
            row.pop("_key", None)
    return Indicators(as_of=as_of, breakdowns=breakdowns)


def partnerships(*, programme: Programme) -> QuerySet[Partnership]:
    return Partnership.objects.filter(programme=programme).select_related("bank").order_by("bank__code")
