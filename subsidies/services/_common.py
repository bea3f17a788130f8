"""Small helpers shared by the subsidies services."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from registry.errors import BusinessError
from registry.models import User


def require_perm(actor: User | AnonymousUser | None, codename: str, *, what: str) -> None:
    """Refuse unless ``actor`` is bureau staff holding ``subsidies.<codename>``."""
    if actor is None or not actor.is_authenticated or not actor.is_bureau or not actor.has_perm(f"subsidies.{codename}"):
        raise BusinessError(f"您没有{what}的权限", code="forbidden", permission=codename)


def require_enterprise(actor: User | AnonymousUser | None, enterprise_id: int) -> None:
    """Refuse unless ``actor`` is a user of that enterprise (same message as "not found": no probing)."""
    if actor is None or not actor.is_authenticated or actor.enterprise_id != enterprise_id:
        raise BusinessError("未找到该记录", code="not_found")
