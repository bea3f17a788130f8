"""Reads of frozen snapshots: every published figure comes from here (R41)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from fund.models import Programme

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


def _public_json_sql(*, with_date: bool, with_programme: bool) -> str:
    table = Snapshot._meta.db_table
    programmes = Programme._meta.db_table
    sql = f"SELECT s.public_json FROM {table} s"  # noqa: S608 - table names from the models, values bound
    if with_programme:
        sql += f" JOIN {programmes} p ON p.id = s.programme_id"
    sql += " WHERE s.status = %s"
    if with_date:
        sql += " AND s.as_of <= %s"
    if with_programme:
        sql += " AND p.code = %s"
    return sql + " ORDER BY s.as_of DESC, s.id DESC LIMIT 1"


_PUBLIC_SQL = {(d, p): _public_json_sql(with_date=d, with_programme=p) for d in (False, True) for p in (False, True)}


def public_json_text(*, as_of: date | None = None, programme_code: str = "") -> str | None:
    """The precomputed public JSON of that snapshot, as stored: one indexed query on the
    ``snapshot_latest`` index, written out in SQL because this is the public hot path (the ORM's
    query compilation cost more than the query itself)."""
    params: list = [SnapshotStatus.PUBLISHED.value]
    if as_of is not None:
        params.append(as_of)
    if programme_code:
        params.append(programme_code)
    with connection.cursor() as cursor:
        cursor.execute(_PUBLIC_SQL[(as_of is not None, bool(programme_code))], params)
        row = cursor.fetchone()
    return row[0] if row else None


def public_document(snapshot: Snapshot) -> dict[str, Any]:
    return json.loads(snapshot.public_json) if snapshot.public_json else {}


def snapshot_rows(snapshot: Snapshot) -> dict[str, list[dict]]:
    """Every dimension's frozen rows of a snapshot."""
    return dict(SnapshotBreakdown.objects.filter(snapshot=snapshot).values_list("dimension", "rows"))


def published_dates(*, programme_code: str = "", limit: int = 36) -> list[date]:
    return list(published(programme_code=programme_code).values_list("as_of", flat=True).distinct()[:limit])
