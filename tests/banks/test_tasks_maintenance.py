"""The stuck-batch sweeper (banks/tasks_maintenance.py): what it re-queues and what it leaves alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from banks import tasks_maintenance
from banks.models import BatchKind, BatchStatus, IntakeBatch
from banks.services import STALE_AFTER
from tests.factories import BankFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """The ids the sweeper sends to banks.tasks.process_batch (no task runs)."""
    calls: list[str] = []
    monkeypatch.setattr("banks.tasks.process_batch.delay", calls.append)
    return calls


def _batch(status: str, *, uploaded_ago: timedelta = timedelta(0), heartbeat_ago: timedelta | None = None):
    batch = IntakeBatch.objects.create(bank=BankFactory(), programme=ProgrammeFactory(), kind=BatchKind.REGISTRATION,
                                       status=status)
    now = timezone.now()
    fields = {"uploaded_at": now - uploaded_ago}
    if heartbeat_ago is not None:
        fields |= {"started_at": now - heartbeat_ago, "heartbeat_at": now - heartbeat_ago}
    IntakeBatch.objects.filter(pk=batch.pk).update(**fields)
    return str(batch.pk)


def test_a_batch_queued_for_more_than_ten_minutes_is_sent_again(sent):
    old = _batch(BatchStatus.QUEUED, uploaded_ago=timedelta(minutes=11))
    _batch(BatchStatus.QUEUED, uploaded_ago=timedelta(minutes=2))
    assert tasks_maintenance.requeue_stuck_batches() == 1
    assert sent == [old]


def test_a_processing_batch_is_sent_again_only_once_its_heartbeat_is_stale(sent):
    stale = _batch(BatchStatus.PROCESSING, uploaded_ago=timedelta(hours=1), heartbeat_ago=STALE_AFTER + timedelta(minutes=1))
    _batch(BatchStatus.PROCESSING, uploaded_ago=timedelta(hours=1), heartbeat_ago=timedelta(minutes=1))
    assert tasks_maintenance.requeue_stuck_batches() == 1
    assert sent == [stale]


def test_finished_batches_are_never_sent_again(sent):
    for status in (BatchStatus.APPLIED, BatchStatus.REJECTED, BatchStatus.FAILED, BatchStatus.DUPLICATE):
        _batch(status, uploaded_ago=timedelta(days=1), heartbeat_ago=timedelta(days=1))
    assert tasks_maintenance.requeue_stuck_batches() == 0
    assert sent == []


def test_the_processing_limit_never_goes_below_the_claims_staleness(sent):
    # a shorter limit would send batches that process_batch's claim refuses as alive
    _batch(BatchStatus.PROCESSING, heartbeat_ago=STALE_AFTER - timedelta(minutes=1))
    assert tasks_maintenance.intake_requeue_stuck(processing_older_than=timedelta(minutes=1)) == []


def test_a_requeued_stale_batch_is_taken_over_and_finished_by_process_batch():
    # eager Celery: the sweeper's message runs process_batch at once; its claim takes over the
    # stale batch and brings it to an end state (here 失败/已拒绝: the test batch has no file)
    batch_id = _batch(BatchStatus.PROCESSING, heartbeat_ago=STALE_AFTER + timedelta(minutes=1))
    tasks_maintenance.requeue_stuck_batches()
    assert IntakeBatch.objects.get(pk=batch_id).is_finished


def test_the_sweeper_is_scheduled_and_registered(settings):
    from config.celery import app

    app.loader.import_default_modules()
    assert "banks.tasks.requeue_stuck_batches" in app.tasks
    entries = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "banks.tasks.requeue_stuck_batches" in entries
