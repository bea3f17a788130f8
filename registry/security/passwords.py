"""Password rules for 等保 level 3 (GB/T 22239-2019 8.1.4.1 身份鉴别).

- ``CharacterClassesValidator``: at least three of the four classes (lower case, upper case,
  digits, other characters); the length (≥ 8) is Django's MinimumLengthValidator.
- ``PasswordHistoryValidator``: none of the user's last five passwords again.  Its
  ``password_changed`` hook (Django calls it after every saved password change) records the
  new hash in ``PasswordHistory``, which also dates the password for the staff expiry.
- ``password_expires_at`` / ``password_expired``: bureau staff must change their password
  every ``PASSWORD_EXPIRY_DAYS`` (90) days; ``PasswordExpiryMiddleware`` enforces it.

docs/security.md records where this departs from OWASP ASVS 5.0 and why.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, is_password_usable
from django.core.exceptions import ValidationError
from django.utils import timezone

CLASSES = (
    ("小写字母", re.compile(r"[a-z]")),
    ("大写字母", re.compile(r"[A-Z]")),
    ("数字", re.compile(r"[0-9]")),
    ("特殊字符", re.compile(r"[^a-zA-Z0-9]")),
)


class CharacterClassesValidator:
    """At least ``min_classes`` of: lower case, upper case, digits, other characters."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        present = sum(1 for _, pattern in CLASSES if pattern.search(password))
        if present < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return f"密码须包含小写字母、大写字母、数字、特殊字符中的至少{self.min_classes}类。"


class PasswordHistoryValidator:
    """No reuse of the last ``history`` passwords (the current one included)."""

    def __init__(self, history: int = 5):
        self.history = history

    def validate(self, password: str, user=None) -> None:
        if user is None or getattr(user, "pk", None) is None:
            return
        from registry.models import PasswordHistory

        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)[: self.history]
        )
        if user.password and is_password_usable(user.password):
            hashes.append(user.password)
        if any(check_password(password, encoded) for encoded in dict.fromkeys(hashes)):
            raise ValidationError(
                f"新密码不能与最近{self.history}次使用过的密码相同。", code="password_reused"
            )

    def password_changed(self, password: str, user=None) -> None:
        if user is None or getattr(user, "pk", None) is None or not is_password_usable(user.password):
            return
        from registry.models import PasswordHistory

        PasswordHistory.objects.create(user_id=user.pk, password=user.password)
        stale = PasswordHistory.objects.filter(user_id=user.pk).values_list("pk", flat=True)[self.history :]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self) -> str:
        return f"不能使用最近{self.history}次使用过的密码。"


def password_changed_at(user) -> datetime:
    """When ``user`` last set a password (``date_joined`` if never recorded)."""
    from registry.models import PasswordHistory

    latest = PasswordHistory.objects.filter(user_id=user.pk).values_list("created_at", flat=True).first()
    return latest or user.date_joined


def password_expires_at(user) -> datetime | None:
    """None for users whose password does not expire (everyone but bureau staff)."""
    days = getattr(settings, "PASSWORD_EXPIRY_DAYS", 90)
    if not days or not user.is_staff:
        return None
    return password_changed_at(user) + timedelta(days=days)


def password_expired(user) -> bool:
    expires = password_expires_at(user)
    return expires is not None and expires <= timezone.now()
