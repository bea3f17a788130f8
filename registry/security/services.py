"""Security writes: deactivating users (ending their sessions), revealing personal information."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from registry.audit import record_event
from registry.models import Enterprise, User

from . import pii

DB_SESSION_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")
PII_PERMISSION = "registry.view_pii"


def user_sessions_end(*, user: User) -> int:
    """Delete every stored session of ``user``; the number deleted.

    With a database-backed session engine the rows are found and deleted; with any other
    engine the sessions die at their next request (ActiveUserMiddleware and Django's
    session-hash check), so nothing is counted here.
    """
    if settings.SESSION_ENGINE not in DB_SESSION_ENGINES:
        return 0
    from importlib import import_module

    from django.contrib.sessions.models import Session

    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            store(session_key=session.session_key).delete()
            ended += 1
    return ended


@transaction.atomic
def user_deactivate(*, user: User, actor: User | None) -> User:
    """Deactivate ``user`` (no login from now on) and end all their sessions."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = user_sessions_end(user=user)
    record_event(actor=actor, event_type="user.deactivated", obj=user, sessions_ended=ended)
    return user


@transaction.atomic
def enterprise_pii_reveal(*, enterprise: Enterprise, actor: User) -> dict[str, str]:
    """The legal representative's unmasked ID number and phone, for a holder of
    ``registry.view_pii``; every reveal is an audit event (which fields, never the values)."""
    if not actor.has_perm(PII_PERMISSION):
        raise PermissionDenied("无权查看个人信息明文")
    values = {
        "legal_rep_name": enterprise.legal_rep_name,
        "legal_rep_id": pii.decrypt_or_placeholder(enterprise.legal_rep_id_encrypted),
        "legal_rep_phone": pii.decrypt_or_placeholder(enterprise.legal_rep_phone_encrypted),
    }
    record_event(
        actor=actor, event_type="enterprise.pii_revealed", obj=enterprise,
        fields=[name for name, value in values.items() if value and name != "legal_rep_name"],
    )
    return values

