"""Celery tasks of the fund app: they take ids, call one service and return a summary.

Both are scheduled daily in ``CELERY_BEAT_SCHEDULE`` (config/settings.py).
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from fund.models import Programme
from fund.services import ledger_reconcile, suspension_evaluate
from fund.tasks_claims import flag_overdue_claims as flag_overdue_claims  # registers the claims task


@shared_task(name="fund.tasks.evaluate_suspensions", acks_late=True)
def evaluate_suspensions(programme_id: int | None = None, on: str | None = None) -> dict[str, int]:
    """Nightly R31–R33 evaluation for one programme (or every programme when no id is given)."""
    day = date.fromisoformat(on) if on else timezone.localdate()
    programmes = Programme.objects.order_by("pk")
    if programme_id is not None:
        programmes = programmes.filter(pk=programme_id)
    changes = 0
    evaluated = 0
    for programme in programmes:
        if not programme.parameter_sets.filter(effective_from__lte=day).exists():
            continue
        report = suspension_evaluate(programme=programme, on=day)
        changes += len(report.changes)
        evaluated += 1
    return {"programmes": evaluated, "changes": changes}


@shared_task(name="fund.tasks.reconcile_ledger", acks_late=True)
def reconcile_ledger(as_of: str | None = None) -> dict[str, int | bool]:
    """Daily reconciliation; findings are logged and stored on a ReconciliationRun."""
    run = ledger_reconcile(as_of=date.fromisoformat(as_of) if as_of else None, triggered_by="task")
    return {"run_id": run.pk, "ok": run.ok, "mismatches": run.mismatch_count, "warnings": run.warning_count}
