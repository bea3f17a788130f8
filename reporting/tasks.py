"""Celery tasks of the reporting app: they take ids and dates, call one service, return a summary.

``build_monthly_snapshots`` runs from Celery beat on the 11th of every month (after the
status reports for the previous month are due on the 10th, R42) and publishes the snapshot as
of the previous month's last day; ``build_snapshot`` is the on-demand build staff start from
the admin.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from fund.models import Programme
from registry.models import User

from .models import SnapshotStatus
from .rules import previous_month_end
from .services import snapshot_build


@shared_task(name="reporting.tasks.build_snapshot", acks_late=True)
def build_snapshot(programme_id: int, as_of: str, publish: bool = False, user_id: int | None = None,
                   source: str = "staff") -> dict:
    programme = Programme.objects.get(pk=programme_id)
    actor = User.objects.filter(pk=user_id).first() if user_id else None
    snapshot = snapshot_build(programme=programme, as_of=date.fromisoformat(as_of), publish=publish, actor=actor,
                              source=source)
    return {"snapshot_id": snapshot.pk, "status": snapshot.status, "build_ms": snapshot.build_ms}


@shared_task(name="reporting.tasks.build_monthly_snapshots", acks_late=True)
def build_monthly_snapshots(today: str | None = None) -> dict:
    """Publish, for every programme running by then, the snapshot as of the last day of last month."""
    day = date.fromisoformat(today) if today else timezone.localdate()
    as_of = previous_month_end(day)
    built = []
    for programme in Programme.objects.filter(start_date__lte=as_of).order_by("pk"):
        if programme.snapshots.filter(as_of=as_of, status=SnapshotStatus.PUBLISHED).exists():
            continue
        if not programme.parameter_sets.filter(effective_from__lte=as_of).exists():
            continue
        built.append(snapshot_build(programme=programme, as_of=as_of, publish=True, source="beat").pk)
    return {"as_of": as_of.isoformat(), "snapshots": built}
