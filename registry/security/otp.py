"""Second factor (TOTP through django-otp) before any approval or payment.

Services take ``actor`` and cannot see a session, so the check lives at the view/admin layer:

- ``user_passed_second_factor(request_or_user)``: bool.  A request (Django or DRF) or the
  ``request.user`` that ``django_otp.middleware.OTPMiddleware`` annotated; a user loaded any
  other way never counts as verified.
- ``ensure_second_factor(request)`` / ``require_verified_otp(request)``: raise PermissionDenied
  with a Chinese message unless verified.  ``require_verified_otp`` also works as a view
  decorator (``@require_verified_otp``).
- ``second_factor_required``: decorator for views and admin actions that sends an unverified
  user to the verify page (with ``next``) instead of a 403.
- ``IsOTPVerified``: DRF permission class.
- ``ApprovalSecondFactorMiddleware`` (registry.security.middleware) guards the whole admin:
  POSTed admin actions named ``approve…``/``pay…`` and admin URLs ending in ``approve/`` or
  ``pay/`` need the second factor even if a view forgets to ask.

``settings.OTP_REQUIRED_FOR_APPROVALS`` (default True; env ``DJANGO_OTP_REQUIRED_FOR_APPROVALS``)
switches the requirement off for a demo; ``manage.py check --deploy`` warns when it is off.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from rest_framework.permissions import BasePermission

MESSAGE = "审批、支付等操作须先完成双因素认证（动态口令）验证。"


def otp_required() -> bool:
    return bool(getattr(settings, "OTP_REQUIRED_FOR_APPROVALS", True))


def _user_of(request_or_user: Any) -> Any:
    # A Django HttpRequest or a DRF Request carries .user; a user does not.
    if isinstance(request_or_user, HttpRequest) or hasattr(request_or_user, "_request"):
        return getattr(request_or_user, "user", None)
    return request_or_user


def user_passed_second_factor(request_or_user: Any) -> bool:
    """True when the session's user verified a TOTP device (or OTP is not required)."""
    if not otp_required():
        return True
    user = _user_of(request_or_user)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified):
        return bool(is_verified())
    return getattr(user, "otp_device", None) is not None


def ensure_second_factor(request: Any) -> None:
    """Raise PermissionDenied (Chinese message) unless the request's user is OTP-verified."""
    if not user_passed_second_factor(request):
        raise PermissionDenied(MESSAGE)


def _find_request(args: tuple[Any, ...]) -> Any:
    for arg in args:
        if isinstance(arg, HttpRequest) or hasattr(arg, "_request"):
            return arg
    raise TypeError("second-factor guard: no request among the arguments")


def require_verified_otp(request_or_view: Any) -> Any:
    """``require_verified_otp(request)`` raises PermissionDenied unless verified;
    ``@require_verified_otp`` on a view (or admin action) does the same check before the call."""
    if isinstance(request_or_view, HttpRequest) or hasattr(request_or_view, "_request"):
        ensure_second_factor(request_or_view)
        return None
    view = request_or_view

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ensure_second_factor(_find_request(args))
        return view(*args, **kwargs)

    return wrapper


def verify_url(next_url: str = "") -> str:
    url = reverse("security:otp-verify")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def redirect_to_verify(request: HttpRequest, next_url: str | None = None) -> HttpResponseRedirect:
    messages.error(request, MESSAGE)
    if next_url is None:
        # after a POST, back to the page the form was on (the verify page checks the host)
        next_url = request.get_full_path() if request.method == "GET" else ""
        next_url = next_url or request.META.get("HTTP_REFERER", "") or request.get_full_path()
    return HttpResponseRedirect(verify_url(next_url))


def second_factor_required(func: Any) -> Any:
    """For views ``(request, …)`` and admin actions ``(modeladmin, request, queryset)``:
    an unverified user is sent to the verify page and the function does not run."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request = _find_request(args)
        if not user_passed_second_factor(request):
            return redirect_to_verify(getattr(request, "_request", request))
        return func(*args, **kwargs)

    return wrapper


class IsOTPVerified(BasePermission):
    """DRF: the session user passed the second factor (token clients never have)."""

    message = MESSAGE

    def has_permission(self, request, view) -> bool:
        return user_passed_second_factor(request)
