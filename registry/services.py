"""Writes of the registry app."""

from __future__ import annotations

from django.db import transaction

from . import rules
from .audit import record_event
from .models import Enterprise, SizeClass, User
from .selectors import sme_threshold_rows


def enterprise_size_class(*, enterprise: Enterprise, thresholds: tuple[dict[str, str], ...] | None = None) -> str:
    """R7: the size class from industry, employees, revenue and assets; UNKNOWN when a figure is missing."""
    try:
        industry = rules.normalize_industry(enterprise.industry_code)
        return rules.sme_size_class(
            industry=industry,
            employees=enterprise.employees,
            revenue_10k=enterprise.revenue_10k,
            assets_10k=enterprise.assets_10k,
            thresholds=thresholds if thresholds is not None else sme_threshold_rows(),
        )
    except rules.RuleError:
        return SizeClass.UNKNOWN


@transaction.atomic
def enterprise_save(*, enterprise: Enterprise, actor: User | None) -> Enterprise:
    """Save an enterprise edited by staff: canonical industry code, derived size class, audit event."""
    industry = rules.normalize_industry(enterprise.industry_code)
    enterprise.industry_code = industry.code
    enterprise.industry_id = industry.division
    enterprise.size_class = enterprise_size_class(enterprise=enterprise)
    created = enterprise.pk is None
    enterprise.save()
    record_event(
        actor=actor, event_type="enterprise.created" if created else "enterprise.changed", obj=enterprise,
        size_class=enterprise.size_class,
    )
    return enterprise
