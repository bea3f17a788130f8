"""Writes of the reporting app: building and publishing statistics snapshots (R41). Nothing else.

``reporting`` reads every other app and writes only its own tables.
"""

from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from fund.models import Programme
from fund.selectors.programme import parameters_in_force
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import User

from . import rules
from .models import Snapshot, SnapshotBreakdown, SnapshotStatus
from .selectors.stats import DIMENSIONS, indicators

# Metrics published as counts (ints); every other number is a string: money or a percentage/multiple.
COUNT_METRICS = {
    "applicants", "borrowers", "private_borrowers", "loans", "claims_filed", "claims_paid", "recoveries",
    "subsidies_approved", "subsidies_paid", "regions_covered", "sections_covered", "industries_covered",
    "banks_covered",
}


def serialize_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in COUNT_METRICS:
        return int(value)
    if isinstance(value, Decimal | int | float):
        return f"{Decimal(str(value)).quantize(rules.CENT):.2f}"
    return value


def serialize_rows(rows: list[dict]) -> list[dict]:
    return [
        {"key": r["key"], "name": r["name"], "parent": r["parent"],
         "metrics": {k: serialize_value(k, v) for k, v in r["metrics"].items()}}
        for r in rows
    ]


def _public_cells(rows: list[dict], *, key_name: str, minimum: int) -> list[dict]:
    """{code, name, borrowers, loans, principal} per cell, small cells hidden (R41)."""
    cells = [rules.Cell(r["key"], r["metrics"]["borrowers"] or 0, Decimal(r["metrics"]["principal"] or 0))
             for r in rows if r["metrics"]["borrowers"]]
    hidden = rules.suppressed_cells(cells, minimum=minimum)
    out = []
    for r in rows:
        m = r["metrics"]
        if not m["borrowers"]:
            continue
        reason = hidden.get(r["key"])
        cell = {key_name: r["key"], "name": r["name"]}
        if reason:
            cell.update(borrowers=rules.suppression_label(reason, minimum=minimum), loans=None, principal=None,
                        suppressed=True)
        else:
            cell.update(borrowers=m["borrowers"], loans=m["loans"], principal=m["principal"], suppressed=False)
        out.append(cell)
    return out


HEADLINE_KEYS = (
    "applicants", "borrowers", "loans", "principal", "outstanding_principal", "regions_covered",
    "industries_covered", "private_borrowers", "private_share", "avg_rate", "effective_rate", "leverage",
    "leverage_target", "leverage_expected_multiple", "treasury_contribution", "pool_balance",
)


def public_document(*, snapshot: Snapshot, breakdowns: dict[str, list[dict]]) -> dict[str, Any]:
    """The public JSON (interfaces.md ``/api/public/stats/``), from serialized rows; small cells hidden."""
    overall = breakdowns["overall"][0]["metrics"]
    minimum = snapshot.suppression_min
    doc: dict[str, Any] = {"as_of": snapshot.as_of.isoformat(), "snapshot": snapshot.pk,
                           "programme": snapshot.programme.name}
    doc.update({k: overall.get(k) for k in HEADLINE_KEYS})
    doc["suppression_min_enterprises"] = minimum
    doc["by_region"] = _public_cells(breakdowns["region"], key_name="code", minimum=minimum)
    doc["by_industry"] = _public_cells(breakdowns["division"], key_name="code", minimum=minimum)
    doc["by_month"] = _public_cells(breakdowns["month"], key_name="month", minimum=minimum)
    return doc


def snapshot_build(
    *, programme: Programme, as_of: date, publish: bool = False, actor: User | None = None, source: str = "",
) -> Snapshot:
    """Compute every indicator as of ``as_of`` and freeze it in a new snapshot (draft, or published)."""
    if as_of < programme.start_date:
        raise BusinessError(f"统计截止日 {as_of:%Y-%m-%d} 早于项目开始日期", code="snapshot_before_programme")
    started = time.perf_counter()
    minimum = parameters_in_force(programme=programme, on=as_of).suppression_min_enterprises
    figures = indicators(programme=programme, as_of=as_of)
    breakdowns = {dim: serialize_rows(figures.rows(dim)) for dim in DIMENSIONS}
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            programme=programme, as_of=as_of, created_by=actor, source=source, suppression_min=minimum,
        )
        SnapshotBreakdown.objects.bulk_create(
            SnapshotBreakdown(snapshot=snapshot, dimension=dim, rows=rows) for dim, rows in breakdowns.items()
        )
        snapshot.public_json = json.dumps(public_document(snapshot=snapshot, breakdowns=breakdowns),
                                          ensure_ascii=False, separators=(",", ":"))
        snapshot.build_ms = int((time.perf_counter() - started) * 1000)
        snapshot.save(update_fields=["public_json", "build_ms"])
        record_event(actor=actor, event_type="snapshot_built", obj=snapshot, as_of=as_of, source=source)
        if publish:
            snapshot = snapshot_publish(snapshot=snapshot, actor=actor)
    return snapshot


def snapshot_publish(*, snapshot: Snapshot, actor: User | None = None) -> Snapshot:
    """draft → published; from then on the snapshot is immutable (R41)."""
    with transaction.atomic():
        locked = Snapshot.objects.select_for_update().get(pk=snapshot.pk)
        if locked.status != SnapshotStatus.DRAFT:
            raise BusinessError("该快照已发布，不能重复发布", code="snapshot_already_published", rule="R41")
        locked.status = SnapshotStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.published_by = actor
        locked.save(update_fields=["status", "published_at", "published_by"])
        record_event(actor=actor, event_type="snapshot_published", obj=locked, as_of=locked.as_of)
    return locked


def snapshot_discard(*, snapshot: Snapshot, actor: User | None = None) -> None:
    """Delete a draft snapshot (a published one is refused)."""
    with transaction.atomic():
        locked = Snapshot.objects.select_for_update().get(pk=snapshot.pk)
        if locked.status != SnapshotStatus.DRAFT:
            raise BusinessError("已发布的统计快照不能删除", code="snapshot_published", rule="R41")
        record_event(actor=actor, event_type="snapshot_discarded", obj=locked, as_of=locked.as_of)
        locked.delete()
