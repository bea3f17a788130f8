"""The single helper through which services write domain events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

from .models import DomainEvent, User


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


def record_event(
    *, actor: User | None, event_type: str, obj: models.Model, **params: Any
) -> DomainEvent:
    """Append one audit event. Call inside the transaction of the change."""
    if actor is not None and not getattr(actor, "pk", None):
        actor = None  # AnonymousUser
    return DomainEvent.objects.create(
        actor=actor,
        event_type=event_type,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        params=_jsonable(params),
    )
