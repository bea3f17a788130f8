"""Reads of frozen snapshots: every published figure comes from here (R41)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.db.models import QuerySet

from ..models import Snapshot, SnapshotBreakdown, SnapshotStatus


def published(*, programme_code: str = "") -> QuerySet[Snapshot]:
    qs = Snapshot.objects.filter(status=SnapshotStatus.PUBLISHED)
    if programme_code:
        qs = qs.filter(programme__code=programme_code)
    return qs.order_by("-as_of", "-id")


def latest_published(*, as_of: date | None = None, programme_code: str = "") -> Snapshot | None:
    """The latest published snapshot with a cut-off on or before ``as_of`` (any date when None)."""
    qs = published(programme_code=programme_code)
    if as_of is not None:
        qs = qs.filter(as_of__lte=as_of)
    return qs.select_related("programme").first()


def public_json_text(*, as_of: date | None = None, programme_code: str = "") -> str | None:
    """The precomputed public JSON of that snapshot, as stored (one indexed query, no decoding)."""
    qs = published(programme_code=programme_code)
    if as_of is not None:
        qs = qs.filter(as_of__lte=as_of)
    return qs.values_list("public_json", flat=True).first()


def public_document(snapshot: Snapshot) -> dict[str, Any]:
    return json.loads(snapshot.public_json) if snapshot.public_json else {}


def snapshot_rows(snapshot: Snapshot) -> dict[str, list[dict]]:
    """Every dimension's frozen rows of a snapshot."""
    return dict(SnapshotBreakdown.objects.filter(snapshot=snapshot).values_list("dimension", "rows"))


def published_dates(*, programme_code: str = "", limit: int = 36) -> list[date]:
    return list(published(programme_code=programme_code).values_list("as_of", flat=True).distinct()[:limit])
