"""Celery tasks of the banks app: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def process_batch(batch_id: str) -> str:
    """Process an intake batch (idempotent: a finished batch, or one another worker holds, is left alone)."""
    from .services import intake_process

    return intake_process(batch_id=batch_id).status
