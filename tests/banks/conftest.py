"""Fixtures for intake tests: a private MEDIA_ROOT, a world (programme, bank, user, guarantor),
and helpers that upload and run a batch (the Celery task runs eagerly on commit)."""

from __future__ import annotations

import io

import pytest

from banks import services
from tests.banks.factories import make_world
from tests.banks.workbooks import status_workbook


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def upload(django_capture_on_commit_callbacks, world):
    """upload(data, kind="registration", filename=…, **service kwargs) → the batch after processing."""

    def run(data: bytes, kind: str = "registration", filename: str = "报送.xlsx", *, bank=None, user=None, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            batch = services.intake_upload(
                bank=bank or world.bank, kind=kind, fileobj=io.BytesIO(data), filename=filename,
                uploaded_by=user if user is not None else world.user, **kw,
            )
        batch.refresh_from_db()
        return batch

    return run


@pytest.fixture
def report(upload):
    """report(rows, **service kwargs) → the processed batch of a status workbook with ``rows``."""

    def run(rows, **kw):
        return upload(status_workbook(rows), kind="status", filename="月度状态.xlsx", **kw)

    return run
