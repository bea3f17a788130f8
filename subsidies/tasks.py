"""Celery tasks of the subsidies app: take ids, load, call one service."""

from __future__ import annotations

from celery import shared_task

from fund.models import Loan
from registry.models import User

from .services import subsidy_compute_for_settlements


@shared_task(name="subsidies.tasks.compute_subsidies", acks_late=True)
def compute_subsidies(loan_ids: list[int], actor_id: int | None = None) -> dict[str, int]:
    """Compute the subsidies of settled loans (for callers that prefer to defer it)."""
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    created = subsidy_compute_for_settlements(loans=list(Loan.objects.filter(pk__in=loan_ids)), actor=actor)
    return {"loans": len(loan_ids), "subsidies": len(created)}
