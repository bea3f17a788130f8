"""The processing task: idempotent, claimed by one worker, progress visible, a stale claim taken
over, a constant number of queries whatever the row count, failures stored."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from banks import services
from banks.intake import rows as intake_rows
from banks.models import BatchStatus, IntakeBatch
from banks.tasks import process_batch
from fund.models import Loan
from registry.models import DomainEvent
from tests.banks.factories import registration_row
from tests.banks.workbooks import registration_workbook

pytestmark = pytest.mark.django_db


def _queued(world, data: bytes) -> IntakeBatch:
    """Upload without running the task (its on_commit callback is dropped)."""
    return services.intake_upload(bank=world.bank, kind="registration", fileobj=io.BytesIO(data),
                                  filename="备案.xlsx", uploaded_by=world.user)


def test_upload_returns_at_once_with_the_batch_queued(world):
    batch = _queued(world, registration_workbook([registration_row()]))
    assert batch.status == BatchStatus.QUEUED
    assert batch.progress_percent == 0
    assert (services.batch_path(batch)).is_file()
    assert str(batch.bank.code) in batch.stored_path
    assert Loan.objects.count() == 0


def test_processing_twice_applies_once(world):
    batch = _queued(world, registration_workbook([registration_row(), registration_row()]))
    assert process_batch(str(batch.pk)) == BatchStatus.APPLIED
    assert process_batch(str(batch.pk)) == BatchStatus.APPLIED
    assert Loan.objects.count() == 2
    assert DomainEvent.objects.filter(object_id=str(batch.pk), event_type="intake.applied").count() == 1


def test_a_batch_claimed_by_another_worker_is_left_alone(world):
    batch = _queued(world, registration_workbook([registration_row()]))
    IntakeBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.PROCESSING, heartbeat_at=timezone.now())
    assert process_batch(str(batch.pk)) == BatchStatus.PROCESSING
    assert Loan.objects.count() == 0


def test_a_stale_claim_is_taken_over(world):
    batch = _queued(world, registration_workbook([registration_row()]))
    IntakeBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.PROCESSING, heartbeat_at=timezone.now() - timedelta(hours=1))
    assert process_batch(str(batch.pk)) == BatchStatus.APPLIED
    assert Loan.objects.count() == 1


def test_progress_is_written_while_rows_are_checked(world, monkeypatch):
    monkeypatch.setattr(intake_rows, "PROGRESS_EVERY", 1)
    seen = []
    real = services._progress

    def spy(batch):
        report = real(batch)

        def wrapped(done):
            report(done)
            seen.append(IntakeBatch.objects.get(pk=batch.pk).rows_done)

        return wrapped

    monkeypatch.setattr(services, "_progress", spy)
    batch = _queued(world, registration_workbook([registration_row() for _ in range(3)]))
    process_batch(str(batch.pk))
    assert seen == [1, 2, 3]
    batch.refresh_from_db()
    assert (batch.rows_done, batch.rows_total, batch.progress_percent) == (3, 3, 100)


def _queries_for(world, count: int) -> int:
    batch = _queued(world, registration_workbook([registration_row() for _ in range(count)]))
    with CaptureQueriesContext(connection) as captured:
        assert process_batch(str(batch.pk)) == BatchStatus.APPLIED
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_rows(world, monkeypatch):
    monkeypatch.setattr(intake_rows, "PROGRESS_EVERY", 10**9)
    assert _queries_for(world, 40) == _queries_for(world, 3)


def test_an_unexpected_failure_marks_the_batch_failed_and_changes_nothing(world, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "apply_registration", boom)
    batch = _queued(world, registration_workbook([registration_row()]))
    assert process_batch(str(batch.pk)) == BatchStatus.FAILED
    batch.refresh_from_db()
    assert "系统处理出错" in batch.issues[0]["message"]
    assert Loan.objects.count() == 0
    assert DomainEvent.objects.filter(object_id=str(batch.pk), event_type="intake.failed").exists()


def test_the_issue_list_is_grouped_by_row_for_the_annotated_workbook(upload, world):
    from banks.selectors import batch_issue_counts, batch_issues_by_row

    batch = upload(registration_workbook([registration_row(), registration_row(region="火星", principal=0)]))
    grouped = batch_issues_by_row(batch)
    assert sorted(grouped) == [3]
    assert {i["column"] for i in grouped[3]} == {"所在市(州)", "贷款金额(元)"}
    assert batch_issue_counts(batch)["所在市(州)"] == {"error": 1}
