"""Security reads."""

from __future__ import annotations

from django.db.models import QuerySet

from registry.models import Enterprise

from . import pii


def enterprises_by_legal_rep_id(id_number: str) -> QuerySet[Enterprise]:
    """Enterprises whose legal representative has this ID number (exact match on the keyed HMAC;
    nothing is decrypted)."""
    return Enterprise.objects.filter(legal_rep_id_hash=pii.id_lookup_hash(id_number))
