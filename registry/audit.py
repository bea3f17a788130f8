"""The single helper through which services write domain events, and the audit hash chain.

Every event stores ``prev_hash`` (the hash of the event before it, or of the pruning anchor)
and ``hash`` = SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of
``occurred_at`` (UTC, microseconds), ``actor_id``, ``event_type``, ``object_type``,
``object_id``, ``params`` and ``prev_hash``.  ``record_event`` links each new event to the
chain head under a lock held until the surrounding transaction ends (PostgreSQL: a
transaction-level advisory lock; SQLite: its single-writer lock), so concurrent writers
cannot fork the chain.  Call it as the last write of a transaction where you can: the lock
serialises audited transactions from that point until commit.

``audit_chain_verify`` recomputes the chain and names the first broken event;
``audit_events_prune`` deletes events older than the retention floor (184 days, at least six
months) and leaves an ``AuditChainAnchor`` from which verification starts.  On PostgreSQL a
trigger (migration 0005) refuses UPDATE and DELETE on the table except such pruning.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, router, transaction
from django.utils import timezone

from .bulk import bulk_create_instances
from .models import AuditChainAnchor, DomainEvent, User

AUDIT_CHAIN_LOCK = 7_215_617_264_110_915  # pg_advisory_xact_lock key for the chain
MIN_RETENTION_DAYS = 184  # the longest six consecutive months (e.g. July–December)
PRUNE_SETTING = "fundpool.allow_audit_prune"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def _canonical(value: Any) -> Any:
    """JSON values as any database returns them: integral floats as ints (PostgreSQL's jsonb
    may turn 1e16 into 10000000000000000)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_digest(
    *, occurred_at: datetime, actor_id: int | None, event_type: str, object_type: str, object_id: str,
    params: Any, prev_hash: str,
) -> str:
    payload = {
        "occurred_at": _utc(occurred_at),
        "actor_id": actor_id,
        "event_type": event_type,
        "object_type": object_type,
        "object_id": str(object_id),
        "params": _canonical(params),
        "prev_hash": prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lock_chain(using: str) -> None:
    """Serialise chain writers until the current transaction ends."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
        elif connection.vendor == "sqlite":
            # A write statement takes SQLite's (database-wide) write lock now, before the read
            # of the chain head, so no other connection can append in between.
            cursor.execute(f"UPDATE {DomainEvent._meta.db_table} SET id = id WHERE 0")  # noqa: S608


def _chain_head(using: str) -> str:
    last = DomainEvent.objects.using(using).order_by("-id").values_list("hash", flat=True).first()
    if last is not None:
        return last
    anchor = AuditChainAnchor.objects.using(using).order_by("-id").values_list("prev_hash", flat=True).first()
    return anchor or ""


def record_event(
    *, actor: User | None, event_type: str, obj: models.Model, **params: Any
) -> DomainEvent:
    """Append one audit event, linked into the hash chain. Call inside the transaction of the change."""
    return record_events(actor=actor, events=[(event_type, obj, params)])[0]


def record_events(*, actor: User | None, events: Iterable[tuple[str, models.Model, dict[str, Any]]]) -> list[DomainEvent]:
    """Append audit events (one lock, one read of the chain head, one bulk insert).

    ``events`` are ``(event_type, obj, params)`` in the order they happened; the chain is the
    same as ``record_event`` (which calls this with one event) called for each in turn.  For
    services that change thousands of objects in one step (a month's settlements).
    """
    if actor is not None and not getattr(actor, "pk", None):
        actor = None
    actor_id = actor.pk if actor is not None else None
    using = router.db_for_write(DomainEvent)
    rows: list[DomainEvent] = []
    with transaction.atomic(using=using):
        _lock_chain(using)
        prev_hash = _chain_head(using)
        for event_type, obj, params in events:
            occurred_at, object_type, object_id = timezone.now(), obj._meta.label_lower, str(obj.pk)
            params = _stored(params)
            digest = event_digest(occurred_at=occurred_at, actor_id=actor_id, event_type=event_type,
                                  object_type=object_type, object_id=object_id, params=params, prev_hash=prev_hash)
            event = DomainEvent(occurred_at=occurred_at, actor_id=actor_id, event_type=event_type,
                                object_type=object_type, object_id=object_id, params=params, prev_hash=prev_hash,
                                hash=digest)
            if actor is not None:
                event.actor = actor
            rows.append(event)
            prev_hash = digest
        bulk_create_instances(rows)
    return rows


_PLAIN = frozenset({str, int, bool, type(None)})  # JSON values that come back from the database as they go in


def _stored(params: dict[str, Any]) -> Any:
    """``params`` as the database will return them (``record_event``'s JSON round trip); a flat
    dict of strings, integers, booleans and nulls (after ``_jsonable``) is that already."""
    value = _jsonable(params)
    if type(value) is dict and all(type(k) is str and type(v) in _PLAIN for k, v in value.items()):
        return value
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


# --- verification -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head: str
    broken_id: int | None = None
    reason: str = ""


def audit_chain_verify() -> ChainReport:
    """Recompute the chain from the latest anchor (or the start); the first broken event."""
    anchor = AuditChainAnchor.objects.order_by("-id").first()
    expected_prev = anchor.prev_hash if anchor else ""
    if anchor and not DomainEvent.objects.filter(
        event_type="audit.pruned", object_type=AuditChainAnchor._meta.label_lower, object_id=str(anchor.pk)
    ).exists():
        return ChainReport(False, 0, "", None, f"链锚点 #{anchor.pk} 没有对应的清理事件（audit.pruned），锚点可能是伪造的")
    rows = DomainEvent.objects.order_by("id").values_list(
        "id", "occurred_at", "actor_id", "event_type", "object_type", "object_id", "params", "prev_hash", "hash"
    )
    checked = 0
    for pk, occurred_at, actor_id, event_type, object_type, object_id, params, prev_hash, stored in rows.iterator(
        chunk_size=2000
    ):
        if prev_hash != expected_prev:
            return ChainReport(False, checked, expected_prev, pk,
                               f"事件 #{pk} 的前一摘要与链不符（其前的事件被删除、插入或修改）")
        digest = event_digest(occurred_at=occurred_at, actor_id=actor_id, event_type=event_type,
                              object_type=object_type, object_id=object_id, params=params, prev_hash=prev_hash)
        if digest != stored:
            return ChainReport(False, checked, expected_prev, pk, f"事件 #{pk} 的内容与摘要不符（该事件被修改）")
        expected_prev = stored
        checked += 1
    return ChainReport(True, checked, expected_prev)


# --- retention --------------------------------------------------------------------------


class AuditRetentionError(ValueError):
    """Pruning refused (message in Chinese)."""


def audit_events_prune(*, older_than_days: int, actor: User | None = None) -> AuditChainAnchor | None:
    """Delete events older than ``older_than_days`` (≥ 184) — always a prefix of the chain and
    never an event younger than the cut-off — and anchor the chain at the first one kept.
    Refuses when the chain is already broken (pruning would destroy the evidence)."""
    if older_than_days < MIN_RETENTION_DAYS:
        raise AuditRetentionError(f"审计事件至少保存六个月：--older-than-days 不能小于 {MIN_RETENTION_DAYS}")
    report = audit_chain_verify()
    if not report.ok:
        raise AuditRetentionError(f"审计链已断开，拒绝清理：{report.reason}")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    using = router.db_for_write(DomainEvent)
    with transaction.atomic(using=using, durable=True):
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL {PRUNE_SETTING} = 'on'")
        _lock_chain(using)
        events = DomainEvent.objects.using(using)
        first_kept = events.filter(occurred_at__gte=cutoff).order_by("id").values_list("id", flat=True).first()
        doomed = events.filter(id__lt=first_kept) if first_kept is not None else events.all()
        last = doomed.order_by("-id").values_list("hash", flat=True).first()
        if last is None:
            return None
        count = doomed.count()
        doomed.delete()
        anchor = AuditChainAnchor.objects.using(using).create(
            first_event_id=first_kept, prev_hash=last, pruned_count=count, pruned_before=cutoff
        )
        record_event(actor=actor, event_type="audit.pruned", obj=anchor, deleted=count,
                     first_event_id=first_kept, older_than_days=older_than_days)
    return anchor
