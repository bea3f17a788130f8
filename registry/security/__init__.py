"""Security helpers for the whole project (issue 9).

Imported lazily: settings load ``registry.security.log_redaction`` before the app
registry is ready, so this package's ``__init__`` imports no model.  The names
below are the ones other apps use::

    from registry.security import (
        require_verified_otp,        # raise PermissionDenied (or decorate a view) unless OTP-verified
        ensure_second_factor,        # the admin's approval/payment guard (raises PermissionDenied)
        second_factor_required,      # decorator for views and admin actions (redirects to verify)
        user_passed_second_factor,   # bool, for a request or a request's user
        IsOTPVerified,               # DRF permission class
        safe_cell,                   # spreadsheet formula-injection guard for exports
        mask_id, mask_phone,         # PII masking
        user_deactivate,             # deactivate a user and end their sessions
    )
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "require_verified_otp": "registry.security.otp",
    "ensure_second_factor": "registry.security.otp",
    "second_factor_required": "registry.security.otp",
    "user_passed_second_factor": "registry.security.otp",
    "IsOTPVerified": "registry.security.otp",
    "safe_cell": "registry.security.spreadsheet",
    "mask_id": "registry.security.pii",
    "mask_phone": "registry.security.pii",
    "mask_name": "registry.security.pii",
    "user_deactivate": "registry.security.services",
    "enterprise_pii_reveal": "registry.security.services",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'registry.security' has no attribute {name!r}")
    return getattr(import_module(module), name)
