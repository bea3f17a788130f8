"""Security middleware (order in settings.MIDDLEWARE matters; see docs/security.md).

- ``ContentSecurityPolicyMiddleware``: Content-Security-Policy (no inline script) and
  Permissions-Policy on every response.
- ``ActiveUserMiddleware``: ends the session of a user who was deactivated (or deleted).
- ``PasswordExpiryMiddleware``: bureau staff whose password is older than 90 days may only
  change it (other pages redirect to the password-change page; the API answers 403).
- ``ApprovalSecondFactorMiddleware``: the admin-wide second-factor guard for approval and
  payment actions: POSTed admin actions named ``approve…``/``pay…`` or declared with
  ``@admin.action(permissions=["approve…"/"pay…"])``, and admin URLs ending ``approve…/``/``pay…/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone

from .otp import redirect_to_verify, user_passed_second_factor
from .passwords import password_expires_at

DEFAULT_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
DEFAULT_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def build_csp(directives: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(values)}".strip() for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds ``Content-Security-Policy`` (settings.CSP_DIRECTIVES) unless the view set one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = build_csp(getattr(settings, "CSP_DIRECTIVES", DEFAULT_CSP))
        self.header = (
            "Content-Security-Policy-Report-Only" if getattr(settings, "CSP_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )
        self.permissions_policy = getattr(settings, "PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header not in response:
            response[self.header] = self.policy
        if self.permissions_policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.permissions_policy
        return response


class ActiveUserMiddleware:
    """A session whose user was deactivated or deleted is flushed (logged out) at once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) is not None:
            user = request.user
            if not user.is_authenticated:
                session.flush()
            elif not user.is_active:
                logout(request)
        return self.get_response(request)


def _reverse_all(names: tuple[str, ...]) -> set[str]:
    paths = set()
    for name in names:
        try:
            paths.add(reverse(name))
        except NoReverseMatch:
            continue
    return paths


class PasswordExpiryMiddleware:
    """Staff with an expired password are sent to the password-change page."""

    SESSION_CACHE_KEY = "_security_password_expiry"
    ALLOWED = ("password_change", "password_change_done", "logout", "admin:logout",
               "admin:password_change", "admin:password_change_done")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self._allowed: set[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None and user.is_authenticated and user.is_staff
            and request.path not in self._allowed_paths() and not request.path.startswith(settings.STATIC_URL)
            and self._expired(request, user)
        ):
            return self._refuse(request)
        return self.get_response(request)

    def _allowed_paths(self) -> set[str]:
        if self._allowed is None:
            self._allowed = _reverse_all(self.ALLOWED)
        return self._allowed

    def _expired(self, request: HttpRequest, user) -> bool:
        """Cached in the session per password (the session auth hash changes with it)."""
        marker = request.session.get(HASH_SESSION_KEY, "")
        cached = request.session.get(self.SESSION_CACHE_KEY)
        if cached and cached[0] == marker:
            expires = datetime.fromisoformat(cached[1]) if cached[1] else None
        else:
            expires = password_expires_at(user)
            request.session[self.SESSION_CACHE_KEY] = [marker, expires.isoformat() if expires else None]
        return expires is not None and expires <= timezone.now()

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        text = f"密码已超过{settings.PASSWORD_EXPIRY_DAYS}天未修改，请先修改密码。"
        if request.path.startswith("/api/"):
            return JsonResponse({"errors": [{"code": "password_expired", "message": text, "rule": "", "detail": {}}]},
                                status=403)
        messages.warning(request, text)
        return HttpResponseRedirect(reverse("password_change"))


_APPROVAL_PATH = re.compile(r"/(approve|pay)[\w-]*/$")
_APPROVAL_ACTION = re.compile(r"^(approve|pay)")


class ApprovalSecondFactorMiddleware:
    """Admin-wide guard: approval/payment POSTs need the second factor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and self._is_approval(request) and not user_passed_second_factor(request):
            return redirect_to_verify(request)
        return self.get_response(request)

    @staticmethod
    def _is_approval(request: HttpRequest) -> bool:
        try:
            admin_root = reverse("admin:index")
        except NoReverseMatch:
            return False
        if not request.path.startswith(admin_root):
            return False
        if _APPROVAL_PATH.search(request.path):
            return True
        # Reading the form here is what CsrfViewMiddleware does for every POST anyway; any
        # encoding (urlencoded or multipart) counts, so the guard cannot be side-stepped.
        action = request.POST.get("action", "")
        if not action:
            return False
        if _APPROVAL_ACTION.match(action):
            return True
        return any(_APPROVAL_ACTION.match(p) for p in _action_permissions(request, action))


def _action_permissions(request: HttpRequest, action: str) -> tuple[str, ...]:
    """The ``permissions=[…]`` of the admin action ``action`` posted to this changelist."""
    try:
        match = resolve(request.path)
    except Resolver404:
        return ()
    model_admin = getattr(match.func, "model_admin", None)
    if model_admin is None or not request.user.is_authenticated:
        return ()
    found = model_admin.get_actions(request).get(action)
    return tuple(getattr(found[0], "allowed_permissions", ())) if found else ()
