"""What a batch is judged against, loaded once per batch in a handful of queries:
parameter sets by date, reference tables, partner guarantors, the bank's partnership.

Lookups that recur per row (regions, industries, rate caps, size groups) are memoised here,
so 100,000 rows cost one call per distinct value.
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from fund.models import CooperationState, GuarantorPartnership, ParameterSet, Partnership, Programme
from registry import rules
from registry.models import Bank, IndustryDivision, Region
from registry.selectors import lpr_rows, sme_threshold_rows

IN_CHUNK = 2000  # SQLite: stay far below its bound-parameter limit
PG_IN_CHUNK = 50_000  # PostgreSQL: one array parameter per query (lookups.AnyOf)


def chunks(values: Iterable[Any], size: int | None = None) -> Iterator[frozenset[Any]]:
    """Sets of at most ``size`` values for ``field__any_of`` look-ups (SQLite: under its
    bound-parameter limit; PostgreSQL: one array parameter per query)."""
    if size is None:
        size = PG_IN_CHUNK if connection.vendor == "postgresql" else IN_CHUNK
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) >= size:
            yield frozenset(batch)
            batch = []
    if batch:
        yield frozenset(batch)


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (clamped to the month's last day: 01-31 + 1 → 02-28)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Memo:
    """Memoise a function of hashable args, caching RuleErrors too."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.memo: dict[Any, Any] = {}

    def __call__(self, *args: Any) -> Any:
        try:
            hit = self.memo[args]
        except KeyError:
            try:
                hit = self.fn(*args)
            except rules.RuleError as exc:
                hit = exc
            self.memo[args] = hit
        if isinstance(hit, rules.RuleError):
            raise hit
        return hit


class IntakeContext:
    """Parameters, reference tables and partners for one (programme, bank) batch."""

    def __init__(self, *, programme: Programme, bank: Bank, today: date) -> None:
        self.programme = programme
        self.bank = bank
        self.today = today
        self.param_sets = list(ParameterSet.objects.filter(programme=programme).order_by("effective_from"))
        self._param_dates = [p.effective_from for p in self.param_sets]
        self.partnership = Partnership.objects.filter(programme=programme, bank=bank).first()
        self.lpr = lpr_rows()
        self.thresholds = sme_threshold_rows()
        self.regions = tuple(Region.objects.values_list("code", "name", "kind"))
        self.divisions = tuple(IndustryDivision.objects.values_list("code", "section_id", "name", "is_service"))
        self.region = Memo(lambda v: rules.normalize_region(v, table=self.regions))
        self.industry = Memo(lambda v: rules.normalize_industry(v, divisions=self.divisions))
        self.service_problem = Memo(self._service_problem)
        self.size_group = Memo(lambda ind: rules.sme_size_group(ind, thresholds=self.thresholds))
        self.rate_cap = Memo(lambda on, bp: rules.rate_cap(on, cap_bp=bp, table=self.lpr))
        self._guarantors: dict[str, tuple[int, str, str]] | None = None
        self._excluded: dict[int, tuple[str, ...]] = {}
        self._month_add: dict[tuple[date, int], date] = {}
        self._size_plans: dict[str, tuple[tuple[int, ...], Any]] = {}

    def add_months(self, day: date, months: int) -> date:
        key = (day, months)
        found = self._month_add.get(key)
        if found is None:
            found = self._month_add[key] = add_months(day, months)
        return found

    # parameters ------------------------------------------------------------------------
    def params_on(self, on: date | None) -> ParameterSet | None:
        """The parameter set in force on ``on`` (today when ``on`` is unknown)."""
        idx = bisect_right(self._param_dates, on or self.today) - 1
        return self.param_sets[idx] if idx >= 0 else None

    def excluded(self, params: ParameterSet) -> tuple[str, ...]:
        """R8 exclusions of a parameter set, as a tuple (memoised per set)."""
        found = self._excluded.get(params.pk)
        if found is None:
            found = tuple(x.strip() for x in params.excluded_industries.split(",") if x.strip())
            self._excluded[params.pk] = found
        return found

    def _service_problem(self, ind: rules.IndustryCode, excluded: tuple[str, ...]) -> str:
        try:
            rules.check_service_industry(ind, excluded=excluded, divisions=self.divisions)
        except rules.RuleError as exc:
            return exc.message
        return ""

    # size class (R7) -------------------------------------------------------------------
    def size_class(
        self, ind: rules.IndustryCode, employees: int | None, revenue: Decimal | None, assets: Decimal | None
    ) -> str:
        """``registry.rules.sme_size_class`` with the industry's group looked up once per code.

        The common case (every figure the group needs is present) compares against the group's
        minimums here; anything else goes to ``sme_size_class`` itself for its exact error.
        """
        group = self.size_group(ind)
        plan = self._size_plans.get(group.name)
        if plan is None:
            positions = tuple(("employees", "revenue", "assets").index(k) for k in group.indicators)
            plan = self._size_plans[group.name] = (positions, group.minimums)
        positions, minimums = plan
        figures = (employees, revenue, assets)
        values = [figures[i] for i in positions]
        if any(v is None for v in values):
            return rules.sme_size_class(industry=ind, employees=employees, revenue_10k=revenue,
                                        assets_10k=assets, thresholds=self.thresholds)
        for level, level_minimums in zip(rules.SIZE_LEVELS, minimums, strict=True):
            for value, minimum in zip(values, level_minimums, strict=True):
                if value < minimum:
                    break
            else:
                return level
        return "micro"

    # guarantors (R21) ------------------------------------------------------------------
    def guarantor(self, text: str) -> tuple[int, str, str] | None:
        """(guarantor id, cooperation state, name) of a programme partner guarantor, by name,
        short name or code."""
        if self._guarantors is None:
            self._guarantors = {}
            for gp in GuarantorPartnership.objects.filter(programme=self.programme).select_related("guarantor"):
                g = gp.guarantor
                entry = (g.pk, gp.state, g.name)
                for key in (g.name, g.short_name, g.code):
                    if key:
                        self._guarantors[rules.normalize_text(key)] = entry
        return self._guarantors.get(rules.normalize_text(text))

    @property
    def partnership_state(self) -> str:
        return self.partnership.state if self.partnership else ""

    def partnership_problem(self) -> str:
        if self.partnership is None:
            return f"{self.bank.name}不是项目“{self.programme.name}”的合作银行"
        if self.partnership.state == CooperationState.ENDED:
            return f"{self.bank.name}与项目“{self.programme.name}”的合作已终止"
        return ""
