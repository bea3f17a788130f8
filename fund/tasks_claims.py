"""Celery task of the claims module: the nightly service-level flags (R29 reviews, R30 refunds).

Registered with Celery through ``fund.tasks`` (which imports it); schedule it daily in
``CELERY_BEAT_SCHEDULE`` as ``fund.tasks_claims.flag_overdue_claims``.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from fund.services import claims_flag_review_overdue, recoveries_flag_refund_overdue


@shared_task(name="fund.tasks_claims.flag_overdue_claims", acks_late=True)
def flag_overdue_claims(as_of: str | None = None) -> dict[str, int]:
    """Mark reviews past 30 working days (R29) and refunds past 10 working days (R30), once each."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return {
        "reviews": claims_flag_review_overdue(as_of=day),
        "refunds": recoveries_flag_refund_overdue(as_of=day),
    }
