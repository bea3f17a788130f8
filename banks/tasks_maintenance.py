"""The stuck-batch sweeper: re-queues intake batches whose processing was lost.

A batch can be left behind with no task to finish it:
- 已接收 (queued) for long: its message never reached a worker (the broker was down when
  the upload committed, or Redis lost its data);
- 处理中 (processing) with no heartbeat for ``banks.services.STALE_AFTER``: the task died
  and its message was acknowledged anyway (a time limit, or the database went away so the
  task failed without being able to mark the batch 失败).
The sweeper sends ``banks.tasks.process_batch`` again for each. That task is idempotent: it
claims the batch with a compare-and-set (已接收 → 处理中, or a stale 处理中), so a batch that
is in fact still moving, or already finished, is left alone. Celery beat runs the sweeper
every few minutes (``CELERY_BEAT_SCHEDULE``); operators can run it at once with
``celery -A config call banks.tasks.requeue_stuck_batches``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.db.models import Q
from django.utils import timezone

from .models import BatchStatus, IntakeBatch

logger = logging.getLogger(__name__)

DEFAULT_QUEUED_MINUTES = 10


def stuck_batches(*, queued_older_than: timedelta, processing_older_than: timedelta) -> list[IntakeBatch]:
    """Batches queued longer than the first limit, or processing without a heartbeat for the second."""
    now = timezone.now()
    stale = Q(heartbeat_at__lt=now - processing_older_than) | Q(heartbeat_at__isnull=True, started_at__lt=now - processing_older_than)
    return list(
        IntakeBatch.objects.filter(
            Q(status=BatchStatus.QUEUED, uploaded_at__lt=now - queued_older_than)
            | (Q(status=BatchStatus.PROCESSING) & stale)
        ).order_by("uploaded_at")
    )


def intake_requeue_stuck(*, queued_older_than: timedelta | None = None,
                         processing_older_than: timedelta | None = None) -> list[str]:
    """Send ``process_batch`` again for every stuck batch; returns their ids."""
    from .services import STALE_AFTER
    from .tasks import process_batch

    queued = queued_older_than or timedelta(
        minutes=getattr(settings, "INTAKE_REQUEUE_QUEUED_MINUTES", DEFAULT_QUEUED_MINUTES)
    )
    # any earlier, and process_batch's claim would refuse the batch as still alive
    processing = max(processing_older_than or STALE_AFTER, STALE_AFTER)
    ids = []
    for batch in stuck_batches(queued_older_than=queued, processing_older_than=processing):
        logger.warning(
            "intake batch %s left %s since %s: queued again", batch.pk, batch.status,
            batch.heartbeat_at or batch.uploaded_at, extra={"batch_id": str(batch.pk)},
        )
        process_batch.delay(str(batch.pk))
        ids.append(str(batch.pk))
    return ids


@shared_task(
    name="banks.tasks.requeue_stuck_batches", acks_late=True, ignore_result=True,
    autoretry_for=(OperationalError,), max_retries=3, retry_backoff=10, retry_jitter=True,
)
def requeue_stuck_batches() -> int:
    """Beat: every few minutes. Changes no data itself (it only re-sends messages)."""
    return len(intake_requeue_stuck())
